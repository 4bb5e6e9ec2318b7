import Foundation
import Testing

/// Two real `chorusd` processes on loopback, driven and inspected through `chorus`: they find
/// each other, answer pings, and after `kill -9` and a restart without seeds they reconnect from
/// the addresses they stored, within two seconds.
@Suite(.serialized) struct DaemonCLITests {
    /// A running `chorusd run`, its output going to a log file in its data directory.
    final class DaemonForTests {
        let process = Process()
        let dataDir: String

        init(dataDir: String, arguments: [String] = []) throws {
            self.dataDir = dataDir
            let binary = try #require(ChorusBinaryForTests.url(of: "chorusd"))
            process.executableURL = binary
            process.arguments = ["run", "--data-dir", dataDir, "--log-format", "json"] + arguments
            let log = dataDir + "/daemon.log"
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try handle.seekToEnd()
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        deinit { if process.isRunning { kill9() } }
    }

    /// A free loopback port (bound, then released for the daemon to take).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else { throw POSIXError(.EADDRINUSE) }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A base port such that `base + 1 … base + count` are all free for TCP and UDP (a devnet's
    /// nodes listen there, SWIM on the same ports). Taken below Linux's ephemeral range
    /// (32768-60999), so that tests asking the kernel for a free port (`freePort`) or opening
    /// connections in parallel are never handed one of them (one free port with unchecked neighbours
    /// made `devnet` fail now and then under load).
    static func freePortRange(count: Int) throws -> Int {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let base = Int.random(in: 20_000..<30_000, using: &rng)
            if (1...count).allSatisfy({ canBind(port: base + $0, type: SOCK_STREAM) && canBind(port: base + $0, type: SOCK_DGRAM) }) {
                return base
            }
        }
        throw POSIXError(.EADDRINUSE)
    }

    static func canBind(port: Int, type: __socket_type) -> Bool {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func json(_ arguments: [String]) throws -> Any? {
        let result = try ChorusBinaryForTests.run(arguments)
        guard result.status == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    static func peerKeys(_ dataDir: String) -> Set<String> {
        let peers = (try? json(["--data-dir", dataDir, "peers", "--json"])) as? [[String: Any]] ?? []
        return Set(peers.compactMap { $0["public_key"] as? String })
    }

    static func waitUntil(_ timeout: Duration, _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }

    @Test func twoDaemonsFindEachOtherAndReconnectAfterKill9WithoutSeeds() throws {
        let dir = try TemporaryDirectoryForTests()
        let one = dir.file("n1"), two = dir.file("n2")
        let port1 = try Self.freePort(), port2 = try Self.freePort()
        var keys: [String: String] = [:]
        for (dataDir, port) in [(one, port1), (two, port2)] {
            let result = try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)", "--json"], binary: "chorusd")
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String]
            keys[dataDir] = summary?["public_key"]
        }
        let key1 = try #require(keys[one]), key2 = try #require(keys[two])
        // init never overwrites.
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", one], binary: "chorusd").status == 1)

        var daemon1: DaemonForTests? = try DaemonForTests(dataDir: one)
        var daemon2: DaemonForTests? = try DaemonForTests(dataDir: two, arguments: ["--seed", "127.0.0.1:\(port1)"])
        #expect(Self.waitUntil(.seconds(10)) { Self.peerKeys(one) == [key2] && Self.peerKeys(two) == [key1] })

        let status = try #require(try Self.json(["--data-dir", one, "status", "--json"]) as? [String: Any])
        #expect(status["public_key"] as? String == key1)
        #expect(status["network_id"] as? String == "chorus-devnet")
        #expect(status["listen_addresses"] as? [String] == ["127.0.0.1:\(port1)"])
        #expect(status["peer_count"] as? Int == 1)
        let peers = try #require(try Self.json(["--data-dir", two, "peers", "--json"]) as? [[String: Any]])
        #expect(peers.first?["direction"] as? String == "outbound")
        #expect(peers.first?["address"] as? String == "127.0.0.1:\(port1)")
        let ping = try ChorusBinaryForTests.run(["--data-dir", two, "ping", key1, "--json"])
        #expect(ping.status == 0, "\(ping.stderr)")
        #expect(ping.stdout.contains("rtt_ms"))

        // kill -9 the seeded node and restart it without seeds: it dials the stored address.
        daemon2?.kill9()
        daemon2 = nil
        var started = ContinuousClock.now
        daemon2 = try DaemonForTests(dataDir: two)
        #expect(Self.waitUntil(.seconds(2)) { Self.peerKeys(one) == [key2] && Self.peerKeys(two) == [key1] })
        #expect(started.duration(to: .now) <= .seconds(2))

        // kill -9 the seed and restart it: it dials the address the other node advertised.
        daemon1?.kill9()
        daemon1 = nil
        started = ContinuousClock.now
        daemon1 = try DaemonForTests(dataDir: one)
        #expect(Self.waitUntil(.seconds(2)) { Self.peerKeys(one) == [key2] && Self.peerKeys(two) == [key1] })
        #expect(started.duration(to: .now) <= .seconds(2))

        // SIGTERM stops both gracefully within 2 s.
        for daemon in [daemon1, daemon2].compactMap({ $0 }) {
            let stopping = ContinuousClock.now
            daemon.process.terminate()
            daemon.process.waitUntilExit()
            #expect(daemon.process.terminationStatus == 0)
            #expect(stopping.duration(to: .now) < .seconds(2))
        }
        let log = try String(contentsOfFile: one + "/daemon.log", encoding: .utf8)
        #expect(log.contains("\"message\":\"stopped cleanly\""))
    }

