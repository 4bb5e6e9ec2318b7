import Foundation
import Testing

/// `chorusd run` as an operator drives it: SIGHUP applies a changed config.toml to the running
/// process (log level, seeds, API keys), a config that does not parse changes nothing, SIGTERM
/// stops the parts in the reverse of their start order, and the JSON-lines log file stays under
/// its bound. Each test runs real `chorusd` processes on loopback.
@Suite(.serialized) struct RunLifecycleCLITests {
    typealias Daemon = DaemonCLITests.DaemonForTests

    @Test func sighupReloadsLogLevelSeedsAndAPIKeysWithoutARestart() throws {
        let dir = try TemporaryDirectoryForTests()
        let one = dir.file("n1"), two = dir.file("n2")
        let port1 = try DaemonCLITests.freePort(), port2 = try DaemonCLITests.freePort(), apiPort = try DaemonCLITests.freePort()
        var keys: [String] = []
        for (dataDir, port) in [(one, port1), (two, port2)] {
            let result = try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)", "--json"], binary: "chorusd")
            #expect(result.status == 0, "\(result.stderr)")
            keys.append(try #require(try jsonObject(result.stdout)["public_key"] as? String))
        }
        let config = one + "/config.toml"
        let original = try String(contentsOfFile: config, encoding: .utf8)
        try "old-key\n".write(toFile: one + "/api.keys", atomically: true, encoding: .utf8)
        // Top-level keys go before the file's tables.
        try ("api_listen = \"127.0.0.1:\(apiPort)\"\napi_keys_file = \"api.keys\"\nlog_file = \"chorusd.jsonl\"\n" + original)
            .write(toFile: config, atomically: true, encoding: .utf8)

        let daemon1 = try Daemon(dataDir: one), daemon2 = try Daemon(dataDir: two)
        defer {
            for daemon in [daemon1, daemon2] where daemon.process.isRunning {
                daemon.process.terminate()
                daemon.process.waitUntilExit()
            }
        }
        let pid = daemon1.process.processIdentifier
        try #require(DaemonCLITests.waitUntil(.seconds(10)) { Self.status(apiPort, key: "old-key") == 200 }, "\(Self.log(one).suffix(3))")
        #expect(Self.status(apiPort, key: "new-key") == 401)
        #expect(DaemonCLITests.peerKeys(one).isEmpty)

        // A config that does not parse: the reload is refused with the reason, nothing changes.
        let configured = try String(contentsOfFile: config, encoding: .utf8)
        try ("log_level = \"loud\"\n" + configured).write(toFile: config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(DaemonCLITests.waitUntil(.seconds(5)) { Self.log(one).contains { ($0["message"] ?? "").hasPrefix("configuration not reloaded") } })
        let refusal = try #require(Self.log(one).first { ($0["message"] ?? "").hasPrefix("configuration not reloaded") })
        #expect(refusal["message"]?.contains("log_level: \"loud\": expected one of trace, debug, info") == true, "\(refusal)")
        #expect(Self.status(apiPort, key: "old-key") == 200)

        // A keys file with no key: the old key stays in force (the API never opens by accident).
        try configured.write(toFile: config, atomically: true, encoding: .utf8)
        try "# nothing yet\n".write(toFile: one + "/api.keys", atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(DaemonCLITests.waitUntil(.seconds(5)) { Self.log(one).contains { ($0["message"] ?? "").hasPrefix("API keys not reloaded") } })
        #expect(Self.status(apiPort, key: "old-key") == 200)
        #expect(Self.status(apiPort, key: nil) == 401)

        // Seeds, log level, keys, the API's rate and a listen address (which needs a restart) change; SIGHUP.
        #expect(!Self.log(one).contains { $0["level"] == "debug" })
        let edited = configured.replacingOccurrences(of: "seeds = []", with: "seeds = [\"127.0.0.1:\(port2)\"]\nlog_level = \"debug\"")
            .replacingOccurrences(of: "listen = [\"127.0.0.1:\(port1)\"]", with: "listen = [\"127.0.0.1:\(port1 == 65535 ? 1 : port1 + 1)\"]")
            + "\n[api]\nrequests_per_minute = 1\nburst = 2\n"
        #expect(edited != configured)
        try edited.write(toFile: config, atomically: true, encoding: .utf8)
        try "# rotated\nnew-key\n".write(toFile: one + "/api.keys", atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(DaemonCLITests.waitUntil(.seconds(5)) { Self.log(one).contains { $0["message"] == "configuration reloaded" && $0["applied"] != "nothing changed" } })
        let reloaded = try #require(Self.log(one).last { $0["message"] == "configuration reloaded" })
        #expect(reloaded["applied"] == "log_level,seeds,api_keys,api", "\(reloaded)")
        #expect(reloaded["restart_needed"] == "listen", "\(reloaded)")
        #expect(reloaded["seeds_added"] == "127.0.0.1:\(port2)", "\(reloaded)")
        #expect(reloaded["api_keys"] == "1")
        #expect(reloaded["api_rate"] == "1/min burst 2")

        // The new key is accepted and the old one refused; the new budget: 2 at once, then 429.
        #expect(Self.status(apiPort, key: "new-key") == 200)
        #expect(Self.status(apiPort, key: "old-key") == 401)
        #expect(Self.status(apiPort, key: "new-key") == 200)
        #expect(Self.status(apiPort, key: "new-key") == 429)
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { DaemonCLITests.peerKeys(one) == [keys[1]] })
        #expect(DaemonCLITests.waitUntil(.seconds(5)) { Self.log(one).contains { $0["level"] == "debug" } })
        // The same process throughout, still on its first listen address.
        #expect(daemon1.process.isRunning && daemon1.process.processIdentifier == pid)
        #expect(Self.log(one).filter { $0["message"] == "node running" }.count == 1)
        let status = try #require(try DaemonCLITests.json(["--data-dir", one, "status", "--json"]) as? [String: Any])
        #expect(status["listen_addresses"] as? [String] == ["127.0.0.1:\(port1)"])

        // The log file got the same lines as stderr.
        let file = try String(contentsOfFile: one + "/chorusd.jsonl", encoding: .utf8)
        #expect(file.contains("\"message\":\"configuration reloaded\""))
    }

    @Test func sigtermStopsThePartsInTheReverseOfTheirStartOrder() throws {
        let dir = try TemporaryDirectoryForTests()
        let one = dir.file("n1")
        let port = try DaemonCLITests.freePort(), apiPort = try DaemonCLITests.freePort()
        let result = try ChorusBinaryForTests.run(["init", "--data-dir", one, "--listen", "127.0.0.1:\(port)"], binary: "chorusd")
        #expect(result.status == 0, "\(result.stderr)")
        let daemon = try Daemon(dataDir: one, arguments: ["--api-listen", "127.0.0.1:\(apiPort)"])
        try #require(DaemonCLITests.waitUntil(.seconds(10)) { Self.status(apiPort, key: nil) == 200 })
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus == 0)
        let lines = Self.log(one)
        #expect(lines.first { $0["message"] == "stopping" }?["signal"] == "SIGTERM")
        #expect(lines.filter { $0["message"] == "service stopped" }.compactMap { $0["service"] }
                == ["admin listener", "API", "node", "storage writer"])
        #expect(lines.last?["message"] == "stopped cleanly")
    }

