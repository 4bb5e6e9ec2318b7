import Foundation
import Testing

/// `chorus audit` without a report says why: no node runs there, the node is not an auditor, or
/// the auditor has not seen a final epoch yet (here: before genesis).
@Suite struct AuditErrorCLITests {
    @Test func noReportSaysWhetherTheNodeIsAnAuditorAndWhereItIs() throws {
        let dir = try TemporaryDirectoryForTests()
        let auditor = dir.file("auditor"), relay = dir.file("relay")
        for dataDir in [auditor, relay] {
            let port = try DaemonCLITests.freePort()
            #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)"], binary: "chorusd").status == 0)
        }
        let stopped = try ChorusBinaryForTests.run(["audit", "--data-dir", auditor])
        #expect(stopped.status == 1)
        #expect(stopped.stderr.contains("no node answers") && stopped.stderr.contains("--verify-only"), "\(stopped.stderr)")

        // The devnet's network file with its genesis an hour ahead: no epoch can be final.
        let template = try String(contentsOf: OperatorCLITests.packageRoot.appendingPathComponent("Network/devnet/network.toml"), encoding: .utf8)
        let genesis = Date().addingTimeInterval(3600).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
        let networkFile = dir.file("network.toml")
        try template.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("genesis_time") ? "genesis_time = \(genesis)Z" : String($0) }
            .joined(separator: "\n").write(toFile: networkFile, atomically: true, encoding: .utf8)
        let auditorNode = try DaemonCLITests.DaemonForTests(dataDir: auditor, arguments: ["--verify-only", "--network-file", networkFile])
        defer { auditorNode.kill9() }
        let relayNode = try DaemonCLITests.DaemonForTests(dataDir: relay)
        defer { relayNode.kill9() }
        for dataDir in [auditor, relay] {
            #expect(DaemonCLITests.waitUntil(.seconds(20)) { (try? ChorusBinaryForTests.run(["--data-dir", dataDir, "status"]))?.status == 0 })
        }

        let early = try ChorusBinaryForTests.run(["audit", "--data-dir", auditor])
        #expect(early.status == 1)
        #expect(early.stderr.contains("no audit report yet: this auditor writes one as each epoch becomes final"), "\(early.stderr)")
        #expect(early.stderr.contains("genesis has not come yet"), "\(early.stderr)")
        let participant = try ChorusBinaryForTests.run(["audit", "--data-dir", relay])
        #expect(participant.status == 1)
        #expect(participant.stderr.contains("this node runs as relay, and only a verify-only node"), "\(participant.stderr)")
    }
}
