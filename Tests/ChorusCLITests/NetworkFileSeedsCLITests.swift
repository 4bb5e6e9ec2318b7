import Foundation
import Testing

/// `chorusd run --network-file`: the network file's `seeds` are dialed like `--seed`.
@Suite(.serialized) struct NetworkFileSeedsCLITests {
    @Test func aNodeFindsTheNetworkThroughTheNetworkFilesSeeds() throws {
        let dir = try TemporaryDirectoryForTests()
        let one = dir.file("n1"), two = dir.file("n2")
        let port1 = try DaemonCLITests.freePort(), port2 = try DaemonCLITests.freePort()
        var keys: [String: String] = [:]
        for (dataDir, port) in [(one, port1), (two, port2)] {
            let result = try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)", "--json"], binary: "chorusd")
            #expect(result.status == 0, "\(result.stderr)")
            keys[dataDir] = (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String])?["public_key"]
        }
        let key1 = try #require(keys[one]), key2 = try #require(keys[two])
        let devnet = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Network/devnet/network.toml")
        let text = try String(contentsOf: devnet, encoding: .utf8)
        #expect(text.contains("seeds = []\n"))
        let networkFile = try dir.write(Array(text.replacingOccurrences(of: "seeds = []\n", with: "seeds = [\"127.0.0.1:\(port1)\"]\n").utf8),
                                        to: "network.toml")

        let daemon1 = try DaemonCLITests.DaemonForTests(dataDir: one)
        // No --seed: the only way to find node 1 is the network file.
        let daemon2 = try DaemonCLITests.DaemonForTests(dataDir: two, arguments: ["--network-file", networkFile])
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { DaemonCLITests.peerKeys(one) == [key2] && DaemonCLITests.peerKeys(two) == [key1] })
        let peers = try #require(try DaemonCLITests.json(["--data-dir", two, "peers", "--json"]) as? [[String: Any]])
        #expect(peers.first?["direction"] as? String == "outbound")
        for daemon in [daemon2, daemon1] {
            daemon.process.terminate()
            daemon.process.waitUntilExit()
        }
    }
}
