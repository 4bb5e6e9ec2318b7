import Foundation
import Testing

/// Errors a new user met, each of which must name the cause and the fix instead of a generic
/// "not initialized", a raw `DecodingError` or NIO's text.
@Suite struct CLIErrorMessageTests {
    /// Runs a product of this package as user `nobody` (via setpriv) when this process is root,
    /// since root reads mode-000 files and connects to anyone's socket. Nil when that cannot be
    /// arranged here (no setpriv, or `nobody` cannot execute the binary's path).
    static func runAsNobody(_ arguments: [String], binary name: String = "chorus") throws -> ChorusBinaryForTests.Result? {
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv), let binary = ChorusBinaryForTests.url(of: name) else { return nil }
        func run(_ arguments: [String]) throws -> ChorusBinaryForTests.Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: setpriv)
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", binary.path] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: "/")
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return ChorusBinaryForTests.Result(
                status: process.terminationStatus,
                stdout: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                stderr: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        guard try run(["--help"]).status == 0 else { return nil }
        return try run(arguments)
    }

    /// Makes `path` readable by everyone (the temporary directory's parents already are).
    static func openToAll(_ path: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    // MARK: - 1. unusable data directory

    /// A data directory below a regular file was reported as "not initialized; run chorusd init".
    @Test func dataDirectoryBelowAFileIsNamedAsSuch() throws {
        let dir = try TemporaryDirectoryForTests()
        let file = try dir.write(Array("not a directory".utf8), to: "file")
        let dataDir = file + "/node"
        let run = try ChorusBinaryForTests.run(["run", "--data-dir", dataDir], binary: "chorusd")
        #expect(run.status == 1)
        #expect(run.stderr.contains("\(file) is a file, not a directory"), "\(run.stderr)")
        #expect(!run.stderr.contains("chorusd init"), "\(run.stderr)")
        let status = try ChorusBinaryForTests.run(["--data-dir", dataDir, "status"])
        #expect(status.status == 1)
        #expect(status.stderr.contains("\(file) is a file, not a directory"), "\(status.stderr)")
        // The file itself as the data directory.
        let itself = try ChorusBinaryForTests.run(["--data-dir", file, "status"])
        #expect(itself.stderr.contains("\(file) is not a directory"), "\(itself.stderr)")
        // A directory that is there but empty is the one case for `chorusd init`.
        let empty = dir.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        let uninitialized = try ChorusBinaryForTests.run(["--data-dir", empty, "status"])
        #expect(uninitialized.stderr.contains("not an initialized data directory"), "\(uninitialized.stderr)")
        #expect(uninitialized.stderr.contains("chorusd init --data-dir \(empty)"), "\(uninitialized.stderr)")
    }

    /// A data directory this user cannot read (another user's, or mode 000) was also reported as
    /// "not initialized". Root reads mode 000, so as root the binaries run as `nobody` instead.
    @Test func unreadableDataDirectoryIsPermissionDenied() throws {
        let dir = try TemporaryDirectoryForTests()
        try Self.openToAll(dir.path)
        let dataDir = dir.file("node")
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], binary: "chorusd").status == 0)
        let arguments = (run: ["run", "--data-dir", dataDir], status: ["--data-dir", dataDir, "status"])
        let run: ChorusBinaryForTests.Result, status: ChorusBinaryForTests.Result
        if getuid() == 0 {
            // Root bypasses permissions: test as `nobody`, for whom the 0700 directory is closed.
            guard let asNobody = try Self.runAsNobody(arguments.run, binary: "chorusd") else {
                // Without setpriv (or a build path `nobody` can reach) root cannot be denied anything.
                return
            }
            run = asNobody
            status = try #require(try Self.runAsNobody(arguments.status))
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: dataDir)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDir) }
            run = try ChorusBinaryForTests.run(arguments.run, binary: "chorusd")
            status = try ChorusBinaryForTests.run(arguments.status)
        }
        for result in [run, status] {
            #expect(result.status == 1)
            #expect(result.stderr.contains("permission denied on \(dataDir)"), "\(result.stderr)")
            #expect(result.stderr.contains("run as the user that owns the node"), "\(result.stderr)")
            #expect(!result.stderr.contains("chorusd init"), "\(result.stderr)")
        }
    }

    // MARK: - 2. EACCES on the control socket

    /// Binds a Unix socket at `path` (no listener behind it) and returns its descriptor.
    static func bindUnixSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return fd
    }

    /// Connecting to another user's control socket printed only "EACCES (permission denied)" and
    /// asked whether `chorusd run` was running. As root, `chorus` runs as `nobody` against root's
    /// 0600 socket; otherwise the socket is made mode 000 (which denies its owner too).
    @Test func controlSocketOfAnotherUserIsExplained() throws {
        let dir = try TemporaryDirectoryForTests()
        try Self.openToAll(dir.path)
        let dataDir = dir.file("node")
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], binary: "chorusd").status == 0)
        try Self.openToAll(dataDir)
        let socketPath = dataDir + "/control.sock"
        let fd = try Self.bindUnixSocket(socketPath)
        defer { close(fd) }
        let result: ChorusBinaryForTests.Result
        if getuid() == 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: socketPath)
            // Without setpriv (or a build path `nobody` can reach) root is never denied a socket.
            guard let asNobody = try Self.runAsNobody(["--data-dir", dataDir, "status"]) else { return }
            result = asNobody
            #expect(result.stderr.contains("it belongs to user root (uid 0)"), "\(result.stderr)")
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: socketPath)
            result = try ChorusBinaryForTests.run(["--data-dir", dataDir, "status"])
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains("permission denied on the control socket \(socketPath)"), "\(result.stderr)")
        #expect(result.stderr.contains("run `chorus` as the node's user"), "\(result.stderr)")
        #expect(!result.stderr.contains("is `chorusd run` running"), "\(result.stderr)")
        // libuv's generic EACCES hint is about ports below 1024, which a Unix socket has nothing to do with.
        #expect(!result.stderr.contains("1024"), "\(result.stderr)")
    }

    // MARK: - 3. db stats --data-dir takes the data directory

    /// `chorus db stats --data-dir` wanted DIR/store, unlike every other --data-dir. It takes the
    /// data directory now, still takes the store directory, and says which is missing otherwise.
    @Test func dbStatsTakesTheDataDirectoryOrTheStore() throws {
        let dir = try TemporaryDirectoryForTests()
        let dataDir = dir.file("node")
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], binary: "chorusd").status == 0)
        let before = try ChorusBinaryForTests.run(["db", "stats", "--data-dir", dataDir])
        #expect(before.status == 1)
        #expect(before.stderr.contains("no Chorus store in \(dataDir)"), "\(before.stderr)")
        #expect(before.stderr.contains("start the node once (`chorusd run --data-dir \(dataDir)`)"), "\(before.stderr)")

        let daemon = try DaemonCLITests.DaemonForTests(dataDir: dataDir)
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { (try? DaemonCLITests.json(["--data-dir", dataDir, "status", "--json"])) != nil })
        daemon.process.terminate()
        daemon.process.waitUntilExit()

        for path in [dataDir, dataDir + "/", dataDir + "/store"] {
            let stats = try ChorusBinaryForTests.run(["db", "stats", "--data-dir", path, "--json"])
            #expect(stats.status == 0, "\(path): \(stats.stderr)")
            let object = try jsonObject(stats.stdout)
            #expect((object["path"] as? String)?.hasSuffix("/node/store") == true, "\(object)")
            #expect((object["tables"] as? [[String: Any]])?.contains { $0["name"] as? String == "statements" } == true)
        }

        let empty = dir.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        let neither = try ChorusBinaryForTests.run(["db", "stats", "--data-dir", empty])
        #expect(neither.status == 1)
        #expect(neither.stderr.contains("neither \(empty)/data.mdb nor \(empty)/store/data.mdb exists"), "\(neither.stderr)")
        #expect(!FileManager.default.fileExists(atPath: empty + "/store"))
        let missing = try ChorusBinaryForTests.run(["db", "stats", "--data-dir", dir.file("nothing")])
        #expect(missing.stderr.contains("there is no data directory at \(dir.file("nothing"))"), "\(missing.stderr)")
    }

    // MARK: - 4. epoch verify on a file that is not an export

    /// `chorus epoch verify` printed Swift's raw DecodingError for a file that is not an export.
    @Test func epochVerifyNamesWhatIsWrongWithANonExport() throws {
        let dir = try TemporaryDirectoryForTests()
        let cases: [(contents: String, why: String)] = [
            (#"{"public_key": "ab", "peer_count": 1}"#, #"missing key "format" at the top level"#),
            ("not json at all", "not JSON"),
            (#"{"format": "chorus-epoch-export/2", "network_id": "chorus-devnet", "epoch": "three"}"#, "expected a number at epoch"),
            (#"{"format": "chorus-epoch-export/2", "network_id": "n", "epoch": 3, "parameters_digest": "00", "#
                + #""previous_table": "", "statements": ["aa", 7]}"#, "expected a string at statements[1]"),
        ]
        for (index, item) in cases.enumerated() {
            let file = try dir.write(Array(item.contents.utf8), to: "file-\(index).json")
            let result = try ChorusBinaryForTests.run(["epoch", "verify", file])
            #expect(result.status == 2)
            #expect(result.stderr.contains("\(file) is not an epoch export (\(item.why))"), "\(result.stderr)")
            #expect(result.stderr.contains("chorus --data-dir DIR epoch export N --out \(file)"), "\(result.stderr)")
            #expect(!result.stderr.contains("DecodingError") && !result.stderr.contains("CodingKeys"), "\(result.stderr)")
        }
    }

    // MARK: - 5. worker serve on a port in use

    /// `worker serve` on a port in use printed NIO's "bind(descriptor:ptr:bytes:): Address already
    /// in use) (errno: 98)"; both executables mount the command.
    @Test func workerServeOnAPortInUseSaysSo() throws {
        let dir = try TemporaryDirectoryForTests()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, listen(fd, 1) == 0, getsockname(fd, raw, &length) == 0 else { throw POSIXError(.EADDRINUSE) }
            }
        }
        let hostPort = "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        for binary in ["chorusd", "chorus"] {
            let arguments = ["worker", "serve", "--listen", hostPort, "--token-file", dir.file("worker.token")]
            let result = try ChorusBinaryForTests.run(arguments, binary: binary)
            #expect(result.status == 1)
            #expect(result.stderr.contains("cannot listen on \(hostPort): address already in use (another server or program has it; "
                + "pick another --listen)"), "\(binary): \(result.stderr)")
            #expect(!result.stderr.contains("errno") && !result.stderr.contains("descriptor"), "\(binary): \(result.stderr)")
        }
    }

    // MARK: - 6. worker poc with an unknown model

    /// `chorus worker poc --model unknown` said "--seq-len is required"; it now says the model is
    /// unknown and lists the catalog's names and what the worker holds.
    @Test func workerPoCWithAnUnknownModelListsTheKnownOnes() throws {
        let seed = String(repeating: "0", count: 64), participant = String(repeating: "1", count: 64)
        let job = ["--seed", seed, "--participant", participant, "--nonces", "0..3"]
        let local = try ChorusBinaryForTests.run(["worker", "poc", "--model", "unknown"] + job)
        #expect(local.status == 2)
        #expect(local.stderr.contains("unknown model 'unknown': known names are smollm2-135m, synthetic:devnet, synthetic:tiny, ID=PATH"),
                "\(local.stderr)")
        #expect(!local.stderr.contains("--seq-len"), "\(local.stderr)")

        let dir = try TemporaryDirectoryForTests()
        let tokenFile = dir.file("worker.token")
        let server = try ServedWorkerForTests(arguments: ["worker", "serve", "--listen", "127.0.0.1:0", "--model", "synthetic:tiny",
                                                          "--token-file", tokenFile])
        defer { server.terminate() }
        let remote = try ChorusBinaryForTests.run(["worker", "poc", "--worker", server.url, "--token-file", tokenFile,
                                                   "--model", "unknown"] + job)
        #expect(remote.status == 2)
        #expect(remote.stderr.contains("unknown model 'unknown'"), "\(remote.stderr)")
        #expect(remote.stderr.contains("the worker (--worker) holds: chorus/synthetic-tiny"), "\(remote.stderr)")
    }

    // MARK: - 7. ping by a key prefix

    /// `chorus ping` needed all 64 hex digits while other commands show 12 to 16: a unique prefix
    /// of a connected peer's key (8 digits or more) works; an unknown one lists the connected peers.
    /// (An ambiguous prefix needs two peers whose keys share 8 digits, which random keys do not.)
    @Test func pingTakesAUniquePrefixOfAConnectedPeersKey() throws {
        let dir = try TemporaryDirectoryForTests()
        let one = dir.file("n1"), two = dir.file("n2")
        let port1 = try DaemonCLITests.freePort(), port2 = try DaemonCLITests.freePort()
        var keys: [String] = []
        for (dataDir, port) in [(one, port1), (two, port2)] {
            let result = try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:\(port)", "--json"], binary: "chorusd")
            #expect(result.status == 0, "\(result.stderr)")
            keys.append(try #require(try jsonObject(result.stdout)["public_key"] as? String))
        }
        let daemon1 = try DaemonCLITests.DaemonForTests(dataDir: one)
        let daemon2 = try DaemonCLITests.DaemonForTests(dataDir: two, arguments: ["--seed", "127.0.0.1:\(port1)"])
        defer {
            for daemon in [daemon1, daemon2] {
                daemon.process.terminate()
                daemon.process.waitUntilExit()
            }
        }
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { DaemonCLITests.peerKeys(two) == [keys[0]] })

        let prefix = String(keys[0].prefix(8))
        let ping = try ChorusBinaryForTests.run(["--data-dir", two, "ping", prefix.uppercased(), "--json"])
        #expect(ping.status == 0, "\(ping.stderr)")
        #expect(try jsonObject(ping.stdout)["public_key"] as? String == keys[0])
        let text = try ChorusBinaryForTests.run(["--data-dir", two, "ping", String(keys[0].prefix(16))])
        #expect(text.status == 0 && text.stdout.hasPrefix(keys[0] + ": "), "\(text.stderr)")

        // A prefix no connected peer has: the connected ones are listed.
        let other = String(prefix.first == "0" ? "1" : "0") + prefix.dropFirst()
        let unknown = try ChorusBinaryForTests.run(["--data-dir", two, "ping", other])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no connected peer's key starts with \(other); connected: \(keys[0]) (127.0.0.1:\(port1))"),
                "\(unknown.stderr)")
        // Too short, or not hex: a usage error that says what PEER may be.
        for bad in [String(keys[0].prefix(7)), "zzzzzzzz"] {
            let refused = try ChorusBinaryForTests.run(["--data-dir", two, "ping", bad])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("a prefix of one with at least 8"), "\(refused.stderr)")
        }
    }

    // MARK: - 8. control errors: typed, with a code under --json

    /// A control request that fails says what to do on stderr; with --json, stdout also gets
    /// `{"error", "error_code", "error_details"}` with the control error's code (Specs/control.md),
    /// whether the node refused it, this `chorus` refused it before sending, or no node answered.
    @Test func controlErrorsSayWhatToDoAndCarryTheirCodeUnderJSON() throws {
        let dir = try TemporaryDirectoryForTests()
        let dataDir = dir.file("node")
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], binary: "chorusd").status == 0)
        func failure(_ arguments: [String], status: Int32 = 1) throws -> (stderr: String, json: [String: Any]) {
            let result = try ChorusBinaryForTests.run(["--data-dir", dataDir] + arguments + ["--json"])
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            return (result.stderr, try jsonObject(result.stdout))
        }

        // No node runs: the client's own code.
        let down = try failure(["status"])
        #expect(down.stderr.contains("is `chorusd run` running"), "\(down.stderr)")
        #expect(down.json["error_code"] as? String == "cannot_connect", "\(down.json)")
        #expect((down.json["error"] as? String)?.contains("cannot reach a node") == true, "\(down.json)")

        // A parameter the node would refuse is refused here, before connecting: a usage error.
        let topic = try failure(["publish", "--topic", "Not A Topic", "--data", "hi"], status: 2)
        #expect(topic.stderr.contains("chorus: publish needs params.topic: 1-64 characters of a-z 0-9 / . _ -"), "\(topic.stderr)")
        #expect(topic.json["error_code"] as? String == "bad_parameter", "\(topic.json)")
        #expect((topic.json["error_details"] as? [String: String])?["parameter"] == "topic", "\(topic.json)")

        let daemon = try DaemonCLITests.DaemonForTests(dataDir: dataDir)
        defer {
            daemon.process.terminate()
            daemon.process.waitUntilExit()
        }
        #expect(DaemonCLITests.waitUntil(.seconds(10)) { (try? DaemonCLITests.json(["--data-dir", dataDir, "status", "--json"])) != nil })

        // The node's errors, as the node coded them.
        let epochs = try failure(["epoch", "show"])
        #expect(epochs.stderr.contains("this node does not follow epochs") && epochs.stderr.contains("--network-file"), "\(epochs.stderr)")
        #expect(epochs.json["error_code"] as? String == "no_epochs", "\(epochs.json)")
        let id = String(repeating: "ab", count: 32)
        let trace = try failure(["trace", id])
        #expect(trace.stderr.contains("this node has not seen message \(id)"), "\(trace.stderr)")
        #expect(trace.json["error_code"] as? String == "unknown_message", "\(trace.json)")
        #expect((trace.json["error_details"] as? [String: String])?["id"] == id, "\(trace.json)")
        let stranger = String(repeating: "cd", count: 32)
        let ping = try failure(["ping", stranger])
        #expect(ping.stderr.contains("no session with peer \(stranger); `chorus peers` lists the connected ones"), "\(ping.stderr)")
        #expect(ping.json["error_code"] as? String == "not_connected", "\(ping.json)")

        // Without --json, stdout stays empty.
        let plain = try ChorusBinaryForTests.run(["--data-dir", dataDir, "epoch", "show"])
        #expect(plain.status == 1 && plain.stdout.isEmpty && plain.stderr.hasPrefix("chorus: this node does not follow epochs"), "\(plain)")
    }
}
