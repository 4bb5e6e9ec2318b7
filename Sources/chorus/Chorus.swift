import ArgumentParser

/// The `chorus` debug CLI. (Minimal root for the store branch; merged with the full CLI root.)
@main
struct Chorus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chorus",
        abstract: "Inspect and debug a Chorus node.",
        subcommands: [DbCommand.self])
}
