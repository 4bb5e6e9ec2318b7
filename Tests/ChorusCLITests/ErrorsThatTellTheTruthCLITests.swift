import Foundation
import Testing

/// The rest of issue 14's "errors that tell the truth" (CLIErrorMessageTests has the others): a
/// node on another network file than its peers', `worker score`'s token text, the worker
/// commands' examples, and a port below 1024.
@Suite struct ErrorsThatTellTheTruthCLITests {
    /// The devnet's template with `genesis_time` moved, as `chorusd devnet` writes DIR/network.toml.
    static func networkFile(genesisIn seconds: TimeInterval, at path: String) throws {
        let template = try String(contentsOf: OperatorCLITests.packageRoot.appendingPathComponent("Network/devnet/network.toml"), encoding: .utf8)
        let genesis = Date().addingTimeInterval(seconds).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
        try template.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("genesis_time") ? "genesis_time = \(genesis)Z" : String($0) }
            .joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func status(_ dataDir: String) -> [String: Any]? {
        (try? DaemonCLITests.json(["--data-dir", dataDir, "status", "--json"])) as? [String: Any]
    }

    /// A node started with another network file than its peers' (here the repository's template
    /// instead of the file a devnet wrote) sat at a far epoch saying only "own weight table
    /// differs". Now both sides close the session at the handshake, name both parameter digests and
    /// genesis times in the log and in `chorus status`, and the node that dialed stops dialing;
    /// a node with the same file as the first connects as before.
    @Test func aNodeOnAnotherNetworkFileIsToldSoAndStopsTrying() throws {
        let dir = try TemporaryDirectoryForTests()
        let devnetFile = dir.file("network.toml")
        try Self.networkFile(genesisIn: 3600, at: devnetFile)
        let template = OperatorCLITests.packageRoot.appendingPathComponent("Network/devnet/network.toml").path
        let first = dir.file("first"), stale = dir.file("stale"), same = dir.file("same")
        let port = try DaemonCLITests.freePort()
        for (dataDir, listen) in [(first, "127.0.0.1:\(port)"), (stale, "127.0.0.1:0"), (same, "127.0.0.1:0")] {
            let result = try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", listen], binary: "chorusd")
            #expect(result.status == 0, "\(result.stderr)")
        }
        let firstNode = try DaemonCLITests.DaemonForTests(dataDir: first, arguments: ["--network-file", devnetFile])
        defer { firstNode.kill9() }
        #expect(DaemonCLITests.waitUntil(.seconds(20)) { Self.status(first) != nil })
        let firstKey = try #require(Self.status(first)?["public_key"] as? String)
        let staleNode = try DaemonCLITests.DaemonForTests(dataDir: stale, arguments: ["--network-file", template, "--seed", "127.0.0.1:\(port)"])
        defer { staleNode.kill9() }

        var mismatch: [String: Any] = [:]
        #expect(DaemonCLITests.waitUntil(.seconds(20)) {
            guard let list = Self.status(stale)?["network_mismatches"] as? [[String: Any]], let entry = list.first else { return false }
            mismatch = entry
            return true
        })
        #expect(mismatch["peer"] as? String == firstKey, "\(mismatch)")
        let ownDigest = try #require(mismatch["own_parameters_digest"] as? String)
        let peerDigest = try #require(mismatch["peer_parameters_digest"] as? String)
        #expect(ownDigest.count == 64 && peerDigest.count == 64 && ownDigest != peerDigest)
        #expect(mismatch["own_genesis"] as? String != mismatch["peer_genesis"] as? String)
        // The first node saw the same from its side.
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { (Self.status(first)?["network_mismatches"] as? [[String: Any]])?.count == 1 })
        let firstSide = try #require((Self.status(first)?["network_mismatches"] as? [[String: Any]])?.first)
        #expect(firstSide["own_parameters_digest"] as? String == peerDigest && firstSide["peer_parameters_digest"] as? String == ownDigest)

        // No session, and both stopped dialing: the dials and closed sessions are the same three
        // seconds later (the redial backoff starts at a second). A session may have come up before
        // the stale node attached its epochs (chorusd dials its seeds first) and the first node
        // may have dialed back once: each was closed the same way.
        func dialsAndCloses() -> [Int?] {
            [first, stale].flatMap { dataDir -> [Int?] in
                let status = Self.status(dataDir)
                return [(status?["counters"] as? [String: Any])?["dials_attempted"] as? Int,
                        (status?["network_mismatches"] as? [[String: Any]])?.first?["sessions_closed"] as? Int]
            }
        }
        let before = dialsAndCloses()
        Thread.sleep(forTimeInterval: 3)
        #expect(dialsAndCloses() == before && !before.contains(nil), "\(before)")
        #expect(Self.status(stale)?["peer_count"] as? Int == 0 && Self.status(first)?["peer_count"] as? Int == 0)

        // Said in words: `chorus status` and the log.
        let text = try ChorusBinaryForTests.run(["--data-dir", stale, "status"])
        #expect(text.stdout.contains("NETWORK FILE   differs from peer \(firstKey.prefix(16))'s"), "\(text.stdout)")
        #expect(text.stdout.contains("parameters digest \(ownDigest.prefix(16))") && text.stdout.contains("same --network-file"), "\(text.stdout)")
        let log = try String(contentsOfFile: stale + "/daemon.log", encoding: .utf8)
        #expect(log.contains("this node's network file differs from peer \(firstKey.prefix(16))'s"), "\(log)")
        #expect(log.contains("not dialed again") && log.contains("DIR/network.toml"), "\(log)")

        // A node started with the devnet's own file joins as before.
        let sameNode = try DaemonCLITests.DaemonForTests(dataDir: same, arguments: ["--network-file", devnetFile, "--seed", "127.0.0.1:\(port)"])
        defer { sameNode.kill9() }
        #expect(DaemonCLITests.waitUntil(.seconds(20)) { DaemonCLITests.peerKeys(same) == [firstKey] })
        // It may have learned the stale node's address from the first and been refused by it too,
        // but never by the first node.
        let sameMismatches = Self.status(same)?["network_mismatches"] as? [[String: Any]] ?? []
        #expect(!sameMismatches.contains { $0["peer"] as? String == firstKey }, "\(sameMismatches)")
    }

    /// The documented commands name the file a devnet writes (DIR/network.toml, here ./devnet):
    /// the repository's Network/devnet/network.toml is only its template, with another genesis.
    @Test func documentedCommandsUseTheDevnetsOwnNetworkFile() throws {
        let help = try ChorusBinaryForTests.run(["epoch", "verify", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--network-file devnet/network.toml"), "\(help.stdout)")
        let readme = try String(contentsOf: OperatorCLITests.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("--network-file devnet/network.toml --seed 127.0.0.1:7701"))
        #expect(!readme.contains("chorusd run ... --network-file Network/devnet/network.toml "))
    }

    /// `worker score` printed token ids alone; each id now comes with its text, quoted.
    @Test func workerScoreShowsEachTokensText() throws {
        let result = try ChorusBinaryForTests.run(["worker", "score", "--model", "synthetic:tiny", "--prompt", "ab", "--completion", "cde",
                                                   "--top-logprobs", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        for (line, (id, text)) in zip(lines, [(99, "c"), (100, "d"), (101, "e")]) {
            #expect(line.hasPrefix("\(id) \"\(text)\"\t"), "\(line)")
            // Two alternatives, each `id "text" logprob`.
            let alternatives = line.split(separator: "\t").last?.split(separator: ",") ?? []
            #expect(alternatives.count == 2 && alternatives.allSatisfy { $0.contains("\"") }, "\(line)")
        }
    }

    /// `worker generate --help` and `worker score --help` had no examples.
    @Test(arguments: ["generate", "score"])
    func workerHelpHasExamples(command: String) throws {
        let help = try ChorusBinaryForTests.run(["worker", command, "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("EXAMPLES:") && help.stdout.contains("chorus worker \(command) --model"), "\(help.stdout)")
    }

    /// Listening on a port below 1024 without the privilege names the cause and the fix. Root may
    /// bind anywhere, so as root the worker runs as `nobody`; skipped where unprivileged users may
    /// bind low ports (`net.ipv4.ip_unprivileged_port_start`, 0 in many containers).
    @Test func aPrivilegedPortIsExplained() throws {
        let start = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1024
        guard start > 1 else { return }
        let dir = try TemporaryDirectoryForTests()
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
        let arguments = ["worker", "serve", "--listen", "127.0.0.1:1", "--token-file", dir.file("worker.token")]
        let result: ChorusBinaryForTests.Result
        if getuid() == 0 {
            guard let asNobody = try CLIErrorMessageTests.runAsNobody(arguments, binary: "chorusd") else { return }
            result = asNobody
        } else {
            result = try ChorusBinaryForTests.run(arguments, binary: "chorusd")
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:1: permission denied (ports below 1024 need privileges; "
            + "pick a port of 1024 or more with --listen)"), "\(result.stderr)")
    }
}
