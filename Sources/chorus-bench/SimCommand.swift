import ArgumentParser
import ChorusTestKit

/// `chorus-bench sim`: the deterministic simulator's figures for the mesh targets of issue 4
/// (propagation, duplicates, crash detection, pauses, partition healing) at each cluster size.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the simulator's standard scenarios (real state machines, simulated network) and print the targets.",
        discussion: """
            Network model: 20 ms ± 5 ms one way, 0.5 % loss, 1 KiB messages. Every number is seeded and \
            replays exactly with the same --seed. Build with -c release: 1,000 nodes take minutes in debug.
            """
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Cluster sizes.")
    var nodes: [Int] = [100, 1000]
    @Option(name: .long, help: "The seed of every scenario.")
    var seed: UInt64 = 1
    @Option(name: .long, help: "Crashes in the crash-detection scenario.")
    var crashes = 30
    @Option(name: .long, help: "Simulated seconds of the pause scenario (10 % of nodes pause 1.5 s every 30 s).")
    var pauseSeconds = 600
    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        guard !nodes.isEmpty, nodes.allSatisfy({ $0 >= 4 }) else { throw ValidationError("--nodes needs sizes of at least 4") }
        let report = SimulationReport.measure(nodeCounts: nodes, seed: seed, crashes: crashes, pauseDuration: .seconds(pauseSeconds))
        if json { return print(report.json) }
        for run in report.runs {
            let g = run.gossip, c = run.crashDetection, p = run.pauses, h = run.partition
            print("\(run.nodes) nodes (seed \(report.seed), \(Int(run.wallSeconds)) s of wall time):")
            print("  propagation p50 \(g.propagation.latencyMs.p50) ms, p99 \(g.propagation.latencyMs.p99) ms, completeness \(g.propagation.completeness)")
            print("  duplicates per node per message: mean \(g.propagation.duplicatesPerNodeMean), worst node \(g.propagation.duplicatesPerNodeMax); late or missing \(g.propagation.lateOrMissing)")
            print("  crash detection (all nodes) p50 \(c.allNodesSeconds.p50) s, p99 \(c.allNodesSeconds.p99) s, undetected \(c.undetected), false deaths \(c.falseDeaths)")
            print("  pauses: \(p.pauses) pauses over \(p.simulatedSeconds) s, false deaths \(p.falseDeaths)")
            print("  partition: healed in \(h.convergenceSeconds.map { "\($0) s" } ?? "never") after the split ended")
        }
    }
}