    /// With a network file and a model: the model load says what it loads and how long it took, a
    /// node far behind with no peer says so, and SIGINT stops PoC on the worker between the admin
    /// listener and the node.
    @Test func aPoCNodeReportsItsModelLoadAndStopsItsWorkerBeforeTheNode() throws {
        let dir = try TemporaryDirectoryForTests()
        let one = dir.file("n1")
        let port = try DaemonCLITests.freePort()
        let result = try ChorusBinaryForTests.run(["init", "--data-dir", one, "--listen", "127.0.0.1:\(port)"], binary: "chorusd")
        #expect(result.status == 0, "\(result.stderr)")
        // The devnet file's genesis is long past: a lone node is far behind and has nobody to ask.
        let networkFile = EpochCLITests.packageRoot.appendingPathComponent("Network/devnet/network.toml").path
        let daemon = try Daemon(dataDir: one, arguments: ["--network-file", networkFile, "--model", "chorus/synthetic-devnet"])
        try #require(DaemonCLITests.waitUntil(.seconds(30)) { Self.log(one).contains { $0["message"] == "node running" } },
                     "\((try? String(contentsOfFile: one + "/daemon.log", encoding: .utf8)) ?? "")")
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { Self.log(one).contains { $0["message"] == "behind the network's epochs, with no peer to catch up from" } })
        kill(daemon.process.processIdentifier, SIGINT)
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus == 0)
        let lines = Self.log(one)
        let loading = try #require(lines.first { $0["message"] == "loading model" })
        #expect(loading["model"] == "chorus/synthetic-devnet" && loading["step"] == "1 of 1" && loading["source"] == "synthetic")
        let loaded = try #require(lines.first { $0["message"] == "model loaded" })
        #expect(loaded["seconds"].flatMap(Double.init) != nil, "\(loaded)")
        let behind = try #require(lines.first { ($0["message"] ?? "").hasPrefix("behind the network's epochs") })
        #expect(behind["peers"] == "0" && behind["last_final"] == "none", "\(behind)")
        #expect(lines.first { $0["message"] == "stopping" }?["signal"] == "SIGINT")
        #expect(lines.filter { $0["message"] == "service stopped" }.compactMap { $0["service"] }
                == ["admin listener", "worker", "node", "storage writer"])
    }

    /// `--log-file` with a 4 KiB bound: the file is renamed to FILE.1 when full, neither passes the
    /// bound, every line is whole JSON, and the newest line is in the live file.
    @Test func theLogFileIsRotatedAtItsBound() throws {
        let dir = try TemporaryDirectoryForTests()
        let one = dir.file("n1")
        let port = try DaemonCLITests.freePort()
        let result = try ChorusBinaryForTests.run(["init", "--data-dir", one, "--listen", "127.0.0.1:\(port)"], binary: "chorusd")
        #expect(result.status == 0, "\(result.stderr)")
        let config = one + "/config.toml"
        try ("log_file_max_bytes = 4096\n" + String(contentsOfFile: config, encoding: .utf8))
            .write(toFile: config, atomically: true, encoding: .utf8)
        let logFile = dir.file("logs.jsonl")
        let daemon = try Daemon(dataDir: one, arguments: ["--log-file", logFile])
        defer {
            daemon.process.terminate()
            daemon.process.waitUntilExit()
        }
        try #require(DaemonCLITests.waitUntil(.seconds(10)) { Self.log(one).contains { $0["message"] == "node running" } },
                     "\((try? String(contentsOfFile: one + "/daemon.log", encoding: .utf8)) ?? "")")
        // Each reload writes one line of about 250 bytes: 40 of them pass 4 KiB twice over.
        for count in 1...40 {
            kill(daemon.process.processIdentifier, SIGHUP)
            try #require(DaemonCLITests.waitUntil(.seconds(5)) { Self.log(one).filter { $0["message"] == "configuration reloaded" }.count >= count })
        }
        let rotated = logFile + ".1"
        #expect(FileManager.default.fileExists(atPath: rotated))
        for path in [logFile, rotated] {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(data.count <= 4096 && data.count > 0, "\(path): \(data.count) bytes")
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
            for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)") }
        }
        let live = try String(contentsOfFile: logFile, encoding: .utf8)
        let lastReload = try #require(Self.log(one).last { $0["message"] == "configuration reloaded" })
        #expect(live.contains(try #require(lastReload["ts"])))
    }

    // MARK: - Helpers

    /// The JSON lines of a `DaemonForTests` log (stderr), as string maps; other lines are skipped.
    static func log(_ dataDir: String) -> [[String: String]] {
        let text = (try? String(contentsOfFile: dataDir + "/daemon.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
        }
    }

    /// The status code of `GET /v1/models` on the API at 127.0.0.1:`port` with `key` (nil: no
    /// Authorization header); nil when nothing answered within 2 s.
    static func status(_ port: Int, key: String?) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (key.map { "Authorization: Bearer \($0)\r\n" } ?? "")
            + "Connection: close\r\n\r\n"
        guard Array(request.utf8).withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.utf8.count else { return nil }
        var response: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[..<n]
            if response.count > 1 << 20 { break }
        }
        // "HTTP/1.1 200 OK"
        let statusLine = String(decoding: response.prefix { $0 != 0x0d }, as: UTF8.self).split(separator: " ")
        return statusLine.count >= 2 ? Int(statusLine[1]) : nil
    }
}
