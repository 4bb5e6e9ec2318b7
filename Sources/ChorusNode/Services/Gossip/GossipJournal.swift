import ChorusCrypto
import ChorusMesh
import ChorusWire

/// What the node remembers about gossip for the CLI: the messages delivered per topic (for
/// `chorus messages`) and every copy received of each message, from whom and when (for `chorus
/// trace`). Both are bounded; the oldest entries go first. A trace keeps each peer's first copy
/// only, at most `maxReceiptsPerMessage` (one message in 64 copies per RPC, resent for 10 s, once
/// grew one trace to a gigabyte), and the deliveries of a topic keep at most
/// `maxDeliveryBytesPerTopic` of rendered data.
///
/// Times are Unix nanoseconds the gossip service passes in (it reads no clock itself).
struct GossipJournal {
    static let maxDeliveriesPerTopic = 10_000
    static let maxDeliveryBytesPerTopic = 32 << 20
    static let maxTraces = 50_000
    static let maxReceiptsPerMessage = 64

    private var deliveries: [Topic: [DeliveredMessage]] = [:]
    private var deliveryBytes: [Topic: Int] = [:]
    private var nextIndex: [Topic: Int] = [:]
    private var traces: [Bytes32: [MessageReceipt]] = [:]
    private var traceOrder: [Bytes32] = []
    private var traceOrderStart = 0

    /// Records a delivered (validated) message; its statement fields are decoded for display.
    mutating func delivered(_ message: GossipMessage, from: Ed25519.PublicKey?, at time: UInt64) {
        let statement = try? UnverifiedStatement(decoding: message.payload)
        let index = nextIndex[message.topic, default: 0]
        nextIndex[message.topic] = index + 1
        let entry = DeliveredMessage(
            index: index, id: message.id.hex, topic: message.topic,
            author: statement?.author.hex, type: statement?.type.name, epoch: statement?.epoch, seq: statement?.seq,
            data: statement.map { Self.render($0.body) } ?? Self.render(message.payload[...]),
            bytes: message.payload.count, receivedUnixNanos: time, from: from?.hex)
        deliveries[message.topic, default: []].append(entry)
        deliveryBytes[message.topic, default: 0] += entry.data.utf8.count
        var drop = max(0, deliveries[message.topic]!.count - Self.maxDeliveriesPerTopic)
        var bytes = deliveryBytes[message.topic]!
        for old in deliveries[message.topic]!.prefix(drop) { bytes -= old.data.utf8.count }
        while bytes > Self.maxDeliveryBytesPerTopic, drop < deliveries[message.topic]!.count - 1 {
            bytes -= deliveries[message.topic]![drop].data.utf8.count
            drop += 1
        }
        if drop > 0 { deliveries[message.topic]!.removeFirst(drop) }
        deliveryBytes[message.topic] = bytes
    }

    mutating func received(_ id: Bytes32, from: Ed25519.PublicKey?, at time: UInt64) {
        if traces[id] == nil {
            traces[id] = []
            traceOrder.append(id)
            if traceOrder.count - traceOrderStart > Self.maxTraces {
                traces[traceOrder[traceOrderStart]] = nil
                traceOrderStart += 1
                if traceOrderStart > Self.maxTraces {
                    traceOrder.removeFirst(traceOrderStart)
                    traceOrderStart = 0
                }
            }
        }
        let first = traces[id]!.isEmpty
        let sender = from?.hex
        guard traces[id]!.count < Self.maxReceiptsPerMessage, !traces[id]!.contains(where: { $0.from == sender }) else { return }
        traces[id]!.append(MessageReceipt(from: sender, receivedUnixNanos: time, first: first))
    }

    /// Traces, receipts and delivered entries held (what the bounds' tests measure).
    var footprint: (traces: Int, receipts: Int, deliveries: Int) {
        (traces.count, traces.values.reduce(0) { $0 + $1.count }, deliveries.values.reduce(0) { $0 + $1.count })
    }

    /// Delivered messages of `topic` with an index of at least `since`, oldest first, at most `limit`.
    func messages(topic: Topic, since: Int, limit: Int) -> [DeliveredMessage] {
        (deliveries[topic] ?? []).lazy.filter { $0.index >= since }.prefix(limit).map { $0 }
    }

    func trace(_ id: Bytes32) -> [MessageReceipt]? { traces[id] }

    /// UTF-8 text as is; anything else as hex, so JSON output stays valid.
    static func render(_ bytes: ArraySlice<UInt8>) -> String {
        String(validating: bytes, as: UTF8.self) ?? "hex:" + Hex.encode(Array(bytes))
    }
}

/// `messages`: one message delivered to this node (or published by it: `from` is absent).
public struct DeliveredMessage: Codable, Sendable, Equatable {
    public var index: Int
    public var id: String
    public var topic: String
    public var author: String?
    public var type: String?
    public var epoch: UInt64?
    public var seq: UInt64?
    public var data: String
    public var bytes: Int
    public var receivedUnixNanos: UInt64
    public var from: String?

    enum CodingKeys: String, CodingKey {
        case index, id, topic, author, type, epoch, seq, data, bytes, from
        case receivedUnixNanos = "received_unix_ns"
    }
}

/// `trace`: one copy of a message received by this node.
public struct MessageReceipt: Codable, Sendable, Equatable {
    /// The peer that sent this copy; absent for the node's own publication.
    public var from: String?
    public var receivedUnixNanos: UInt64
    /// Whether this copy was the first (the delivery); later ones are duplicates.
    public var first: Bool

    enum CodingKeys: String, CodingKey {
        case from, first
        case receivedUnixNanos = "received_unix_ns"
    }
}
