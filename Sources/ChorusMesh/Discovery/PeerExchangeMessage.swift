import ChorusCrypto
import ChorusWire

/// Peer exchange (Specs/gossip.md §5, "Peer exchange"), carried in session messages with protocol
/// tag 3: a request for addresses, and an answer listing dialable addresses with the identity
/// expected there when known.
public enum PeerExchangeMessage: Sendable, Equatable {
    case request
    case addresses([PeerAddress])

    public struct PeerAddress: Sendable, Equatable {
        public let address: NetAddress
        public let identity: Ed25519.PublicKey?
        public init(address: NetAddress, identity: Ed25519.PublicKey?) {
            self.address = address
            self.identity = identity
        }
    }

    public static let wireVersion: UInt8 = 1
    /// Addresses in one answer.
    public static let maxAddresses = 32

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.writeU8(Self.wireVersion)
        switch self {
        case .request:
            w.writeU8(1)
        case let .addresses(list):
            w.writeU8(2)
            w.writeArray(list) { w, entry in
                w.writeString(entry.address.description)
                w.writeOptional(entry.identity) { $0.writePublicKey($1) }
            }
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
            self = .request
        case 2:
            self = .addresses(try r.readArray(field: "px.addresses", maxCount: Self.maxAddresses, minElementSize: 5) {
                (r: inout WireReader) throws(WireError) -> PeerAddress in
                let text = try r.readString(field: "px.address", maxLength: 64)
                let address: NetAddress
                do { address = try NetAddress(parsing: text) } catch {
                    throw .invalidValue(field: "px.address", reason: "\(error)")
                }
                let identity = try r.readOptional(field: "px.identity") { (r: inout WireReader) throws(WireError) in
                    try r.readPublicKey(field: "px.identity")
                }
                return PeerAddress(address: address, identity: identity)
            })
        case let kind:
            throw .invalidValue(field: "px.kind", reason: "expected 1 (request) or 2 (addresses), got \(kind)")
        }
        try r.finish()
    }
}
