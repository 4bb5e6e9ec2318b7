import ArgumentParser

/// `chorus-bench transport-raw`: raw TCP message throughput through ChorusLoop (see `RawTCPBenchmark`).
struct TransportRawCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport-raw",
        abstract: "Raw TCP message throughput over loopback between two loop threads (the transport baseline)."
    )

    @Option(name: .long, help: "Payload bytes per message (0...65535).")
    var size = 200

    @Option(name: .long, help: "Messages per run.")
    var count = 1_000_000

    @Option(name: .long, help: "Messages per write call (1 = one write per message, the transport's default).")
    var batch = 1

    @Option(name: .long, help: "Number of runs; the median is reported last.")
    var runs = 3

    func run() async throws {
        guard runs > 0, count > 0, batch > 0 else {
            throw ValidationError("--runs, --count and --batch must be positive")
        }
        var results: [RawTCPBenchmark.Result] = []
        for run in 1...runs {
            let result = try await RawTCPBenchmark.run(messageSize: size, count: count, batch: batch)
            results.append(result)
            print("run \(run): \(Self.describe(result))")
        }
        let median = results.sorted { $0.messagesPerSecond < $1.messagesPerSecond }[results.count / 2]
        print("median: \(Self.describe(median))")
    }

    static func describe(_ result: RawTCPBenchmark.Result) -> String {
        let messagesPerSecond = (result.messagesPerSecond / 1000).rounded() / 1000
        let mebibytesPerSecond = (result.bytesPerSecond / 1_048_576 * 10).rounded() / 10
        return "\(result.messages) messages of \(result.messageSize) B, \(result.batch) per write, "
            + "in \(result.elapsed): "
            + "\(messagesPerSecond)M msg/s, \(mebibytesPerSecond) MiB/s payload"
    }
}
