import ArgumentParser

/// `chorus-bench`: measurements that would make flaky unit tests (speed, throughput) live here, each
/// as a subcommand that prints its numbers.
@main
struct ChorusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chorus-bench",
        abstract: "Chorus benchmarks.",
        subcommands: [TransportRawCommand.self]
    )
}
