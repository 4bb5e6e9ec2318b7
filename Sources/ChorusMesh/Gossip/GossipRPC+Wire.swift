import ChorusCrypto
import ChorusWire

/// The wire form of a gossip RPC (Specs/gossip.md, "Wire format"), carried in session messages
/// with protocol tag 1. Every list is bounded, and the bounds are checked against the bytes that
/// are actually present before anything is allocated.
extension GossipRPC {
    public static let wireVersion: UInt8 = 1
    /// Topics are short names.
    public static let maxTopicLength = 64
    /// Topics per subscribe, unsubscribe, graft, prune and IHAVE list.
    public static let maxTopics = 64
    /// Messages carried by one RPC.
    public static let maxMessages = 64
    /// Ids per IHAVE topic entry, IWANT and IDONTWANT.
    public static let maxIDs = 5000

    public func encoded() -> [UInt8] {
        var w = WireWriter(reservingCapacity: 64 + messages.reduce(0) { $0 + $1.payload.count + 80 })
        w.writeU8(Self.wireVersion)
        w.writeArray(subscribe) { $0.writeString($1) }
        w.writeArray(unsubscribe) { $0.writeString($1) }
        w.writeArray(messages) { w, m in
            w.writeString(m.topic)
            w.writeBytes(m.payload)
        }
        w.writeArray(ihave) { w, entry in
            w.writeString(entry.topic)
            w.writeArray(entry.ids) { $0.writeBytes32($1) }
        }
        w.writeArray(iwant) { $0.writeBytes32($1) }
        w.writeArray(graft) { $0.writeString($1) }
        w.writeArray(prune) { w, entry in
            w.writeString(entry.topic)
            w.writeU32(entry.backoffSeconds)
        }
        w.writeArray(idontwant) { $0.writeBytes32($1) }
        w.writeArray(choke) { $0.writeString($1) }
        w.writeArray(unchoke) { $0.writeString($1) }
        return w.bytes
    }

    /// Decodes an RPC; message ids are recomputed from the payloads. `maxPayload` bounds each
    /// message's payload (the session's maximum message size).
    public init(decoding bytes: ArraySlice<UInt8>, maxPayload: Int) throws(WireError) {
        self.init()
        var r = WireReader(bytes)
        let version = try r.readU8(field: "gossip.version")
        guard version == Self.wireVersion else {
            throw .unknownVersion(what: "gossip RPC", version: Int(version), highestKnown: Int(Self.wireVersion))
        }
        func topic(_ r: inout WireReader, _ field: String) throws(WireError) -> Topic {
            try r.readString(field: field, maxLength: Self.maxTopicLength)
        }
        subscribe = try r.readArray(field: "gossip.subscribe", maxCount: Self.maxTopics, minElementSize: 4) { (r: inout WireReader) throws(WireError) in
            try topic(&r, "gossip.subscribe.topic")
        }
        unsubscribe = try r.readArray(field: "gossip.unsubscribe", maxCount: Self.maxTopics, minElementSize: 4) { (r: inout WireReader) throws(WireError) in
            try topic(&r, "gossip.unsubscribe.topic")
        }
        messages = try r.readArray(field: "gossip.messages", maxCount: Self.maxMessages, minElementSize: 8) { (r: inout WireReader) throws(WireError) in
            let t = try topic(&r, "gossip.message.topic")
            let payload = Array(try r.readBytes(field: "gossip.message.payload", maxLength: maxPayload))
            return GossipMessage(topic: t, payload: payload)
        }
        ihave = try r.readArray(field: "gossip.ihave", maxCount: Self.maxTopics, minElementSize: 8) { (r: inout WireReader) throws(WireError) in
            let t = try topic(&r, "gossip.ihave.topic")
            let ids = try r.readArray(field: "gossip.ihave.ids", maxCount: Self.maxIDs, minElementSize: 32) { (r: inout WireReader) throws(WireError) in
                try r.readBytes32(field: "gossip.ihave.id")
            }
            return (t, ids)
        }
        iwant = try r.readArray(field: "gossip.iwant", maxCount: Self.maxIDs, minElementSize: 32) { (r: inout WireReader) throws(WireError) in
            try r.readBytes32(field: "gossip.iwant.id")
        }
        graft = try r.readArray(field: "gossip.graft", maxCount: Self.maxTopics, minElementSize: 4) { (r: inout WireReader) throws(WireError) in
            try topic(&r, "gossip.graft.topic")
        }
        prune = try r.readArray(field: "gossip.prune", maxCount: Self.maxTopics, minElementSize: 8) { (r: inout WireReader) throws(WireError) in
            let t = try topic(&r, "gossip.prune.topic")
            return (t, try r.readU32(field: "gossip.prune.backoff"))
        }
        idontwant = try r.readArray(field: "gossip.idontwant", maxCount: Self.maxIDs, minElementSize: 32) { (r: inout WireReader) throws(WireError) in
            try r.readBytes32(field: "gossip.idontwant.id")
        }
        choke = try r.readArray(field: "gossip.choke", maxCount: Self.maxTopics, minElementSize: 4) { (r: inout WireReader) throws(WireError) in
            try topic(&r, "gossip.choke.topic")
        }
        unchoke = try r.readArray(field: "gossip.unchoke", maxCount: Self.maxTopics, minElementSize: 4) { (r: inout WireReader) throws(WireError) in
            try topic(&r, "gossip.unchoke.topic")
        }
        try r.finish()
    }
}
