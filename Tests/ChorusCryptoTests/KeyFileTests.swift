import ChorusCrypto
import Foundation
import Testing

/// A fresh directory per test, removed afterwards.
struct TemporaryDirectoryForTests: ~Copyable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("chorus-crypto-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("KeyFile")
struct KeyFileTests {
    private func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    private func write(_ text: String, to path: String, mode: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    private func reason(_ path: String) -> String? {
        do {
            _ = try KeyFile.read(path)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func writeCreatesMode0600AndReadsBack() throws {
        let dir = try TemporaryDirectoryForTests()
        let path = dir.file("node.key")
        let key = Ed25519.SigningKey.generate()
        try KeyFile.write(key, to: path)
        #expect(try mode(path) == 0o600)
        let loaded = try KeyFile.read(path)
        #expect(loaded.publicKey == key.publicKey)
        #expect(loaded.seed.constantTimeEquals(key.seed))
    }

    @Test func writeRefusesToOverwrite() throws {
        let dir = try TemporaryDirectoryForTests()
        let path = dir.file("node.key")
        let first = Ed25519.SigningKey.generate()
        try KeyFile.write(first, to: path)
        #expect(throws: CryptoError.self) { try KeyFile.write(Ed25519.SigningKey.generate(), to: path) }
        do {
            try KeyFile.write(Ed25519.SigningKey.generate(), to: path)
        } catch {
            #expect(error.description.contains("already exists"))
        }
        #expect(try KeyFile.read(path).publicKey == first.publicKey)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o606])
    func readRefusesFilesOthersCanAccess(mode: Int) throws {
        let dir = try TemporaryDirectoryForTests()
        let path = dir.file("node.key")
        try KeyFile.write(Ed25519.SigningKey.generate(), to: path)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let message = try #require(reason(path))
        #expect(message.contains("chmod 600"))
        #expect(message.contains(path))
    }

    @Test func readRefusesAMissingFile() throws {
        let dir = try TemporaryDirectoryForTests()
        let message = try #require(reason(dir.file("absent.key")))
        #expect(message.contains("cannot open"))
    }

    @Test(arguments: [
        ("hello, world\n", "no `ed25519-seed:` line"),
        ("ed25519-seed: 0123\n", "64 hex characters"),
        ("ed25519-seed: " + String(repeating: "zz", count: 32) + "\n", "not valid hex"),
        ("", "no `ed25519-seed:` line"),
    ])
    func readRefusesCorruptContent(content: String, expected: String) throws {
        let dir = try TemporaryDirectoryForTests()
        let path = dir.file("corrupt.key")
        try write(content, to: path, mode: 0o600)
        let message = try #require(reason(path))
        #expect(message.contains(expected), "\(message)")
    }

    @Test func readAcceptsTheDocumentedFormat() throws {
        let dir = try TemporaryDirectoryForTests()
        let path = dir.file("handmade.key")
        // RFC 8032 TEST 1 seed, upper-case hex and a CRLF line ending are accepted.
        try write("# comment\r\ned25519-seed: 9D61B19DEFFD5A60BA844AF492EC2CC44449C5697B326919703BAC031CAE7F60\r\n", to: path, mode: 0o600)
        #expect(try KeyFile.read(path).publicKey.hex == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    }
}
