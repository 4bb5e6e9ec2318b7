import Foundation
import Testing

/// `chorusd devnet`'s table: appended as plain lines when stdout is not a terminal, redrawn in
/// place (cursor up, clear) when it is one (through util-linux's `script`, when installed).
@Suite struct DevnetDisplayCLITests {
    /// A 2-node devnet on the package's network file, without PoC, for a few seconds.
    static func arguments(_ dir: borrowing TemporaryDirectoryForTests) throws -> [String] {
        let base = try DaemonCLITests.freePortRange(count: 2)
        return ["devnet", "--nodes", "2", "--dir", dir.file("dn"), "--base-port", "\(base)", "--duration", "6", "--interval", "1", "--no-poc",
                // No OpenAI API: its default ports (8701…) are fixed and taken by any devnet already running here.
                "--api-base-port", "0"]
    }

    @Test func appendsPlainLinesWhenStdoutIsNotATerminal() throws {
        let dir = try TemporaryDirectoryForTests()
        let result = try ChorusBinaryForTests.run(try Self.arguments(dir), binary: "chorusd")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains(Character("\u{1B}")), "escape sequences in a pipe")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("devnet: 2 nodes in ") == true)
        #expect(lines.first.map { $0.contains("(TCP, and UDP for SWIM)") } == true)
        // One header (the columns do not change: no table is final within 6 s), then rows prefixed with the second.
        let headers = lines.filter { $0.hasPrefix("t(s)  node  key") }
        #expect(headers.count == 1, "\(result.stdout)")
        let header = try #require(headers.first)
        #expect(header.contains("epoch  stage") && header.contains("final  digest"))
        let rows = lines.filter { $0.range(of: #"^ *\d+ +[12]  "#, options: .regularExpression) != nil }
        #expect(rows.count >= 6, "\(result.stdout)")
        // Both nodes answered at the end, following epochs (before genesis or in epoch 1).
        let last = rows.suffix(2)
        #expect(last.allSatisfy { $0.contains("pre-genesis") || $0.contains("generation") }, "\(last)")
        #expect(lines.last == "devnet stopped")
    }

    @Test func redrawsInPlaceOnATerminal() throws {
        let script = "/usr/bin/script"
        guard FileManager.default.isExecutableFile(atPath: script) else {
            print("DevnetDisplayCLITests: util-linux's script is not installed; the terminal redraw is not checked")
            return
        }
        let dir = try TemporaryDirectoryForTests()
        let chorusd = try #require(ChorusBinaryForTests.url(of: "chorusd"))
        let command = ([chorusd.path] + (try Self.arguments(dir))).map { "'\($0)'" }.joined(separator: " ")
        let typescript = dir.file("typescript")
        // script runs the devnet on a pseudo-terminal and records everything written to it.
        let result = try #require(try OperatorCLITests.runTool(script, ["-q", "-e", "-c", command, typescript]))
        #expect(result.status == 0, "\(result.stderr)")
        let screen = try String(contentsOfFile: typescript, encoding: .utf8)
        let redraws = screen.components(separatedBy: "\u{1B}[J").count - 1
        #expect(redraws >= 4, "\(screen)")
        // Each redraw moves up over exactly the previous table: header and 2 rows (plus notes).
        #expect(screen.range(of: "\u{1B}\\[[3-9]F\u{1B}\\[J", options: .regularExpression) != nil)
        #expect(!screen.contains("t(s)"), "the plain format on a terminal")
    }
}
