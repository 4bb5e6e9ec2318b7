import ArgumentParser

/// `chorus-bench`: Chorus's benchmarks. Each suite prints numbers and ratios against a baseline
/// measured in the same run on the same machine, so results are comparable across machines;
/// speed is never asserted by unit tests.
@main
struct ChorusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chorus-bench",
        abstract: "Measure Chorus's speed against baselines taken in the same run.",
        discussion: """
            Build in release mode for meaningful numbers:
              swift build -c release --product chorus-bench
              .build/release/chorus-bench crypto --json
            """,
        subcommands: [CryptoBench.self, IngestBench.self, TransportCommand.self, TransportRawCommand.self, SimCommand.self, WorkerBench.self]
    )
}
