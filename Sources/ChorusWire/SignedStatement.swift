public import ChorusCrypto

/// A statement whose encoding is canonical and whose Ed25519 signature has been verified: the
/// unit of everything Chorus gossips and stores (peer records, commits, votes, ...).
///
/// Wire form (Specs/statements.md): `version u8 = 1, network_id string ≤ 64, type string ≤ 32,
/// epoch u64, author [32], seq u64, body bytes ≤ 1 MiB`, then the 64-byte signature over
/// `"chorus/v1/" ‖ type ‖ 0x00 ‖ those fields`. The message id is BLAKE2b-256 of those signed bytes.
///
/// A value of this type can only come from `sign` or from a successful verification, so holding
/// one means the author really signed it. It keeps the bytes it was decoded from (`encoded`); the
/// body is a slice of them.
public struct SignedStatement: Sendable, Hashable, CustomStringConvertible {
    /// The only version this build reads and writes.
    public static let currentVersion: UInt8 = 1
    public static let maxNetworkIDLength = 64
    public static let maxTypeLength = StatementType.maxLength
    /// 1 MiB.
    public static let maxBodyLength = 1 << 20
    /// The longest possible encoding (maximal network id, type and body).
    public static let maxEncodedLength = 1 + (4 + maxNetworkIDLength) + (4 + maxTypeLength) + 8 + 32 + 8 + (4 + maxBodyLength) + 64

    private let statement: UnverifiedStatement

    init(verified statement: UnverifiedStatement) { self.statement = statement }

    // MARK: Creating

    /// Signs a new statement with `key`; `key.publicKey` becomes the author.
    /// Throws `invalidValue` for a malformed network id and `lengthOverLimit` for a body over 1 MiB.
    public static func sign(
        networkID: String, type: StatementType, epoch: UInt64, seq: UInt64, body: [UInt8], key: Ed25519.SigningKey
    ) throws(WireError) -> SignedStatement {
        guard StatementCodec.isValidNetworkID(networkID.utf8) else {
            throw .invalidValue(field: "statement.network_id", reason: StatementCodec.networkIDRule(networkID))
        }
        guard body.count <= maxBodyLength else {
            throw .lengthOverLimit(field: "statement.body", length: body.count, limit: maxBodyLength)
        }
        var writer = WireWriter(reservingCapacity: 1 + 4 + networkID.utf8.count + 4 + type.name.utf8.count + 52 + body.count + 64)
        body.withUnsafeBytes { body in
            StatementCodec.writeFields(
                to: &writer, networkID: networkID, type: type, epoch: epoch, author: key.publicKey, seq: seq, body: body)
        }
        let signedFieldsEnd = writer.count
        let typeStart = 1 + 4 + networkID.utf8.count + 4
        let typeRange = typeStart..<typeStart + type.name.utf8.count
        let (signature, id) = StatementCodec.withSignedMessage(
            writer.bytes, typeRange: typeRange, signedFieldsEnd: signedFieldsEnd
        ) { (key.sign($0), Blake2b.hash256($0)) }
        writer.writeSignature(signature)
        let fields = StatementCodec.Parsed(
            version: currentVersion, networkID: networkID, type: type, typeRange: typeRange, epoch: epoch,
            author: key.publicKey, seq: seq, bodyRange: signedFieldsEnd - body.count..<signedFieldsEnd,
            signedFieldsEnd: signedFieldsEnd, signature: signature)
        return SignedStatement(verified: UnverifiedStatement(encoded: writer.bytes, fields: fields, id: id))
    }

    // MARK: Decoding

    /// Decodes `encoded` strictly, applies `policy`, verifies the signature and computes the id,
    /// the last two from one buffer. Costs about one Ed25519 verification.
    public static func decode(_ encoded: [UInt8], policy: StatementPolicy = .any) throws(WireError) -> SignedStatement {
        let fields = try StatementCodec.parse(encoded)
        try policy.check(networkID: fields.networkID, type: fields.type)
        let (valid, id) = StatementCodec.withSignedMessage(
            encoded, typeRange: fields.typeRange, signedFieldsEnd: fields.signedFieldsEnd
        ) { (fields.author.isValidSignature(fields.signature, for: $0), Blake2b.hash256($0)) }
        guard valid else { throw .badSignature }
        return SignedStatement(verified: UnverifiedStatement(encoded: encoded, fields: fields, id: id))
    }

    /// Decodes without checking the signature: for de-duplicating by id before verifying, and
    /// for tools. Call `verified()` on the result before trusting it.
    public static func decodeUnverified(_ encoded: [UInt8], policy: StatementPolicy = .any) throws(WireError) -> UnverifiedStatement {
        try UnverifiedStatement(decoding: encoded, policy: policy)
    }

    // MARK: Fields

    /// The complete encoding, signature included.
    public var encoded: [UInt8] { statement.encoded }
    /// BLAKE2b-256 of the domain-separated signed bytes; the signature is not covered, so a
    /// re-signed copy of the same content has the same id.
    public var id: Bytes32 { statement.id }
    public var version: UInt8 { statement.version }
    public var networkID: String { statement.networkID }
    public var type: StatementType { statement.type }
    public var epoch: UInt64 { statement.epoch }
    public var author: Ed25519.PublicKey { statement.author }
    /// Per-author sequence number: a later statement replaces an earlier one of the same kind.
    public var seq: UInt64 { statement.seq }
    public var signature: Ed25519.Signature { statement.signature }
    /// The body, sharing `encoded`'s storage: its indices are positions in `encoded`.
    public var body: ArraySlice<UInt8> { statement.body }

    public static func == (a: SignedStatement, b: SignedStatement) -> Bool { a.statement == b.statement }

    public func hash(into hasher: inout Hasher) { statement.hash(into: &hasher) }

    public var description: String {
        "statement \(id.hex.prefix(16)) type=\(type) network=\(networkID) epoch=\(epoch) seq=\(seq) author=\(author.hex.prefix(16)) body=\(body.count) bytes"
    }
}
