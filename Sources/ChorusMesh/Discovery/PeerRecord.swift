import ChorusCrypto
import ChorusWire

/// A node's signed statement of where it can be dialed and what it does (Specs/gossip.md §5,
/// "Peer records"). Peer exchange carries these instead of bare addresses, so a relaying peer can
/// neither invent addresses for someone else nor roll a node back to addresses it gave up: only
/// the key's owner can sign, and a higher `seq` replaces a lower one (as ENR and libp2p's signed
/// peer records do).
public struct PeerRecord: Sendable, Hashable {
    /// What the node does for the network.
    public enum Role: UInt8, Sendable, Hashable, CaseIterable {
        /// Serves inference and PoC, validates and votes.
        case full = 1
        /// Only verifies and relays statements.
        case verifyOnly = 2
    }

    public static let wireVersion: UInt8 = 1
    /// Prefix of the signed bytes, so a record signature can never be replayed as any other
    /// Chorus signature (statements, identity proofs) or the other way round.
    public static let signingDomain: [UInt8] = Array("chorus/peer-record/1\0".utf8)
    public static let maxAddresses = 8
    public static let maxModels = 32
    public static let maxModelIDLength = 255
    public static let maxNetworkIDLength = 64

    public let networkID: String
    public let publicKey: Ed25519.PublicKey
    /// Rises with every record the key publishes; the highest one wins.
    public let seq: UInt64
    /// Unix milliseconds when the record was signed.
    public let issuedAtMs: UInt64
    public let role: Role
    /// Dialable addresses, sorted ascending by their text, no duplicates.
    public let addresses: [NetAddress]
    /// Model ids served, sorted ascending bytewise, no duplicates.
    public let models: [String]
    public let signature: Ed25519.Signature

    /// Signs a record for `key`. Addresses and models are sorted and deduplicated (the encoding is
    /// canonical); too many of either is a `WireError.lengthOverLimit`.
    public init(signingWith key: Ed25519.SigningKey, networkID: String, seq: UInt64, issuedAtMs: UInt64, role: Role,
                addresses: [NetAddress], models: [String]) throws(WireError) {
        let sortedAddresses = Self.canonical(addresses)
        let sortedModels = Array(Set(models)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        guard sortedAddresses.count <= Self.maxAddresses else {
            throw .lengthOverLimit(field: "peer_record.addresses", length: sortedAddresses.count, limit: Self.maxAddresses)
        }
        guard sortedModels.count <= Self.maxModels else {
            throw .lengthOverLimit(field: "peer_record.models", length: sortedModels.count, limit: Self.maxModels)
        }
        for model in sortedModels where model.utf8.count > Self.maxModelIDLength || model.isEmpty {
            throw .invalidValue(field: "peer_record.models", reason: "a model id must be 1-\(Self.maxModelIDLength) bytes")
        }
        guard !networkID.isEmpty, networkID.utf8.count <= Self.maxNetworkIDLength else {
            throw .invalidValue(field: "peer_record.network_id", reason: "must be 1-\(Self.maxNetworkIDLength) bytes")
        }
        let body = Self.body(networkID: networkID, publicKey: key.publicKey, seq: seq, issuedAtMs: issuedAtMs,
                             role: role, addresses: sortedAddresses, models: sortedModels)
        self.init(networkID: networkID, publicKey: key.publicKey, seq: seq, issuedAtMs: issuedAtMs, role: role,
                  addresses: sortedAddresses, models: sortedModels, signature: key.sign(Self.signingDomain + body))
    }

    private init(networkID: String, publicKey: Ed25519.PublicKey, seq: UInt64, issuedAtMs: UInt64, role: Role,
                 addresses: [NetAddress], models: [String], signature: Ed25519.Signature) {
        self.networkID = networkID
        self.publicKey = publicKey
        self.seq = seq
        self.issuedAtMs = issuedAtMs
        self.role = role
        self.addresses = addresses
        self.models = models
        self.signature = signature
    }

    /// The bytes the signature covers, without the domain prefix.
    public var signedBody: [UInt8] {
        Self.body(networkID: networkID, publicKey: publicKey, seq: seq, issuedAtMs: issuedAtMs, role: role,
                  addresses: addresses, models: models)
    }

    /// True when the signature is the record owner's over the domain-separated body.
    public var hasValidSignature: Bool {
        publicKey.isValidSignature(signature, for: Self.signingDomain + signedBody)
    }

    // MARK: - Encoding

    /// `signed body ‖ signature bytes[64]` (Specs/gossip.md §5).
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        encode(into: &w)
        return w.bytes
    }

