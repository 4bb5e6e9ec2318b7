import ArgumentParser
import ChorusWorkerHTTP

/// `chorusd worker`: the node's model worker as a service of its own, so that other nodes or tools
/// (and a node configured with an HTTP worker) can use it. Same command as `chorus worker serve`.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve the built-in CPU worker over HTTP (Specs/worker.md).",
        discussion: """
            EXAMPLES:
              chorusd worker serve --listen 127.0.0.1:8090 --model synthetic:devnet --model smollm2-135m
            """,
        subcommands: [WorkerServeCommand.self]
    )
}