    /// Sends `lines` on one control connection without waiting (pipelined, as a script or an attacker
    /// would) and returns the answer lines once `lines.count` have arrived.
    static func pipelinedControl(_ socketPath: String, _ lines: [String]) throws -> [String] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = Array(lines.map { $0 + "\n" }.joined().utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received.filter({ $0 == 0x0a }).count < lines.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            received += buffer[..<n]
        }
        return String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// An acknowledged publish is durable: the node answers `publish` after the group commit, so
    /// kill -9 right after the 50th answer loses none (8 to 50 were lost when the answer came first).
    @Test func acknowledgedPublishesSurviveKill9() throws {
        let dir = try TemporaryDirectoryForTests()
        let dataDir = dir.file("n1")
        let port = try Self.freePort()
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)"], binary: "chorusd").status == 0)
        let daemon = try DaemonForTests(dataDir: dataDir)
        #expect(Self.waitUntil(.seconds(10)) { (try? Self.json(["--data-dir", dataDir, "status", "--json"])) != nil })
        let requests = (0..<50).map { #"{"method": "publish", "params": {"data": "durable \#($0)"}}"# }
        let answers = try Self.pipelinedControl(dataDir + "/control.sock", requests)
        daemon.kill9()
        #expect(answers.count == 50)
        #expect(answers.allSatisfy { $0.contains("\"ok\":true") }, "\(answers.first ?? "")")
        // Answers come in the order of the requests.
        let seqs = answers.compactMap { line -> Int? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (object?["result"] as? [String: Any])?["seq"] as? Int
        }
        #expect(seqs == seqs.sorted() && seqs.count == 50)
        // A relay without a network file signs no other statement: the store holds exactly the 50.
        let stats = try #require(try Self.json(["db", "stats", "--data-dir", dataDir + "/store", "--json"]) as? [String: Any])
        let tables = try #require(stats["tables"] as? [[String: Any]])
        let statements = tables.first { $0["name"] as? String == "statements" }?["entries"] as? Int
        #expect(statements == 50)
    }

