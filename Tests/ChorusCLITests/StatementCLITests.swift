import Foundation
import Testing

@Suite("chorus statement (end to end)")
struct StatementCLITests {
    @Test func signedStatementDecodesToItsFields() throws {
        let dir = try TemporaryDirectoryForTests()
        let key = try dir.write(Array("ed25519-seed: \(String(repeating: "01", count: 32))\n".utf8), to: "k.key", mode: 0o600)
        let signed = try ChorusBinaryForTests.run([
            "statement", "sign", "--key", key, "--network", "chorus-devnet", "--type", "text",
            "--epoch", "7", "--seq", "1", "--data", "hello",
        ])
        #expect(signed.status == 0, "\(signed.stderr)")
        let hex = signed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The first valid vector of Specs/vectors/statements.json has exactly these inputs.
        #expect(hex.hasPrefix("010d00000063686f7275732d6465766e657404000000746578740700000000000000"))

        let decoded = try ChorusBinaryForTests.run(["statement", "decode", "--hex"], stdin: Array(hex.utf8))
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let object = try jsonObject(decoded.stdout)
        #expect(object["type"] as? String == "text")
        #expect(object["network_id"] as? String == "chorus-devnet")
        #expect(object["epoch"] as? Int == 7 && object["seq"] as? Int == 1 && object["version"] as? Int == 1)
        #expect(object["author"] as? String == "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")
        #expect(object["body_text"] as? String == "hello" && object["body_hex"] as? String == "68656c6c6f")
        #expect(object["id"] as? String == "439c07553f3fecde84b0da2f17ab57d077ef64d81006ba5419ad062b9ba0fc9b")
    }

    @Test func binaryFilesRoundTripAndBinaryBodiesHaveNoText() throws {
        let dir = try TemporaryDirectoryForTests()
        let keyPath = dir.file("k.key")
        _ = try ChorusBinaryForTests.run(["key", "new", "--out", keyPath])
        let body = try dir.write([0xff, 0x00, 0xfe], to: "body.bin")
        let signed = try ChorusBinaryForTests.run([
            "statement", "sign", "--key", keyPath, "--network", "n", "--type", "vote", "--epoch", "0", "--seq", "9",
            "--in", body, "--out", dir.file("s.stmt"), "--json",
        ])
        #expect(signed.status == 0, "\(signed.stderr)")
        let id = try #require(try jsonObject(signed.stdout)["id"] as? String)
        let decoded = try jsonObject(try ChorusBinaryForTests.run(["statement", "decode", "--in", dir.file("s.stmt")]).stdout)
        #expect(decoded["id"] as? String == id)
        #expect(decoded["body_hex"] as? String == "ff00fe")
        #expect(decoded["body_text"] == nil)
    }

    @Test(arguments: [
        ("01", "truncated"),
        ("02", "unknown-version"),
        ("zz", "not hex"),
    ])
    func undecodableInputExits1WithAPreciseError(input: String, reason: String) throws {
        let result = try ChorusBinaryForTests.run(["statement", "decode", "--hex"], stdin: Array(input.utf8))
        #expect(result.status == 1)
        #expect(result.stderr.contains(reason), "\(result.stderr)")
    }

    @Test func tamperedStatementExits1WithBadSignature() throws {
        let dir = try TemporaryDirectoryForTests()
        let keyPath = dir.file("k.key")
        _ = try ChorusBinaryForTests.run(["key", "new", "--out", keyPath])
        let signed = try ChorusBinaryForTests.run([
            "statement", "sign", "--key", keyPath, "--network", "n", "--type", "text", "--epoch", "1", "--seq", "1", "--data", "abc",
        ])
        var hex = Array(signed.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        hex[hex.count - 1] = hex[hex.count - 1] == "0" ? "1" : "0"
        let result = try ChorusBinaryForTests.run(["statement", "decode", "--hex"], stdin: Array(String(hex).utf8))
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad-signature"))
    }

    @Test(arguments: [
        (["--type", "Text", "--data", "x"], "--type"),
        (["--type", "text", "--network", "Bad Net", "--data", "x"], "network id"),
        (["--type", "text"], "exactly one of --data or --in"),
        (["--type", "text", "--data", "x", "--in", "/dev/null"], "exactly one of --data or --in"),
    ])
    func malformedStatementArgumentsExit2(extra: [String], reason: String) throws {
        let dir = try TemporaryDirectoryForTests()
        let keyPath = dir.file("k.key")
        _ = try ChorusBinaryForTests.run(["key", "new", "--out", keyPath])
        var arguments = ["statement", "sign", "--key", keyPath, "--epoch", "0", "--seq", "0"] + extra
        if !extra.contains("--network") { arguments += ["--network", "n"] }
        let result = try ChorusBinaryForTests.run(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(reason), "\(result.stderr)")
    }
}
