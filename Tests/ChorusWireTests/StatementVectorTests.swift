import ChorusCrypto
import ChorusWire
import Testing

struct StatementVectorFile: Decodable {
    struct Valid: Decodable, CustomTestStringConvertible {
        let name: String
        let seed: String
        let publicKey: String
        let networkId: String
        let type: String
        let epoch: String
        let seq: String
        let body: String
        let encoded: String
        let signedMessage: String
        let signature: String
        let id: String
        var testDescription: String { name }
    }
    struct Invalid: Decodable, CustomTestStringConvertible {
        let name: String
        let encoded: String
        let error: String
        var testDescription: String { name }
    }
    let valid: [Valid]
    let invalid: [Invalid]
}

/// Specs/vectors/statements.json: produced by this implementation once, checked independently
/// by Tools/vectors/check_statements.py, and pinned here.
@Suite("Signed statement vectors")
struct StatementVectorTests {
    static let file = try? VectorFiles.load("statements.json", as: StatementVectorFile.self)

    @Test func vectorFileLoaded() throws {
        let file = try #require(Self.file)
        #expect(file.valid.count >= 5)
        #expect(file.invalid.count >= 15)
    }

    @Test(arguments: file?.valid ?? [])
    func signingReproducesTheVector(_ v: StatementVectorFile.Valid) throws {
        let key = try Ed25519.SigningKey(seed: SecretBytes(Hex.decode(v.seed)))
        #expect(key.publicKey.hex == v.publicKey)
        let statement = try SignedStatement.sign(
            networkID: v.networkId, type: StatementType(v.type), epoch: try #require(UInt64(v.epoch)),
            seq: try #require(UInt64(v.seq)), body: Hex.decode(v.body), key: key)
        #expect(Hex.encode(statement.encoded) == v.encoded)
        #expect(statement.signature.hex == v.signature)
        #expect(statement.id.hex == v.id)
    }

    @Test(arguments: file?.valid ?? [])
    func decodingRecoversEveryField(_ v: StatementVectorFile.Valid) throws {
        let statement = try SignedStatement.decode(Hex.decode(v.encoded))
        #expect(statement.version == 1)
        #expect(statement.networkID == v.networkId)
        #expect(statement.type.name == v.type)
        #expect(statement.epoch == UInt64(v.epoch))
        #expect(statement.seq == UInt64(v.seq))
        #expect(statement.author.hex == v.publicKey)
        #expect(Hex.encode(statement.body) == v.body)
        #expect(statement.signature.hex == v.signature)
        #expect(statement.id.hex == v.id)
        #expect(Blake2b.hash256(try Hex.decode(v.signedMessage)).hex == v.id)
    }

    @Test(arguments: file?.invalid ?? [])
    func invalidVectorIsRefusedWithItsCode(_ v: StatementVectorFile.Invalid) throws {
        do {
            let statement = try SignedStatement.decode(Hex.decode(v.encoded))
            Issue.record("decoded although invalid: \(statement)")
        } catch let error as WireError {
            #expect(error.code == v.error, "\(error)")
        }
    }
}
