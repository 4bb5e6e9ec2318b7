import ChorusCrypto
import ChorusWire

/// The messages of anti-entropy (Specs/gossip.md §4, "Wire format"), carried in session messages
/// with protocol tag 2: reconciliation items, requests for statements by id, and the statements.
public enum SyncMessage: Sendable, Equatable {
    case reconcile([ReconcileItem])
    case fetch([Bytes32])
    case statements([[UInt8]])

    public static let wireVersion: UInt8 = 1
    /// Items, ids or statements in one message.
    public static let maxEntries = 4096

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.writeU8(Self.wireVersion)
        switch self {
        case let .reconcile(items):
            w.writeU8(1)
            w.writeArray(items) { w, item in
                switch item {
                case let .fingerprint(scope, range, count, fingerprint):
                    w.writeU8(1)
                    Self.write(scope, range, to: &w)
                    w.writeU32(count)
                    w.writeBytes32(fingerprint)
                case let .ids(scope, range, ids, wantsReply):
                    w.writeU8(2)
                    Self.write(scope, range, to: &w)
                    w.writeArray(ids) { $0.writeBytes32($1) }
                    w.writeBool(wantsReply)
                }
            }
        case let .fetch(ids):
            w.writeU8(2)
            w.writeArray(ids) { $0.writeBytes32($1) }
        case let .statements(statements):
            w.writeU8(3)
            w.writeArray(statements) { $0.writeBytes($1) }
        }
        return w.bytes
    }

    /// Decodes a sync message; `maxStatement` bounds each carried statement.
    public init(decoding bytes: ArraySlice<UInt8>, maxStatement: Int) throws(WireError) {
        var r = WireReader(bytes)
        let version = try r.readU8(field: "sync.version")
        guard version == Self.wireVersion else {
            throw .unknownVersion(what: "sync message", version: Int(version), highestKnown: Int(Self.wireVersion))
        }
        switch try r.readU8(field: "sync.kind") {
        case 1:
            self = .reconcile(try r.readArray(field: "sync.items", maxCount: Self.maxEntries, minElementSize: 1 + 4 + 8 + 33) {
                (r: inout WireReader) throws(WireError) -> ReconcileItem in
                let tag = try r.readU8(field: "sync.item.tag")
                let (scope, range) = try Self.read(&r)
                switch tag {
                case 1:
                    return .fingerprint(scope, range, count: try r.readU32(field: "sync.item.count"),
                                        fingerprint: try r.readBytes32(field: "sync.item.fingerprint"))
                case 2:
                    let ids = try r.readArray(field: "sync.item.ids", maxCount: Self.maxEntries, minElementSize: 32) {
                        (r: inout WireReader) throws(WireError) in try r.readBytes32(field: "sync.item.id")
                    }
                    guard zip(ids, ids.dropFirst()).allSatisfy({ $0 < $1 }) else {
                        throw .invalidValue(field: "sync.item.ids", reason: "ids must be strictly ascending")
                    }
                    return .ids(scope, range, ids, wantsReply: try r.readBool(field: "sync.item.wants_reply"))
                default:
                    throw .invalidValue(field: "sync.item.tag", reason: "expected 1 (fingerprint) or 2 (ids), got \(tag)")
                }
            })
        case 2:
            self = .fetch(try r.readArray(field: "sync.fetch", maxCount: Self.maxEntries, minElementSize: 32) {
                (r: inout WireReader) throws(WireError) in try r.readBytes32(field: "sync.fetch.id")
            })
        case 3:
            self = .statements(try r.readArray(field: "sync.statements", maxCount: Self.maxEntries, minElementSize: 4) {
                (r: inout WireReader) throws(WireError) in Array(try r.readBytes(field: "sync.statement", maxLength: maxStatement))
            })
        case let kind:
            throw .invalidValue(field: "sync.kind", reason: "expected 1 (reconcile), 2 (fetch) or 3 (statements), got \(kind)")
        }
        try r.finish()
    }

    /// Splits reconciliation items into messages a peer accepts: at most `maxEntries` items and
    /// about `maxBytes` each. A node may hold more scopes than one message carries (a peer can make
    /// it store statements in thousands of epochs); sending them in one message would be refused as
    /// oversized, and that refusal must never be what a correct node provokes (Specs/gossip.md §4).
    public static func reconcileMessages(_ items: [ReconcileItem], maxBytes: Int = 1 << 20) -> [SyncMessage] {
        var messages: [SyncMessage] = []
        var current: [ReconcileItem] = []
        var bytes = 0
        for item in items {
            let size = encodedSize(item)
            if !current.isEmpty && (current.count == maxEntries || bytes + size > maxBytes) {
                messages.append(.reconcile(current))
                current = []
                bytes = 0
            }
            current.append(item)
            bytes += size
        }
        if !current.isEmpty { messages.append(.reconcile(current)) }
        return messages
    }

    /// The bytes `item` takes in a reconcile message.
    static func encodedSize(_ item: ReconcileItem) -> Int {
        func scopeAndRange(_ scope: SyncScope, _ range: IDRange) -> Int {
            4 + scope.topic.utf8.count + 8 + 32 + 1 + (range.upper == nil ? 0 : 32)
        }
        switch item {
        case let .fingerprint(scope, range, _, _): return 1 + scopeAndRange(scope, range) + 4 + 32
        case let .ids(scope, range, ids, _): return 1 + scopeAndRange(scope, range) + 4 + 32 * ids.count + 1
        }
    }

    private static func write(_ scope: SyncScope, _ range: IDRange, to w: inout WireWriter) {
        w.writeString(scope.topic)
        w.writeU64(scope.epoch)
        w.writeBytes32(range.lower)
        w.writeOptional(range.upper) { $0.writeBytes32($1) }
    }

    private static func read(_ r: inout WireReader) throws(WireError) -> (SyncScope, IDRange) {
        let topic = try r.readString(field: "sync.scope.topic", maxLength: GossipRPC.maxTopicLength)
        let epoch = try r.readU64(field: "sync.scope.epoch")
        let lower = try r.readBytes32(field: "sync.range.lower")
        let upper = try r.readOptional(field: "sync.range.upper") { (r: inout WireReader) throws(WireError) in
            try r.readBytes32(field: "sync.range.upper")
        }
        return (SyncScope(topic: topic, epoch: epoch), IDRange(lower: lower, upper: upper))
    }
}
