import ChorusCrypto
import ChorusMesh

/// How the simulated network treats every message: one-way latency `latency` ± uniform `jitter`,
/// independent loss with probability `lossRate` (a lost message is gone: the protocols must recover
/// by themselves). Links are FIFO, as the authenticated TCP sessions they stand for.
public struct NetworkModel: Sendable, Equatable {
    public var latency: Duration
    public var jitter: Duration
    public var lossRate: Double

    public init(latency: Duration = .milliseconds(20), jitter: Duration = .milliseconds(5), lossRate: Double = 0) {
        self.latency = latency
        self.jitter = jitter
        self.lossRate = lossRate
    }

    /// The network model of Specs/targets.md T12: 20 ms ± 5 ms one way, 0.5 % loss.
    public static let lan = NetworkModel(latency: .milliseconds(20), jitter: .milliseconds(5), lossRate: 0.005)
}

/// Message transit between simulated nodes: partitions, loss, latency and per-link FIFO order.
struct SimulatedNetwork {
    let model: NetworkModel
    let nodes: Int
    /// Partition group of each node; nodes in different groups cannot reach each other.
    var group: [Int]
    private var lastArrival: [UInt64]
    private var rng: SplitMix64
    /// Messages dropped by random loss (not counting those a partition cut).
    private(set) var lost = 0

    init(model: NetworkModel, nodes: Int, seed: UInt64) {
        self.model = model
        self.nodes = nodes
        group = Array(repeating: 0, count: nodes)
        lastArrival = Array(repeating: 0, count: nodes * nodes)
        rng = SplitMix64(seed: seed)
    }

    /// When a message sent now from `from` arrives at `to`, or nil if the network drops it.
    mutating func arrival(from: Int, to: Int, now: MonotonicTime) -> MonotonicTime? {
        if group[from] != group[to] { return nil }
        if model.lossRate > 0, uniform() < model.lossRate {
            lost += 1
            return nil
        }
        let base = Double(model.latency.nanoseconds)
        let spread = Double(model.jitter.nanoseconds)
        let delay = max(0, base + spread * (2 * uniform() - 1))
        let link = from * nodes + to
        let at = max(now.nanoseconds + UInt64(delay), lastArrival[link])
        lastArrival[link] = at
        return MonotonicTime(nanoseconds: at)
    }

    mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
}
