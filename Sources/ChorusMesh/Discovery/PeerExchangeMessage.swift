import ChorusCrypto
import ChorusWire

/// Peer exchange (Specs/gossip.md §5, "Peer exchange"), carried in session messages with protocol
/// tag 3. Version 2 carries signed peer records instead of bare addresses: the asker sends its own
/// record with its request (so a newcomer that only dials out still becomes known), and the answer
/// lists records the answerer holds, each signed by the node it describes.
public enum PeerExchangeMessage: Sendable, Equatable {
    /// A request for records, with the asker's own record when it has a dialable address.
    case request(own: PeerRecord?)
    case records([PeerRecord])

    /// Version 1 carried unsigned addresses; it is refused as an unknown version.
    public static let wireVersion: UInt8 = 2
    /// Records in one answer.
    public static let maxRecords = 32
    /// The smallest record encoding: version, empty network id prefix, key, seq, issued-at, role,
    /// two empty arrays, signature.
    static let minRecordSize = 1 + 4 + 32 + 8 + 8 + 1 + 4 + 4 + 64

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.writeU8(Self.wireVersion)
        switch self {
        case let .request(own):
            w.writeU8(1)
            w.writeOptional(own) { $1.encode(into: &$0) }
        case let .records(list):
            w.writeU8(2)
            w.writeArray(list) { $1.encode(into: &$0) }
        }
        return w.bytes
    }

    public init(decoding bytes: ArraySlice<UInt8>) throws(WireError) {
        var r = WireReader(bytes)
        let version = try r.readU8(field: "px.version")
        guard version == Self.wireVersion else {
            throw .unknownVersion(what: "peer exchange message", version: Int(version), highestKnown: Int(Self.wireVersion))
        }
        switch try r.readU8(field: "px.kind") {
        case 1:
            self = .request(own: try r.readOptional(field: "px.own") { (r: inout WireReader) throws(WireError) in
                try PeerRecord(reading: &r)
            })
        case 2:
            self = .records(try r.readArray(field: "px.records", maxCount: Self.maxRecords, minElementSize: Self.minRecordSize) {
                (r: inout WireReader) throws(WireError) -> PeerRecord in
                try PeerRecord(reading: &r)
            })
        case let kind:
            throw .invalidValue(field: "px.kind", reason: "expected 1 (request) or 2 (records), got \(kind)")
        }
        try r.finish()
    }
}
