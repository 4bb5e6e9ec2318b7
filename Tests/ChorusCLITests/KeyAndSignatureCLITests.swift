import Foundation
import Testing

@Suite("chorus key / sign / verify (end to end)")
struct KeyAndSignatureCLITests {
    /// RFC 8032 §7.1 TEST 2, for checking the CLI against a published signature.
    static let rfcSeed = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
    static let rfcPublicKey = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
    static let rfcSignature = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"

    private func rfcKeyFile(in dir: borrowing TemporaryDirectoryForTests) throws -> String {
        try dir.write(Array("ed25519-seed: \(Self.rfcSeed)\n".utf8), to: "rfc.key", mode: 0o600)
    }

    @Test func keyNewCreatesAPrivateFileAndShowPrintsItsPublicKey() throws {
        let dir = try TemporaryDirectoryForTests()
        let created = try ChorusBinaryForTests.run(["key", "new", "--out", dir.file("node.key"), "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let publicKey = try #require(try jsonObject(created.stdout)["public_key"] as? String)
        #expect(publicKey.count == 64)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("node.key"))[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let shown = try ChorusBinaryForTests.run(["key", "show", dir.file("node.key"), "--json"])
        #expect(shown.status == 0)
        let object = try jsonObject(shown.stdout)
        #expect(object.count == 1 && object["public_key"] as? String == publicKey)
        let plain = try ChorusBinaryForTests.run(["key", "show", dir.file("node.key")])
        #expect(plain.stdout == publicKey + "\n")
    }

    @Test func keyNewRefusesToOverwrite() throws {
        let dir = try TemporaryDirectoryForTests()
        let path = dir.file("node.key")
        _ = try ChorusBinaryForTests.run(["key", "new", "--out", path])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let again = try ChorusBinaryForTests.run(["key", "new", "--out", path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
        #expect(again.stdout.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func keyShowRefusesAFileOthersCanRead() throws {
        let dir = try TemporaryDirectoryForTests()
        let path = try dir.write(Array("ed25519-seed: \(Self.rfcSeed)\n".utf8), to: "lax.key", mode: 0o644)
        let result = try ChorusBinaryForTests.run(["key", "show", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("chmod 600"))
    }

    @Test func signReproducesRFC8032Test2() throws {
        let dir = try TemporaryDirectoryForTests()
        let key = try rfcKeyFile(in: dir)
        let message = try dir.write([0x72], to: "message.bin")
        let fromFile = try ChorusBinaryForTests.run(["sign", "--key", key, "--in", message])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout == Self.rfcSignature + "\n")
        let fromStdin = try ChorusBinaryForTests.run(["sign", "--key", key], stdin: [0x72])
        #expect(fromStdin.stdout == fromFile.stdout)
        let json = try jsonObject(try ChorusBinaryForTests.run(["sign", "--key", key, "--in", message, "--json"]).stdout)
        #expect(json["signature"] as? String == Self.rfcSignature && json["public_key"] as? String == Self.rfcPublicKey)
    }

    @Test func verifyAcceptsAValidSignature() throws {
        let dir = try TemporaryDirectoryForTests()
        let message = try dir.write([0x72], to: "message.bin")
        let result = try ChorusBinaryForTests.run(["verify", "--public-key", Self.rfcPublicKey, "--signature", Self.rfcSignature, "--in", message])
        #expect(result.status == 0)
        #expect(result.stdout == "valid\n")
        let viaStdin = try ChorusBinaryForTests.run(["verify", "--public-key", Self.rfcPublicKey, "--signature", Self.rfcSignature, "--json"], stdin: [0x72])
        #expect(viaStdin.status == 0)
        #expect(try jsonObject(viaStdin.stdout)["valid"] as? Bool == true)
    }

    @Test func verifyRejectsAnInvalidSignatureWithExit1() throws {
        let altered = try ChorusBinaryForTests.run(["verify", "--public-key", Self.rfcPublicKey, "--signature", Self.rfcSignature], stdin: [0x73])
        #expect(altered.status == 1)
        #expect(altered.stderr.contains("invalid"))
        #expect(altered.stderr.split(separator: "\n").count == 1)
        let json = try ChorusBinaryForTests.run(["verify", "--public-key", Self.rfcPublicKey, "--signature", Self.rfcSignature, "--json"], stdin: [0x73])
        #expect(json.status == 1)
        #expect(try jsonObject(json.stdout)["valid"] as? Bool == false)
    }

    @Test(arguments: [
        (["--public-key", "xyz", "--signature", rfcSignature], "--public-key"),
        (["--public-key", String(rfcPublicKey.dropLast(2)), "--signature", rfcSignature], "32 bytes"),
        (["--public-key", rfcPublicKey, "--signature", rfcSignature + "00"], "64 bytes"),
        (["--public-key", rfcPublicKey, "--signature", "0g" + String(rfcSignature.dropFirst(2))], "--signature"),
        (["--public-key", rfcPublicKey, "--signature", rfcSignature, "--in", "/nonexistent/chorus-test-input"], "cannot read"),
        (["--public-key", rfcPublicKey], "--signature"),
    ])
    func verifyExits2OnBadArguments(arguments: [String], reason: String) throws {
        let result = try ChorusBinaryForTests.run(["verify"] + arguments, stdin: [0x72])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func signFailsWithExit1OnAMissingKey() throws {
        let result = try ChorusBinaryForTests.run(["sign", "--key", "/nonexistent/chorus.key"], stdin: [1])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot open"))
    }

    @Test(arguments: [[String](), ["key"], ["key", "new"], ["key", "show"], ["sign"], ["verify"], ["statement"], ["statement", "decode"], ["statement", "sign"]])
    func everyCommandHasHelpWithExamples(path: [String]) throws {
        let result = try ChorusBinaryForTests.run(path + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("OVERVIEW:"))
        #expect(result.stdout.contains("EXAMPLES:"), "\(path)")
    }
}