    public func encode(into w: inout WireWriter) {
        w.writeRaw(signedBody)
        w.writeSignature(signature)
    }

    /// Decodes one record. Structure only: the signature is checked by `hasValidSignature` (the
    /// address book does, so a forged record can be blamed on whoever relayed it).
    public init(decoding bytes: ArraySlice<UInt8>) throws(WireError) {
        var r = WireReader(bytes)
        try self.init(reading: &r)
        try r.finish()
    }

    public init(reading r: inout WireReader) throws(WireError) {
        let version = try r.readU8(field: "peer_record.version")
        guard version == Self.wireVersion else {
            throw .unknownVersion(what: "peer record", version: Int(version), highestKnown: Int(Self.wireVersion))
        }
        let networkID = try r.readString(field: "peer_record.network_id", maxLength: Self.maxNetworkIDLength)
        guard !networkID.isEmpty else { throw .invalidValue(field: "peer_record.network_id", reason: "must not be empty") }
        let publicKey = try r.readPublicKey(field: "peer_record.public_key")
        let seq = try r.readU64(field: "peer_record.seq")
        let issuedAtMs = try r.readU64(field: "peer_record.issued_at_ms")
        let roleByte = try r.readU8(field: "peer_record.role")
        guard let role = Role(rawValue: roleByte) else {
            throw .invalidValue(field: "peer_record.role", reason: "expected 1 (full) or 2 (verify-only), got \(roleByte)")
        }
        let texts = try r.readArray(field: "peer_record.addresses", maxCount: Self.maxAddresses, minElementSize: 4) {
            (r: inout WireReader) throws(WireError) -> String in
            try r.readString(field: "peer_record.address", maxLength: 64)
        }
        var addresses: [NetAddress] = []
        for text in texts {
            let address: NetAddress
            do { address = try NetAddress(parsing: text) } catch {
                throw .invalidValue(field: "peer_record.address", reason: "\(error)")
            }
            // One value, one encoding: "01.2.3.4:5" or an unshortened IPv6 form is refused.
            guard address.description == text else {
                throw .invalidValue(field: "peer_record.address", reason: "\"\(text)\" is not in canonical form \"\(address.description)\"")
            }
            addresses.append(address)
        }
        try WireReader.requireStrictlyAscending(texts.map { Array($0.utf8) }.map(ByteString.init), field: "peer_record.addresses")
        let models = try r.readArray(field: "peer_record.models", maxCount: Self.maxModels, minElementSize: 5) {
            (r: inout WireReader) throws(WireError) -> String in
            let model = try r.readString(field: "peer_record.model", maxLength: Self.maxModelIDLength)
            guard !model.isEmpty else { throw .invalidValue(field: "peer_record.model", reason: "must not be empty") }
            return model
        }
        try WireReader.requireStrictlyAscending(models.map { Array($0.utf8) }.map(ByteString.init), field: "peer_record.models")
        let signature = try r.readSignature(field: "peer_record.signature")
        self.init(networkID: networkID, publicKey: publicKey, seq: seq, issuedAtMs: issuedAtMs, role: role,
                  addresses: addresses, models: models, signature: signature)
    }

    // MARK: - Internals

    private static func canonical(_ addresses: [NetAddress]) -> [NetAddress] {
        var byText: [String: NetAddress] = [:]
        for a in addresses { byText[a.description] = a }
        return byText.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { byText[$0]! }
    }

    private static func body(networkID: String, publicKey: Ed25519.PublicKey, seq: UInt64, issuedAtMs: UInt64, role: Role,
                             addresses: [NetAddress], models: [String]) -> [UInt8] {
        var w = WireWriter()
        w.writeU8(wireVersion)
        w.writeString(networkID)
        w.writePublicKey(publicKey)
        w.writeU64(seq)
        w.writeU64(issuedAtMs)
        w.writeU8(role.rawValue)
        w.writeArray(addresses) { $0.writeString($1.description) }
        w.writeArray(models) { $0.writeString($1) }
        return w.bytes
    }
}
