import Foundation
import Testing

/// What an operator installs and checks: `--version` on both programs, the git revision recorded
/// at build time, the systemd unit (verified by systemd-analyze when it is installed), and
/// `chorus db backup` of a running node.
@Suite struct OperatorCLITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs a program that is not ours (git, sh, systemd-analyze); nil when it is not installed.
    static func runTool(_ path: String, _ arguments: [String], in directory: String? = nil) throws -> ChorusBinaryForTests.Result? {
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes to the end before waiting, so no output size can block the child.
        let (out, err) = ChorusBinaryForTests.drain(output, errors)
        process.waitUntilExit()
        return ChorusBinaryForTests.Result(status: process.terminationStatus, stdout: out, stderr: err)
    }

    @Test(arguments: ["chorusd", "chorus"])
    func versionNamesReleaseRevisionAndProtocols(program: String) throws {
        let json = try ChorusBinaryForTests.run(["--version", "--json"], binary: program)
        #expect(json.status == 0, "\(json.stderr)")
        let object = try jsonObject(json.stdout)
        #expect(object["program"] as? String == program)
        let version = try #require(object["version"] as? String)
        #expect(version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil })
        let protocols = try #require(object["protocols"] as? [String: String])
        #expect(Set(protocols.keys) == ["handshake", "statement_encoding", "network_parameters", "worker_api", "epoch_export",
                                        "poc_kernel", "store_schema"])
        #expect(protocols["handshake"] == "chorus/noise/1")
        #expect(protocols["worker_api"] == "v1")
        #expect(protocols["epoch_export"]?.hasPrefix("chorus-epoch-export/") == true)
        // The revision is a commit of this repository (not necessarily HEAD: others may commit after the build).
        let revision = try #require(object["git_revision"] as? String)
        if revision != "unknown" {
            #expect(revision.count == 12 && revision.allSatisfy(\.isHexDigit), "\(revision)")
            if let known = try Self.runTool("/usr/bin/git", ["-C", Self.packageRoot.path, "cat-file", "-e", revision + "^{commit}"]) {
                #expect(known.status == 0, "\(revision) is not a commit here: \(known.stderr)")
            }
        }
        let text = try ChorusBinaryForTests.run(["--version"], binary: program)
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("\(program) \(version) (git \(revision))\n"))
        #expect(text.stdout.contains("worker API") && text.stdout.contains("chorus/noise/1"))
    }

    @Test func chorusHelpOverviewNamesEveryGroupOfCommands() throws {
        let help = try ChorusBinaryForTests.run(["--help"])
        #expect(help.status == 0)
        // ArgumentParser wraps at 80 columns: compare with the line breaks taken out.
        let overview = try #require(help.stdout.components(separatedBy: "USAGE:").first)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for words in ["running node", "status, peers", "epoch", "weights", "audit", "delegate", "worker info|generate|score",
                      "key, sign, verify, statement, db stats|backup"] {
            #expect(overview.contains(words), "overview lacks \(words)")
        }
    }

    @Test func gitRevisionScriptSaysUnknownOutsideAGitWorkTree() throws {
        let dir = try TemporaryDirectoryForTests()
        let script = Self.packageRoot.appendingPathComponent("Tools/git-revision.sh").path
        let outside = dir.file("GitRevision.swift")
        let result = try #require(try Self.runTool("/bin/sh", [script, dir.path, outside]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: outside, encoding: .utf8).contains("let generatedGitRevision = \"unknown\""))

        // Inside this repository (when it is a git work tree): a 12-digit commit.
        guard FileManager.default.fileExists(atPath: Self.packageRoot.appendingPathComponent(".git").path) else { return }
        let inside = dir.file("inside.swift")
        #expect(try Self.runTool("/bin/sh", [script, Self.packageRoot.path, inside])?.status == 0)
        let text = try String(contentsOfFile: inside, encoding: .utf8)
        let revision = try #require(text.split(separator: "\"").dropFirst().first)
        #expect(revision == "unknown" || (revision.count == 12 && revision.allSatisfy(\.isHexDigit)), "\(text)")
        // Unchanged text is not rewritten (an unchanged revision recompiles nothing).
        let before = try FileManager.default.attributesOfItem(atPath: inside)[.modificationDate] as? Date
        Thread.sleep(forTimeInterval: 0.02)
        #expect(try Self.runTool("/bin/sh", [script, Self.packageRoot.path, inside])?.status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: inside)[.modificationDate] as? Date == before)
    }

    @Test func systemdUnitPassesSystemdAnalyzeVerify() throws {
        guard let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile) else {
            print("OperatorCLITests: systemd-analyze is not installed; Tools/chorusd.service not verified")
            return
        }
        let unit = try String(contentsOf: Self.packageRoot.appendingPathComponent("Tools/chorusd.service"), encoding: .utf8)
        for setting in ["User=chorus", "StateDirectory=chorus", "ProtectSystem=strict", "NoNewPrivileges=yes",
                        "LimitNOFILE=", "Restart=on-failure", "ExecStart=/usr/local/bin/chorusd run --data-dir /var/lib/chorus"] {
            #expect(unit.contains("\n" + setting), "missing \(setting)")
        }
        // verify checks that ExecStart's binary exists: point it at the built chorusd, as install.sh
        // points it at the installed one.
        let chorusd = try #require(ChorusBinaryForTests.url(of: "chorusd"))
        let dir = try TemporaryDirectoryForTests()
        let path = dir.file("chorusd.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/chorusd", with: chorusd.path).write(toFile: path, atomically: true, encoding: .utf8)
        let result = try #require(try Self.runTool(analyze, ["verify", path]))
        #expect(result.status == 0, "\(result.stderr)")
        // verify exits 0 on settings it ignores, but names them on stderr.
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func dbBackupCopiesARunningNodesStoreKeyAndConfig() throws {
        let dir = try TemporaryDirectoryForTests()
        let node = dir.file("node"), backup = dir.file("backup")
        let port = try DaemonCLITests.freePort()
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", node, "--listen", "127.0.0.1:\(port)"], binary: "chorusd").status == 0)
        let daemon = try DaemonCLITests.DaemonForTests(dataDir: node)
        defer { daemon.kill9() }
        #expect(DaemonCLITests.waitUntil(.seconds(20)) { (try? ChorusBinaryForTests.run(["--data-dir", node, "status"]))?.status == 0 })

        let result = try ChorusBinaryForTests.run(["db", "backup", "--data-dir", node, "--to", backup, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try jsonObject(result.stdout)
        #expect((report["copy_bytes"] as? Int ?? 0) > 0)
        #expect(report["files"] as? [String] == [backup + "/store/data.mdb", backup + "/node.key", backup + "/config.toml"])
        for name in ["node.key", "config.toml"] {
            #expect(FileManager.default.contents(atPath: backup + "/" + name) == FileManager.default.contents(atPath: node + "/" + name))
        }
        for name in ["node.key", "config.toml", "store/data.mdb"] {
            let mode = try FileManager.default.attributesOfItem(atPath: backup + "/" + name)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name)")
        }
        // The copy is a store with the node's tables.
        let original = try jsonObject(try ChorusBinaryForTests.run(["db", "stats", "--data-dir", node, "--json"]).stdout)
        let copied = try jsonObject(try ChorusBinaryForTests.run(["db", "stats", "--data-dir", backup, "--json"]).stdout)
        let names = { (object: [String: Any]) in (object["tables"] as? [[String: Any]])?.compactMap { $0["name"] as? String } }
        #expect(names(copied) == names(original) && names(copied)?.contains("peers") == true)

        // A backup never overwrites.
        let again = try ChorusBinaryForTests.run(["db", "backup", "--data-dir", node, "--to", backup])
        #expect(again.status == 1)
        #expect(again.stderr.contains("\(backup) is not empty; a backup never overwrites"), "\(again.stderr)")
    }
}
