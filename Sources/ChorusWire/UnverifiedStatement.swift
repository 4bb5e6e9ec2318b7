public import ChorusCrypto

/// A statement whose structure has been decoded strictly but whose signature has NOT been checked.
///
/// It exists so a receiver can compute the message id and drop duplicates before paying for a
/// signature verification, and so tools can show a statement that fails to verify. Nothing may
/// be trusted, stored or acted on until `verified()` turns it into a `SignedStatement`.
public struct UnverifiedStatement: Sendable, Hashable, CustomStringConvertible {
    /// The complete encoding, signature included, exactly as received.
    public let encoded: [UInt8]
    /// BLAKE2b-256 of the domain-separated signed bytes (the signature is not part of it).
    public let id: Bytes32
    let fields: StatementCodec.Parsed

    /// Decodes `encoded` strictly and applies `policy`, without verifying the signature.
    public init(decoding encoded: [UInt8], policy: StatementPolicy = .any) throws(WireError) {
        let fields = try StatementCodec.parse(encoded)
        try policy.check(networkID: fields.networkID, type: fields.type)
        self.init(encoded: encoded, fields: fields, id: StatementCodec.withSignedMessage(
            encoded, typeRange: fields.typeRange, signedFieldsEnd: fields.signedFieldsEnd) { Blake2b.hash256($0) })
    }

    init(encoded: [UInt8], fields: StatementCodec.Parsed, id: Bytes32) {
        self.encoded = encoded
        self.fields = fields
        self.id = id
    }

    public var version: UInt8 { fields.version }
    public var networkID: String { fields.networkID }
    public var type: StatementType { fields.type }
    public var epoch: UInt64 { fields.epoch }
    public var author: Ed25519.PublicKey { fields.author }
    public var seq: UInt64 { fields.seq }
    public var signature: Ed25519.Signature { fields.signature }
    /// The body, sharing `encoded`'s storage: its indices are positions in `encoded`.
    public var body: ArraySlice<UInt8> { encoded[fields.bodyRange] }

    /// Checks the signature; throws `badSignature` if it does not verify.
    public func verified() throws(WireError) -> SignedStatement {
        let valid = StatementCodec.withSignedMessage(
            encoded, typeRange: fields.typeRange, signedFieldsEnd: fields.signedFieldsEnd
        ) { fields.author.isValidSignature(fields.signature, for: $0) }
        guard valid else { throw .badSignature }
        return SignedStatement(verified: self)
    }

    /// Equal encodings; the hash is the message id (equal encodings have equal ids).
    public static func == (a: UnverifiedStatement, b: UnverifiedStatement) -> Bool { a.encoded == b.encoded }

    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    public var description: String {
        "unverified statement \(id.hex.prefix(16)) type=\(type) network=\(networkID) epoch=\(epoch) seq=\(seq) author=\(author.hex.prefix(16)) body=\(body.count) bytes"
    }
}
