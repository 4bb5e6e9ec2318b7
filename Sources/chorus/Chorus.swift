import ArgumentParser
import ChorusCompute
import ChorusVersion
import Foundation

/// The `chorus` developer CLI. Each subcommand lives in its own file; add new ones to
/// `subcommands` below.
@main
struct Chorus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chorus",
        abstract: "The Chorus CLI: talk to a running node, inspect epochs and audits, run the worker, and handle keys, statements and stores.",
        discussion: """
            A running node (chorusd) over its control socket, --data-dir DIR: status, peers, \
            members, ping, mesh, publish, messages, trace; epochs and weights: epoch \
            show|export|verify, weights, votes, audit; declarations: delegate, refuse, intent; inference: infer (through the API), inferences (receipts). \
            The worker (built-in engine, or one over HTTP): worker info|generate|score|tokenize|\
            poc|serve|calibrate. Offline: key, sign, verify, statement, db stats|backup.

            Every command that prints data accepts --json for machine-readable output.

            Exit status: 0 on success; 1 when the operation ran and failed or the answer is \
            "no" (an invalid signature, a refused key file, an undecodable statement); 2 when \
            the invocation itself is wrong (unknown option, malformed argument, unreadable input).

            EXAMPLES:
              chorus --data-dir /tmp/n1 status
              chorus --data-dir /tmp/n1 epoch show --json
              chorus key new --out node.key
              chorus key show node.key --json
              echo -n hello | chorus sign --key node.key
              chorus statement sign --key node.key --network chorus-devnet --type text \\
                --epoch 0 --seq 1 --data hello | chorus statement decode --hex
              chorus --version --json
            """,
        version: ChorusVersion.text(program: "chorus"),
        subcommands: [
            KeyCommand.self,
            SignCommand.self,
            VerifyCommand.self,
            StatementCommand.self,
            DbCommand.self,
            StatusCommand.self,
            PeersCommand.self,
            MembersCommand.self,
            PingCommand.self,
            PublishCommand.self,
            MessagesCommand.self,
            TraceCommand.self,
            MeshCommand.self,
            EpochCommand.self,
            WeightsCommand.self,
            AuditCommand.self,
            DelegateCommand.self,
            RefuseCommand.self,
            IntentCommand.self,
            VotesCommand.self,
            InferCommand.self,
            InferencesCommand.self,
            WorkerCommand.self,
        ]
    )

    /// Lets node commands take `--data-dir` before their name (`chorus --data-dir DIR status`), as
    /// the node commands are documented: a leading `--data-dir DIR` moves to the end, where the
    /// (possibly nested) subcommand parses it.
    static func hoistingRootOptions(_ arguments: [String]) -> [String] {
        if arguments.count >= 3, arguments[0] == "--data-dir" {
            return Array(arguments.dropFirst(2)) + arguments.prefix(2)
        }
        if arguments.count >= 2, arguments[0].hasPrefix("--data-dir=") {
            return Array(arguments.dropFirst()) + [arguments[0]]
        }
        return arguments
    }

    /// Like ArgumentParser's `main`, with Chorus's exit statuses: a `CLIFailure` prints its
    /// one-line reason and exits with its status, and usage errors exit 2 instead of 64.
    static func main() async {
        // `--version [--json]`: answered before parsing, since ArgumentParser's own flag takes no --json.
        let arguments = Array(CommandLine.arguments.dropFirst())
        if ChorusVersion.isRequest(arguments) {
            print(ChorusVersion.answer(arguments, program: "chorus"))
            ProcessExit.now(0)
        }
        do {
            var command = try parseAsRoot(hoistingRootOptions(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            ProcessExit.now(0)
        } catch let failure as CLIFailure {
            Console.error("chorus: \(failure.message)")
            // A control failure under --json: stdout gets the error with its code (Specs/control.md).
            if failure.code != nil, CommandLine.arguments.dropFirst().contains("--json") { try? Console.printJSON(failure.jsonForm) }
            ProcessExit.now(failure.status)
        } catch {
            if exitCode(for: error) == .validationFailure {
                Console.error(fullMessage(for: error))
                ProcessExit.now(CLIFailure.usageStatus)
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
