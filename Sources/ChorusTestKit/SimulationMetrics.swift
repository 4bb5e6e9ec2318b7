import ChorusCrypto
import ChorusMesh

/// Nearest-rank percentiles of a sample, in the sample's unit.
public struct Percentiles: Sendable, Equatable, Codable {
    public var count: Int
    public var p50: Double
    public var p99: Double
    public var max: Double

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        p50 = rank(0.50)
        p99 = rank(0.99)
        max = sorted.last ?? 0
    }
}

/// Per published message: when and by whom, when each node delivered it, and how many full copies
/// each node received (the first plus duplicates).
struct GossipRecorder {
    let nodes: Int
    private(set) var index: [Bytes32: Int] = [:]
    private(set) var publishedAt: [MonotonicTime] = []
    private(set) var publisher: [Int] = []
    /// Flat `message * nodes + node`; `UInt64.max` while not delivered.
    private(set) var deliveredAt: [UInt64] = []
    private(set) var copies: [UInt16] = []

    init(nodes: Int) { self.nodes = nodes }

    mutating func published(_ id: Bytes32, by node: Int, at now: MonotonicTime) -> Int {
        let m = publishedAt.count
        index[id] = m
        publishedAt.append(now)
        publisher.append(node)
        deliveredAt += Array(repeating: UInt64.max, count: nodes)
        copies += Array(repeating: 0, count: nodes)
        return m
    }

    mutating func receivedCopy(_ id: Bytes32, at node: Int) {
        guard let m = index[id] else { return }
        copies[m * nodes + node] &+= 1
    }

    mutating func delivered(_ id: Bytes32, at node: Int, now: MonotonicTime) {
        guard let m = index[id], deliveredAt[m * nodes + node] == .max else { return }
        deliveredAt[m * nodes + node] = now.nanoseconds
    }

    var messageCount: Int { publishedAt.count }

    func deliveryTime(message m: Int, node: Int) -> MonotonicTime? {
        let t = deliveredAt[m * nodes + node]
        return t == .max ? nil : MonotonicTime(nanoseconds: t)
    }

    func copies(message m: Int, node: Int) -> Int { Int(copies[m * nodes + node]) }
}

/// Propagation of a set of messages to the nodes expected to receive them.
public struct PropagationSummary: Sendable, Equatable, Codable {
    public var messages: Int
    /// Publish-to-delivery latency over every (message, receiver) pair delivered, in milliseconds.
    public var latencyMs: Percentiles
    /// Delivered (message, receiver) pairs over expected ones.
    public var completeness: Double
    /// Deliveries later than the deadline, plus missing ones.
    public var lateOrMissing: Int
    /// Full copies received beyond the first, per receiving node per message (mean and worst node).
    public var duplicatesPerNodeMean: Double
    public var duplicatesPerNodeMax: Int
}

/// Failure-detection outcome of one crash.
public struct CrashDetection: Sendable, Equatable {
    public let node: Int
    public let crashedAt: MonotonicTime
    /// Nodes live at the crash that counted it as a live member and stayed up: the ones that must notice.
    public let observers: [Int]
    /// First time each observer marked the node dead.
    public internal(set) var detectedAt: [Int: MonotonicTime]

    /// Crash to the first observer's "dead".
    public var firstDetection: Duration? { detectedAt.values.min().map { $0.since(crashedAt) } }
    /// Crash to the last observer's "dead"; nil while any observer has not noticed.
    public var allDetection: Duration? {
        guard observers.allSatisfy({ detectedAt[$0] != nil }) else { return nil }
        return observers.compactMap { detectedAt[$0] }.max().map { $0.since(crashedAt) }
    }
}

/// A node marked dead by `observer` although it had not crashed.
public struct FalseAccusation: Sendable, Equatable {
    public let observer: Int
    public let member: Int
    public let at: MonotonicTime
}
