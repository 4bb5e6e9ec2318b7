import ArgumentParser
import ChorusCompute
import ChorusVersion
import Foundation

/// `chorusd`, the Chorus node daemon. Each subcommand lives in its own file.
@main
struct Chorusd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chorusd",
        abstract: "The Chorus node: joins the mesh, keeps encrypted sessions with its peers.",
        discussion: """
            A node keeps everything in its data directory: its key (node.key), its configuration \
            (config.toml), its LMDB store (store/) and, while running, its control socket \
            (control.sock) that the `chorus` CLI talks to.

            EXAMPLES:
              chorusd init --data-dir /tmp/n1 --listen 127.0.0.1:7701
              chorusd init --data-dir /tmp/n2 --listen 127.0.0.1:7702
              chorusd run --data-dir /tmp/n1 &
              chorusd run --data-dir /tmp/n2 --seed 127.0.0.1:7701 &
              chorus --data-dir /tmp/n2 peers
              chorusd --version --json     (release, git revision, protocol versions)
            """,
        version: ChorusVersion.text(program: "chorusd"),
        subcommands: [InitCommand.self, RunCommand.self, DevnetCommand.self, WorkerCommand.self]
    )

    /// Like ArgumentParser's `main`, but a `DaemonFailure` prints its one-line reason and exits
    /// with its status (1: the operation failed; 2: bad arguments).
    static func main() async {
        // `--version [--json]`: answered before parsing, since ArgumentParser's own flag takes no --json.
        let arguments = Array(CommandLine.arguments.dropFirst())
        if ChorusVersion.isRequest(arguments) {
            print(ChorusVersion.answer(arguments, program: "chorusd"))
            ProcessExit.now(0)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            ProcessExit.now(0)
        } catch let failure as DaemonFailure {
            FileHandle.standardError.write(Data("chorusd: \(failure.message)\n".utf8))
            ProcessExit.now(failure.status)
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                ProcessExit.now(2)
            }
            // As `exit(withError:)`, through `ProcessExit` (see there).
            // (--help and --version are "errors" with status 0 whose message goes to stdout.)
            let message = fullMessage(for: error), code = exitCode(for: error)
            if !message.isEmpty {
                (code == .success ? FileHandle.standardOutput : FileHandle.standardError).write(Data((message + "\n").utf8))
            }
            ProcessExit.now(code.rawValue)
        }
    }
}

/// A failure reported as `chorusd: <message>` with exit status 1 (failed) or 2 (bad arguments).
struct DaemonFailure: Error {
    let message: String
    let status: Int32

    static func failed(_ message: String) -> DaemonFailure { DaemonFailure(message: message, status: 1) }
    static func usage(_ message: String) -> DaemonFailure { DaemonFailure(message: message, status: 2) }
}
