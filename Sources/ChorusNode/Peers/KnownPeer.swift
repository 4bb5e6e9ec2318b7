import ChorusCrypto
import ChorusWire

/// A peer remembered across restarts: where it can be dialed and when it was last connected.
/// Stored in the `peers` table so a node restarted without seeds finds its way back.
public struct KnownPeer: Sendable, Equatable {
    public var identity: Ed25519.PublicKey
    /// A dialable `host:port`.
    public var address: String
    /// Seconds since the Unix epoch of the last completed handshake.
    public var lastConnected: UInt64

    public init(identity: Ed25519.PublicKey, address: String, lastConnected: UInt64) {
        self.identity = identity
        self.address = address
        self.lastConnected = lastConnected
    }

    /// The value stored under the identity: `version (u8 = 1) ‖ address (string) ‖ last_connected (u64)`.
    var encodedValue: [UInt8] {
        var writer = WireWriter()
        writer.writeU8(1)
        writer.writeString(address)
        writer.writeU64(lastConnected)
        return writer.bytes
    }

    init(identity: Ed25519.PublicKey, decodingValue bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        let version = try reader.readU8(field: "peer.version")
        guard version == 1 else { throw WireError.unknownVersion(what: "known peer record", version: Int(version), highestKnown: 1) }
        let address = try reader.readString(field: "peer.address", maxLength: 256)
        let lastConnected = try reader.readU64(field: "peer.last_connected")
        try reader.finish()
        self.init(identity: identity, address: address, lastConnected: lastConnected)
    }
}
