import ChorusCrypto

/// A topic name (e.g. "statements/poc-commit").
public typealias Topic = String

/// One gossip RPC between two peers: subscription changes, full messages, and control messages.
/// Several parts may travel together; the shell encodes it on the wire (`Specs/gossip.md`).
public struct GossipRPC: Sendable, Equatable {
    public var subscribe: [Topic] = []
    public var unsubscribe: [Topic] = []
    public var messages: [GossipMessage] = []
    public var ihave: [(topic: Topic, ids: [Bytes32])] = []
    public var iwant: [Bytes32] = []
    public var graft: [Topic] = []
    public var prune: [(topic: Topic, backoffSeconds: UInt32)] = []
    public var idontwant: [Bytes32] = []
    /// Make our mesh link lazy for these topics: ids only (IHAVE), no payloads, both ways.
    public var choke: [Topic] = []
    /// Make our mesh link eager again for these topics.
    public var unchoke: [Topic] = []

    public init() {}

    public var isEmpty: Bool {
        subscribe.isEmpty && unsubscribe.isEmpty && messages.isEmpty && ihave.isEmpty && iwant.isEmpty
            && graft.isEmpty && prune.isEmpty && idontwant.isEmpty && choke.isEmpty && unchoke.isEmpty
    }

    /// True when the RPC carries only control information (sent at control priority).
    public var isControlOnly: Bool { messages.isEmpty }

    public static func == (a: GossipRPC, b: GossipRPC) -> Bool {
        a.subscribe == b.subscribe && a.unsubscribe == b.unsubscribe && a.messages == b.messages
            && a.ihave.map(\.topic) == b.ihave.map(\.topic) && a.ihave.map(\.ids) == b.ihave.map(\.ids)
            && a.iwant == b.iwant && a.graft == b.graft
            && a.prune.map(\.topic) == b.prune.map(\.topic) && a.prune.map(\.backoffSeconds) == b.prune.map(\.backoffSeconds)
            && a.idontwant == b.idontwant && a.choke == b.choke && a.unchoke == b.unchoke
    }
}

/// A published message: a topic and an opaque payload, identified by the BLAKE2b-256 of the payload
/// (content addressing: the same bytes published twice are one message).
public struct GossipMessage: Sendable, Equatable {
    public let topic: Topic
    public let payload: [UInt8]
    public let id: Bytes32

    public init(topic: Topic, payload: [UInt8]) {
        self.topic = topic
        self.payload = payload
        self.id = Blake2b.hash256(payload)
    }

    /// For decoders that already computed the id from the same bytes.
    public init(topic: Topic, payload: [UInt8], id: Bytes32) {
        self.topic = topic
        self.payload = payload
        self.id = id
    }
}

/// The application's verdict on a received message (gossipsub's validation result).
public enum ValidationResult: Sendable, Equatable {
    /// Valid: deliver and forward.
    case accept
    /// Invalid (bad signature, malformed): do not forward, penalise the sender.
    case reject
    /// Not useful (stale, duplicate statement): do not forward, no penalty.
    case ignore
}
