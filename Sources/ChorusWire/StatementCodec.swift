internal import ChorusCrypto

/// The version-1 layout of a signed statement (Specs/statements.md): parsing, field rules and the
/// domain-separated signed bytes. Shared by signing and decoding so the two cannot disagree.
enum StatementCodec {
    /// `"chorus/v1/"`, the start of every signed message of version 1.
    static let domainPrefix: [UInt8] = Array("chorus/v1/".utf8)

    /// The fields of an encoded statement, with positions into the encoded array.
    struct Parsed {
        var version: UInt8
        var networkID: String
        var type: StatementType
        /// Where the type name's bytes are in the encoding (reused for the domain prefix).
        var typeRange: Range<Int>
        var epoch: UInt64
        var author: Ed25519.PublicKey
        var seq: UInt64
        var bodyRange: Range<Int>
        /// Length of the signed fields: the signature starts here.
        var signedFieldsEnd: Int
        var signature: Ed25519.Signature
    }

    /// Structural decoding: every rule of the encoding except the signature.
    static func parse(_ encoded: [UInt8]) throws(WireError) -> Parsed {
        var reader = WireReader(encoded)
        let version = try reader.readU8(field: "statement.version")
        guard version == SignedStatement.currentVersion else {
            throw .unknownVersion(what: "signed statement", version: Int(version), highestKnown: Int(SignedStatement.currentVersion))
        }
        let networkBytes = try reader.readBytes(field: "statement.network_id", maxLength: SignedStatement.maxNetworkIDLength)
        guard isValidNetworkID(networkBytes) else {
            throw .invalidValue(field: "statement.network_id", reason: networkIDRule(String(decoding: networkBytes, as: UTF8.self)))
        }
        let typeBytes = try reader.readBytes(field: "statement.type", maxLength: StatementType.maxLength)
        let typeName = String(decoding: typeBytes, as: UTF8.self)
        guard StatementType.isValidName(typeBytes) else {
            throw .invalidValue(field: "statement.type", reason: StatementType.rule(for: typeBytes.count, name: typeName))
        }
        let epoch = try reader.readU64(field: "statement.epoch")
        let author = try reader.readPublicKey(field: "statement.author")
        let seq = try reader.readU64(field: "statement.seq")
        let body = try reader.readBytes(field: "statement.body", maxLength: SignedStatement.maxBodyLength)
        let signedFieldsEnd = reader.position
        let signature = try reader.readSignature(field: "statement.signature")
        try reader.finish()
        return Parsed(
            version: version, networkID: String(decoding: networkBytes, as: UTF8.self),
            type: StatementType(validated: typeName), typeRange: typeBytes.indices,
            epoch: epoch, author: author, seq: seq, bodyRange: body.indices,
            signedFieldsEnd: signedFieldsEnd, signature: signature)
    }

    /// Appends the signed fields (everything but the signature) in canonical order.
    static func writeFields(
        to writer: inout WireWriter, networkID: String, type: StatementType, epoch: UInt64,
        author: Ed25519.PublicKey, seq: UInt64, body: UnsafeRawBufferPointer
    ) {
        writer.writeU8(SignedStatement.currentVersion)
        writer.writeString(networkID)
        writer.writeString(type.name)
        writer.writeU64(epoch)
        writer.writePublicKey(author)
        writer.writeU64(seq)
        writer.writeBytes(body)
    }

    /// Lends `body` the signed message `"chorus/v1/" ‖ type ‖ 0x00 ‖ encoded[0..<signedFieldsEnd]`
    /// in one contiguous buffer (on the stack when small), which both the signature and the
    /// message id are computed over: one copy, no heap allocation for ordinary statements.
    static func withSignedMessage<R, E: Error>(
        _ encoded: [UInt8], typeRange: Range<Int>, signedFieldsEnd: Int,
        _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        let prefixLength = domainPrefix.count + typeRange.count + 1
        return try withUnsafeTemporaryAllocation(byteCount: prefixLength + signedFieldsEnd, alignment: 1) {
            (buffer: UnsafeMutableRawBufferPointer) throws(E) -> R in
            // Invariant: `buffer` has exactly prefixLength + signedFieldsEnd bytes, and the ranges
            // copied from `encoded` (typeRange, 0..<signedFieldsEnd) lie inside it (both come
            // from `parse` or `writeFields` over this same array).
            domainPrefix.withUnsafeBytes { prefix in
                encoded.withUnsafeBytes { source in
                    buffer.copyMemory(from: prefix)
                    UnsafeMutableRawBufferPointer(rebasing: buffer[prefix.count..<prefix.count + typeRange.count])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[typeRange]))
                    buffer[prefixLength - 1] = 0
                    UnsafeMutableRawBufferPointer(rebasing: buffer[prefixLength...])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<signedFieldsEnd]))
                }
            }
            return try body(UnsafeRawBufferPointer(buffer))
        }
    }

    // MARK: Network ids

    static func isValidNetworkID<C: Collection>(_ utf8: C) -> Bool where C.Element == UInt8 {
        (1...SignedStatement.maxNetworkIDLength).contains(utf8.count) && utf8.allSatisfy { b in
            (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x2d || b == 0x2e || b == 0x5f
        }
    }

    static func networkIDRule(_ id: String) -> String {
        "a network id is 1 to \(SignedStatement.maxNetworkIDLength) characters of a-z, 0-9, '-', '.' and '_', got \"\(id)\""
    }
}
