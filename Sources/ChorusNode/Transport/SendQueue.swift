/// The per-peer queue of application messages waiting for the socket to accept more bytes: one FIFO
/// per `SendPriority`, each bounded in bytes. A message that would overflow its priority's bound is
/// dropped and counted, so a slow or stalled peer costs bounded memory and the drop is visible.
///
/// Pure value type; the link pops from it whenever the connection is writable.
public struct SendQueue: Sendable {
    /// Byte bounds per priority.
    public struct Limits: Sendable, Equatable {
        public var bytes: [SendPriority: Int]

        public init(bytes: [SendPriority: Int]) { self.bytes = bytes }

        /// 8 MiB for control and own publishes (two maximum-size messages), 4 MiB for forwards,
        /// 1 MiB for lazy traffic.
        public static let `default` = Limits(bytes: [.control: 8 << 20, .publish: 8 << 20, .forward: 4 << 20, .lazy: 1 << 20])
    }

    public let limits: Limits
    private var queues: [[[UInt8]]] = Array(repeating: [], count: SendPriority.allCases.count)
    private var heads: [Int] = Array(repeating: 0, count: SendPriority.allCases.count)
    private var queuedBytes: [Int] = Array(repeating: 0, count: SendPriority.allCases.count)
    /// Messages dropped because their priority's bound was full, per priority.
    public private(set) var drops: [SendPriority: Int] = [:]

    public init(limits: Limits = .default) { self.limits = limits }

    /// Messages waiting.
    public var count: Int { zip(queues, heads).reduce(0) { $0 + $1.0.count - $1.1 } }
    public var isEmpty: Bool { count == 0 }
    /// Bytes waiting, all priorities together.
    public var byteCount: Int { queuedBytes.reduce(0, +) }
    public var totalDrops: Int { drops.values.reduce(0, +) }

    /// Queues `message`; returns false (and counts a drop) when its priority is full.
    @discardableResult
    public mutating func enqueue(_ message: [UInt8], priority: SendPriority) -> Bool {
        let p = priority.rawValue
        guard queuedBytes[p] + message.count <= limits.bytes[priority, default: 0] else {
            drops[priority, default: 0] += 1
            return false
        }
        queues[p].append(message)
        queuedBytes[p] += message.count
        return true
    }

    /// The oldest message of the most urgent non-empty priority.
    public mutating func dequeue() -> (message: [UInt8], priority: SendPriority)? {
        for priority in SendPriority.allCases {
            let p = priority.rawValue
            guard heads[p] < queues[p].count else { continue }
            let message = queues[p][heads[p]]
            queues[p][heads[p]] = []
            heads[p] += 1
            queuedBytes[p] -= message.count
            if heads[p] == queues[p].count || heads[p] > 1024 {
                queues[p].removeFirst(heads[p])
                heads[p] = 0
            }
            return (message, priority)
        }
        return nil
    }
}
