import Foundation
import Testing

/// The epoch commands end to end on real processes: a five-node `chorusd devnet` with 8-second
/// epochs and a `chorusd run --verify-only` auditor beside it; `chorus epoch export`, `chorus epoch
/// verify` (honest and tampered), `chorus audit`, `chorus refuse` / `delegate`, and the roles in
/// `chorus status`.
@Suite(.serialized) struct EpochCLITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The devnet network file with 8-second epochs (the devnet rewrites its genesis time).
    static func shortEpochNetworkFile(_ path: String) throws {
        let text = try String(contentsOfFile: packageRoot.appendingPathComponent("Network/devnet/network.toml").path, encoding: .utf8)
        let replacements = [
            "beacon_reveal_ms": "500", "generation_ms": "2000", "validation_ms": "1500", "tally_ms": "3000",
            "inference_ms": "1500", "window_ms": "1000",
        ]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            for (key, value) in replacements where line.hasPrefix(key + " ") { return "\(key) = \(value)" }
            return String(line)
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func run(_ arguments: [String], binary: String = "chorus") throws -> ChorusBinaryForTests.Result {
        try ChorusBinaryForTests.run(arguments, binary: binary)
    }

    static func object(_ result: ChorusBinaryForTests.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout) \(result.stderr)")
    }

    @Test func exportVerifyAuditAndDeclareOnADevnet() throws {
        let dir = try TemporaryDirectoryForTests()
        let template = dir.file("short.toml")
        try Self.shortEpochNetworkFile(template)
        let base = try DaemonCLITests.freePortRange(count: 6)
        let devnetBinary = try #require(ChorusBinaryForTests.url(of: "chorusd"))
        let devnet = Process()
        devnet.executableURL = devnetBinary
        devnet.arguments = ["devnet", "--nodes", "5", "--dir", dir.file("dn"), "--base-port", "\(base)", "--duration", "60",
                            "--interval", "5", "--json", "--no-poc", "--network-file", template,
                            "--api-base-port", "0"]  // the API's default ports are fixed: any devnet running here holds them
        devnet.standardOutput = FileHandle.nullDevice
        devnet.standardError = FileHandle.nullDevice
        try devnet.run()
        defer { if devnet.isRunning { devnet.interrupt(); devnet.waitUntilExit() } }
        let node1 = dir.file("dn/node-1")
        let networkFile = dir.file("dn/network.toml")
        #expect(DaemonCLITests.waitUntil(.seconds(20)) { FileManager.default.fileExists(atPath: networkFile) && ((try? Self.run(["--data-dir", node1, "status"]))?.status == 0) })

        // The auditor: its own data directory, seeded with node 1.
        let auditorDir = dir.file("auditor")
        let auditorPort = base + 6
        #expect(try Self.run(["init", "--data-dir", auditorDir, "--listen", "127.0.0.1:\(auditorPort)"], binary: "chorusd").status == 0)
        let auditor = try DaemonCLITests.DaemonForTests(dataDir: auditorDir, arguments: [
            "--verify-only", "--network-file", networkFile, "--seed", "127.0.0.1:\(base + 1)"])
        defer { auditor.kill9() }
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { (try? Self.run(["--data-dir", auditorDir, "status"]))?.status == 0 })
        #expect(try Self.object(try Self.run(["--data-dir", auditorDir, "status", "--json"]))["role"] as? String == "verify-only")
        #expect(try Self.object(try Self.run(["--data-dir", node1, "status", "--json"]))["role"] as? String == "participant")

        // Epoch 1 final on node 1: export it, verify it (embedded network file), tamper with it.
        #expect(DaemonCLITests.waitUntil(.seconds(40)) {
            ((try? Self.object(try Self.run(["--data-dir", node1, "epoch", "show", "1", "--json"])))?["final"] as? Bool) == true
        })
        let exportPath = dir.file("epoch-1.json")
        let exported = try Self.run(["--data-dir", node1, "epoch", "export", "1", "--out", exportPath, "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let verified = try Self.run(["epoch", "verify", exportPath, "--json"])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(try Self.object(verified)["matches"] as? Bool == true)
        #expect(try Self.run(["epoch", "verify", exportPath, "--network-file", networkFile]).status == 0)
        var document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: exportPath))) as? [String: Any])
        let signatures = try #require(document["certificate"] as? [String])
        document["certificate"] = Array(signatures.prefix(1))
        let tamperedPath = dir.file("tampered.json")
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: tamperedPath))
        let tampered = try Self.run(["epoch", "verify", tamperedPath, "--json"])
        #expect(tampered.status == 1)
        #expect(try Self.object(tampered)["matches"] as? Bool == false)
        #expect(try Self.run(["epoch", "verify", dir.file("missing.json")]).status == 2)

        // The auditor re-derives epoch 1 and agrees with the certificate.
        #expect(DaemonCLITests.waitUntil(.seconds(30)) { FileManager.default.fileExists(atPath: auditorDir + "/audit/epoch-1.json") })
        let audit = try Self.run(["--data-dir", auditorDir, "audit", "1", "--json"])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
        let report = try Self.object(audit)
        #expect(report["matches"] as? Bool == true)
        #expect((report["certificate_signers"] as? [Any])?.isEmpty == false)
        #expect(FileManager.default.fileExists(atPath: auditorDir + "/audit/epoch-1.html"))
        // It signed nothing: its key is not the author of any statement node 1 delivered.
        let auditorKey = try #require(try Self.object(try Self.run(["--data-dir", auditorDir, "status", "--json"]))["public_key"] as? String)
        let messages = try #require(try JSONSerialization.jsonObject(with: Data(try Self.run(["--data-dir", node1, "messages", "--json"]).stdout.utf8)) as? [[String: Any]])
        #expect(!messages.isEmpty && !messages.contains { $0["author"] as? String == auditorKey })
        // Declarations go through the node; an auditor refuses to sign one.
        let model = "chorus/synthetic-devnet"
        let refused = try Self.run(["--data-dir", dir.file("dn/node-2"), "refuse", model, "--json"])
        #expect(refused.status == 0, "\(refused.stderr)")
        #expect(try Self.object(refused)["action"] as? String == "refuse")
        #expect(try Self.run(["--data-dir", dir.file("dn/node-2"), "delegate", model, "not-a-key"]).status == 2)
        #expect(try Self.run(["--data-dir", auditorDir, "intent", model]).status == 1)
    }
}
