import Foundation

/// The simulator's headline numbers for a set of cluster sizes, as JSON, for `chorus-bench` to print
/// and compare against a baseline. Every scenario is seeded, so a number can be replayed exactly.
public struct SimulationReport: Sendable, Codable, Equatable {
    public struct Run: Sendable, Codable, Equatable {
        public var nodes: Int
        public var gossip: Scenarios.GossipPropagationResult
        public var crashDetection: Scenarios.CrashDetectionResult
        public var pauses: Scenarios.PauseResult
        public var partition: Scenarios.PartitionHealResult
        /// Wall-clock time the four scenarios took (the simulator's own speed, not a protocol number).
        public var wallSeconds: Double
    }

    public var seed: UInt64
    public var runs: [Run]

    /// Runs the standard scenarios at each size: gossip propagation (20 × 1 KiB messages), crash
    /// detection (`crashes` crashes), pauses (10 % of nodes, 1.5 s every 30 s, for `pauseDuration`) and
    /// a 60 s partition into halves. Takes minutes in debug builds at 1,000 nodes: run it optimized.
    public static func measure(nodeCounts: [Int] = [100, 1000], seed: UInt64 = 1, crashes: Int = 30,
                               pauseDuration: Duration = .seconds(120)) -> SimulationReport {
        let clock = ContinuousClock()
        var runs: [Run] = []
        for nodes in nodeCounts {
            let started = clock.now
            let gossip = Scenarios.gossipPropagation(nodes: nodes, seed: seed)
            let crash = Scenarios.crashDetection(nodes: nodes, crashes: crashes, seed: seed)
            let pauses = Scenarios.pauses(nodes: nodes, duration: pauseDuration, seed: seed)
            let partition = Scenarios.partitionHeal(nodes: nodes, seed: seed)
            let elapsed = clock.now - started
            runs.append(Run(nodes: nodes, gossip: gossip, crashDetection: crash, pauses: pauses, partition: partition,
                            wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        }
        return SimulationReport(seed: seed, runs: runs)
    }

    /// Pretty-printed JSON with sorted keys (stable across runs of the same seed, except `wallSeconds`).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Switches the test suites read from the environment.
public enum SimulationEnvironment {
    /// `CHORUS_SIM_SEED`, when set, replaces every scenario's default seed: replay a failure by
    /// running the failing test again with the seed its message printed.
    public static func seed(default fallback: UInt64) -> UInt64 {
        ProcessInfo.processInfo.environment["CHORUS_SIM_SEED"].flatMap { UInt64($0) } ?? fallback
    }

    /// `CHORUS_SLOW_TESTS=1` enables the long simulations (e.g. the full 10-minute pause run).
    public static var slowTestsEnabled: Bool { ProcessInfo.processInfo.environment["CHORUS_SLOW_TESTS"] == "1" }
}
