public import ChorusCrypto

/// A typed statement body. Modules that define a statement kind (peer records, votes, ...)
/// conform their body type so that signing picks the right type name and decoding checks it.
/// No global registry: each caller names the body type it expects.
public protocol StatementBody: WireCodable {
    /// The statement type this body travels under.
    static var statementType: StatementType { get }
}

extension SignedStatement {
    /// Signs `body` under its `statementType`.
    public static func sign<Body: StatementBody>(
        networkID: String, epoch: UInt64, seq: UInt64, body: Body, key: Ed25519.SigningKey
    ) throws(WireError) -> SignedStatement {
        try sign(networkID: networkID, type: Body.statementType, epoch: epoch, seq: seq, body: body.encodedBytes(), key: key)
    }

    /// Decodes the body as `Body`, which must be this statement's type and fill the body exactly.
    public func decodeBody<Body: StatementBody>(as _: Body.Type) throws(WireError) -> Body {
        guard type == Body.statementType else {
            throw .invalidValue(field: "statement.type", reason: "expected a \"\(Body.statementType)\" statement, got \"\(type)\"")
        }
        return try Body(decoding: body)
    }
}