    /// `chorusd init` into an existing 0755 directory once left it 0755 (key, store and socket inside).
    @Test func initMakesAnExistingDirectoryPrivate() throws {
        let dir = try TemporaryDirectoryForTests()
        let dataDir = dir.file("existing")
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir], binary: "chorusd").status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: dataDir)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    /// A second chorusd on the same data directory once ran for a while with the first one's identity.
    /// It now exits at once, naming the holder's pid, and the first keeps running.
    @Test func aSecondDaemonOnTheSameDirectoryExitsAtOnce() throws {
        let dir = try TemporaryDirectoryForTests()
        let dataDir = dir.file("n1")
        let port = try Self.freePort(), other = try Self.freePort()
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)"], binary: "chorusd").status == 0)
        let first = try DaemonForTests(dataDir: dataDir)
        #expect(Self.waitUntil(.seconds(10)) { (try? Self.json(["--data-dir", dataDir, "status", "--json"])) != nil })
        let started = ContinuousClock.now
        let second = try ChorusBinaryForTests.run(["run", "--data-dir", dataDir, "--listen", "127.0.0.1:\(other)"], binary: "chorusd")
        #expect(started.duration(to: .now) < .seconds(5))
        #expect(second.status == 1)
        #expect(second.stderr.contains("pid \(first.process.processIdentifier)"), "\(second.stderr)")
        #expect((try? Self.json(["--data-dir", dataDir, "status", "--json"])) != nil)
        // kill -9 releases the lock: a restart works.
        first.kill9()
        let again = try DaemonForTests(dataDir: dataDir)
        #expect(Self.waitUntil(.seconds(10)) { (try? Self.json(["--data-dir", dataDir, "status", "--json"])) != nil })
        again.process.terminate()
        again.process.waitUntilExit()
    }

    @Test func runRefusesAnUninitializedDirectoryAndBadConfig() throws {
        let dir = try TemporaryDirectoryForTests()
        let missing = try ChorusBinaryForTests.run(["run", "--data-dir", dir.file("nothing")], binary: "chorusd")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("chorusd init"))

        let node = dir.file("n")
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", node, "--listen", "127.0.0.1:0"], binary: "chorusd").status == 0)
        try "network = \"chorus-devnet\"\nlisten = [\"127.0.0.1:0\"]\n[session]\nidle_timeout_ms = \"soon\"\n"
            .write(toFile: node + "/config.toml", atomically: true, encoding: .utf8)
        let bad = try ChorusBinaryForTests.run(["run", "--data-dir", node], binary: "chorusd")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("config.toml: session.idle_timeout_ms: expected an integer"))
        // With no node running, the CLI says so and exits 1.
        let status = try ChorusBinaryForTests.run(["--data-dir", node, "status"])
        #expect(status.status == 1)
        #expect(status.stderr.contains("is `chorusd run` running"))
    }

    /// An auditor may have a worker to re-check proofs, but nothing to fake, and a worker without
    /// a model would re-check nothing: both are usage errors before the node starts.
    @Test func verifyOnlyRefusesFaultsAndAWorkerWithoutAModel() throws {
        let dir = try TemporaryDirectoryForTests()
        let node = dir.file("auditor")
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", node, "--listen", "127.0.0.1:0"], binary: "chorusd").status == 0)
        let networkFile = EpochCLITests.packageRoot.appendingPathComponent("Network/devnet/network.toml").path
        let base = ["run", "--data-dir", node, "--network-file", networkFile, "--verify-only"]
        let faulty = try ChorusBinaryForTests.run(base + ["--model", "chorus/synthetic-devnet", "--fault", "withhold-proofs"], binary: "chorusd")
        #expect(faulty.status == 2 && faulty.stderr.contains("drop --fault"), "\(faulty.stderr)")
        let idle = try ChorusBinaryForTests.run(base + ["--worker", "http://127.0.0.1:9"], binary: "chorusd")
        #expect(idle.status == 2 && idle.stderr.contains("add --model"), "\(idle.stderr)")
        let help = try ChorusBinaryForTests.run(["run", "--help"], binary: "chorusd")
        #expect(help.stdout.contains("With --verify-only: re-check"))
    }
}

/// `chorusd devnet` as the README's first command runs it (for a few seconds).
@Suite struct DevnetCLITests {
    @Test func devnetRejectsABadCPUPinBeforeStartingAnything() throws {
        let dir = try TemporaryDirectoryForTests()
        for bad in ["3:0", "1:", "1:zero", "x:0"] {
            let result = try ChorusBinaryForTests.run(["devnet", "--nodes", "2", "--dir", dir.file("dn"), "--cpus", bad], binary: "chorusd")
            #expect(result.status == 2, "--cpus \(bad): \(result.stderr)")
            #expect(result.stderr.contains("--cpus"), "--cpus \(bad): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("dn")))
    }

    @Test func devnetStartsConnectedNodesAndStopsThemAll() throws {
        let dir = try TemporaryDirectoryForTests()
        let base = try DaemonCLITests.freePortRange(count: 3)
        let result = try ChorusBinaryForTests.run(
            ["devnet", "--nodes", "3", "--dir", dir.file("dn"), "--base-port", "\(base)", "--duration", "15", "--interval", "1", "--json",
             // No OpenAI API: its default ports (8701…) are fixed and taken by any devnet already running here.
             "--api-base-port", "0"],
            binary: "chorusd")
        #expect(result.status == 0, "\(result.stderr)")
        let snapshots = try result.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        // A refresh asks each node with a 2 s deadline, and a node starved of CPU (PoC on every core
        // beside a loaded test run) can miss one: the triangle must have closed at some refresh (peer
        // exchange), not be seen at a chosen one. Every refresh has one entry per node.
        let connected = snapshots.first { snapshot in
            (snapshot["nodes"] as? [Any])?.map { ($0 as? [String: Any])?["peer_count"] as? Int } == [2, 2, 2]
        }
        #expect(connected != nil, "\(result.stdout.suffix(2000))")
        #expect(snapshots.allSatisfy { ($0["nodes"] as? [Any])?.count == 3 })
        // With the package's network file (the working directory is the package root), the nodes follow epochs.
        #expect((connected?["epochs"] as? [Any])?.count == 3)
        #expect((connected?["own_weights"] as? [Any])?.count == 3)
        #expect((snapshots.last?["exited"] as? [Int]) == [])
        // The nodes stopped with the devnet: nobody answers on the control sockets any more.
        #expect(try ChorusBinaryForTests.run(["--data-dir", dir.file("dn/node-1"), "status"]).status == 1)
    }
}
