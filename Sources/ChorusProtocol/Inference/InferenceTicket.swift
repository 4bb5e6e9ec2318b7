public import ChorusCrypto
public import ChorusWire

/// What a gateway signs to issue one inference (Specs/inference.md §2–3): the request's digest,
/// who issues it, when, and which epoch's beacon seeds its tape. Its hash is the request id; the
/// gateway's signature over the id, hashed with the id and the beacon, is the inference seed.
///
/// Neither side picks the seed: the executor sees the ticket only after it is signed, and the
/// gateway's Ed25519 signature is deterministic, so its only freedom is the nonce (grinding a
/// tape helps nobody cheat a validator, who recomputes the tape from the same seed).
public struct InferenceTicket: Sendable, Hashable, WireCodable {
    public static let version: UInt8 = 1

    public let networkID: String
    /// The epoch whose agreed beacon seed (Specs/epochs.md §2) enters the inference seed.
    public let epoch: UInt64
    public let gateway: Ed25519.PublicKey
    /// Unique per gateway (a counter or random); makes equal requests distinct inferences.
    public let nonce: UInt64
    /// Unix milliseconds on the gateway's clock.
    public let issuedAtMs: UInt64
    public let requestDigest: Bytes32

    public init(networkID: String, epoch: UInt64, gateway: Ed25519.PublicKey, nonce: UInt64, issuedAtMs: UInt64,
                requestDigest: Bytes32) throws(ProtocolError) {
        guard (1...SignedStatement.maxNetworkIDLength).contains(networkID.utf8.count) else {
            throw .invalidParameter(key: "inference-ticket.network_id", expected: "1 to \(SignedStatement.maxNetworkIDLength) bytes",
                                    found: "\(networkID.utf8.count) bytes")
        }
        self.networkID = networkID
        self.epoch = epoch
        self.gateway = gateway
        self.nonce = nonce
        self.issuedAtMs = issuedAtMs
        self.requestDigest = requestDigest
    }

    /// `H("chorus/inference/id/1\0" ‖ encoding)`.
    public var requestID: Bytes32 { Blake2b.hash256(Array("chorus/inference/id/1\0".utf8) + encodedBytes()) }

    /// The bytes the gateway signs: `"chorus/inference/request-sig/1\0" ‖ request id`.
    public static func signedMessage(requestID: Bytes32) -> [UInt8] {
        Array("chorus/inference/request-sig/1\0".utf8) + requestID.bytes
    }

    public func sign(with key: Ed25519.SigningKey) throws(ProtocolError) -> Ed25519.Signature {
        guard key.publicKey == gateway else {
            throw .invalidStatement(type: "inference-ticket", reason: "signed by \(key.publicKey.hex), the ticket names gateway \(gateway.hex)")
        }
        return key.sign(Self.signedMessage(requestID: requestID))
    }

    /// Checks the gateway's signature over this ticket's id.
    public func verify(_ signature: Ed25519.Signature) throws(ProtocolError) {
        guard gateway.isValidSignature(signature, for: Self.signedMessage(requestID: requestID)) else {
            throw .invalidStatement(type: "inference-ticket", reason: "signature is not \(gateway.hex)'s over request \(requestID.hex)")
        }
    }

    /// `H("chorus/inference/seed/1\0" ‖ request id ‖ gateway signature ‖ beacon)`: the tape's key.
    public static func seed(requestID: Bytes32, gatewaySignature: Ed25519.Signature, beacon: Bytes32) -> Bytes32 {
        Blake2b.hash256(Array("chorus/inference/seed/1\0".utf8) + requestID.bytes + gatewaySignature.bytes + beacon.bytes)
    }

    public func seed(gatewaySignature: Ed25519.Signature, beacon: Bytes32) -> Bytes32 {
        Self.seed(requestID: requestID, gatewaySignature: gatewaySignature, beacon: beacon)
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeString(networkID)
        writer.writeU64(epoch)
        writer.writePublicKey(gateway)
        writer.writeU64(nonce)
        writer.writeU64(issuedAtMs)
        writer.writeBytes32(requestDigest)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "inference-ticket.version")
        guard version == Self.version else {
            throw .unknownVersion(what: "inference-ticket", version: Int(version), highestKnown: Int(Self.version))
        }
        networkID = try reader.readString(field: "inference-ticket.network_id", maxLength: SignedStatement.maxNetworkIDLength)
        guard !networkID.isEmpty else { throw .invalidValue(field: "inference-ticket.network_id", reason: "empty network id") }
        epoch = try reader.readU64(field: "inference-ticket.epoch")
        gateway = try reader.readPublicKey(field: "inference-ticket.gateway")
        nonce = try reader.readU64(field: "inference-ticket.nonce")
        issuedAtMs = try reader.readU64(field: "inference-ticket.issued_at_ms")
        requestDigest = try reader.readBytes32(field: "inference-ticket.request_digest")
    }
}
