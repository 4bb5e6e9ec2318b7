public import ChorusCrypto
public import ChorusProtocol
public import ChorusWire

/// Proof exchange between a validator and a prover (Specs/proofs.md), in session messages of
/// protocol tag 4. A validator asks the author of a PoC commit for the Merkle proofs of the leaves
/// it sampled; the author answers with the proofs (each carrying its nonce and artifact).
public enum ProofMessage: Sendable, Equatable {
    case request(ProofRequest)
    case response(ProofResponse)

    public static let requestKind: UInt8 = 1
    public static let responseKind: UInt8 = 2

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case let .request(r):
            w.writeU8(Self.requestKind)
            r.encode(to: &w)
        case let .response(r):
            w.writeU8(Self.responseKind)
            r.encode(to: &w)
        }
        return w.bytes
    }

    public init(decoding bytes: ArraySlice<UInt8>) throws(WireError) {
        self = try WireReader.decode(bytes) { (r: inout WireReader) throws(WireError) -> ProofMessage in
            switch try r.readU8(field: "proof-message.kind") {
            case Self.requestKind: return .request(try ProofRequest(from: &r))
            case Self.responseKind: return .response(try ProofResponse(from: &r))
            case let kind: throw .invalidValue(field: "proof-message.kind", reason: "unknown kind \(kind) (1 request, 2 response)")
            }
        }
    }
}

/// "Send me the proofs of leaves `indices` of your commit `commit`", signed by the validator so
/// that the prover can attribute (and rate) requests even when relayed in logs or evidence.
public struct ProofRequest: Sendable, Equatable, WireCodable {
    public static let version: UInt8 = 1
    /// Leaves per request: 256 proofs of depth 40 are about 270 KB, well under a session message.
    public static let maxIndices = 256
    /// The signature's domain: never valid as a statement, handshake or vote signature.
    public static let domain = Array("chorus/proof-request/1\0".utf8)

    public var requestID: UInt64
    public var epoch: UInt64
    public var model: String
    /// The commit statement's id.
    public var commit: Bytes32
    /// Dense leaf indices, strictly ascending, 1 to `maxIndices` of them.
    public var indices: [UInt64]
    public var signature: Ed25519.Signature

    /// Builds and signs a request as `validator` on `networkID`.
    public init(requestID: UInt64, epoch: UInt64, model: String, commit: Bytes32, indices: [UInt64],
                networkID: String, validator: Ed25519.SigningKey) {
        self.requestID = requestID
        self.epoch = epoch
        self.model = model
        self.commit = commit
        self.indices = indices
        self.signature = Ed25519.Signature.placeholder
        self.signature = validator.sign(signingMessage(networkID: networkID, validator: validator.publicKey))
    }

    /// `domain ‖ string network_id ‖ bytes[32] validator ‖ the request's fields up to indices`.
    public func signingMessage(networkID: String, validator: Ed25519.PublicKey) -> [UInt8] {
        var w = WireWriter()
        w.writeRaw(Self.domain)
        w.writeString(networkID)
        w.writePublicKey(validator)
        encodeFields(to: &w)
        return w.bytes
    }

    /// Whether `validator` (the session's peer) signed this request for `networkID`.
    public func isSigned(by validator: Ed25519.PublicKey, networkID: String) -> Bool {
        validator.isValidSignature(signature, for: signingMessage(networkID: networkID, validator: validator))
    }

    private func encodeFields(to w: inout WireWriter) {
        w.writeU8(Self.version)
        w.writeU64(requestID)
        w.writeU64(epoch)
        w.writeString(model)
        w.writeBytes32(commit)
        w.writeArray(indices) { w, i in w.writeU64(i) }
    }

    public func encode(to w: inout WireWriter) {
        encodeFields(to: &w)
        w.writeSignature(signature)
    }

    public init(from r: inout WireReader) throws(WireError) {
        let version = try r.readU8(field: "proof-request.version")
        guard version == Self.version else { throw .unknownVersion(what: "proof-request", version: Int(version), highestKnown: Int(Self.version)) }
        requestID = try r.readU64(field: "proof-request.request_id")
        epoch = try r.readU64(field: "proof-request.epoch")
        model = try r.readString(field: "proof-request.model", maxLength: ModelParameters.maxIDLength)
        commit = try r.readBytes32(field: "proof-request.commit")
        indices = try r.readArray(field: "proof-request.indices", maxCount: Self.maxIndices, minElementSize: 8) {
            (r: inout WireReader) throws(WireError) in try r.readU64(field: "proof-request.index")
        }
        guard !indices.isEmpty else { throw .invalidValue(field: "proof-request.indices", reason: "must name at least one leaf") }
        try WireReader.requireStrictlyAscending(indices, field: "proof-request.indices")
        signature = try r.readSignature(field: "proof-request.signature")
    }
}

/// The prover's answer: the proofs it has for the requested leaves, in the request's order.
public struct ProofResponse: Sendable, Equatable, WireCodable {
    public enum Status: UInt8, Sendable, Equatable {
        case ok = 0
        /// Not a commit of this node that it can prove (unknown, foreign, or pruned).
        case unknownCommit = 1
        /// Too many requests from this peer; ask again later.
        case rateLimited = 2
    }

    public static let version: UInt8 = 1
    /// A response is refused above this size (the session limit is larger; this bounds memory per request).
    public static let maxEncodedSize = 1 << 20

    public var requestID: UInt64
    public var commit: Bytes32
    public var status: Status
    public var proofs: [MerkleProof]

    public init(requestID: UInt64, commit: Bytes32, status: Status, proofs: [MerkleProof]) {
        self.requestID = requestID
        self.commit = commit
        self.status = status
        self.proofs = proofs
    }

    public func encode(to w: inout WireWriter) {
        w.writeU8(Self.version)
        w.writeU64(requestID)
        w.writeBytes32(commit)
        w.writeU8(status.rawValue)
        w.writeArray(proofs)
    }

    public init(from r: inout WireReader) throws(WireError) {
        let version = try r.readU8(field: "proof-response.version")
        guard version == Self.version else { throw .unknownVersion(what: "proof-response", version: Int(version), highestKnown: Int(Self.version)) }
        guard r.remaining <= Self.maxEncodedSize else {
            throw .lengthOverLimit(field: "proof-response", length: r.remaining, limit: Self.maxEncodedSize)
        }
        requestID = try r.readU64(field: "proof-response.request_id")
        commit = try r.readBytes32(field: "proof-response.commit")
        let raw = try r.readU8(field: "proof-response.status")
        guard let status = Status(rawValue: raw) else { throw .invalidValue(field: "proof-response.status", reason: "unknown status \(raw)") }
        self.status = status
        // Smallest proof: version, index, nonce, the u32 lengths of an empty artifact and sibling list.
        proofs = try r.readArray(of: MerkleProof.self, field: "proof-response.proofs", maxCount: ProofRequest.maxIndices, minElementSize: 1 + 8 + 8 + 4 + 4)
    }
}

extension Ed25519.Signature {
    /// All zero; replaced before a request is encoded.
    static let placeholder = try! Ed25519.Signature(bytes: [UInt8](repeating: 0, count: 64))
}
