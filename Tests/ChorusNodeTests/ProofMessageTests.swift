import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// The proof protocol's messages (Specs/proofs.md) against the independent Python reference
/// (Tools/vectors/proof_vectors.py → Specs/vectors/proofs.json).
struct ProofMessageTests {
    struct Vectors: Decodable {
        struct Request: Decodable {
            let requestId: UInt64
            let epoch: UInt64
            let model: String
            let commit: String
            let indices: [UInt64]
            let signingMessage: String
            let signature: String
            let encoded: String
        }
        struct Response: Decodable {
            let requestId: UInt64
            let commit: String
            let encoded: String
            let root: String
            let count: UInt64
            let depth: UInt8
        }
        struct RateLimited: Decodable { let requestId: UInt64; let encoded: String }
        struct Invalid: Decodable { let name: String; let hex: String; let error: String }
        let networkId: String
        let validatorSeed: String
        let validator: String
        let request: Request
        let forgedRequest: String
        let response: Response
        let rateLimitedResponse: RateLimited
        let invalid: [Invalid]
    }

    static func vectors() throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Specs/vectors/proofs.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Vectors.self, from: Data(contentsOf: url))
    }

    @Test func requestMatchesTheReferenceEncodingAndSignature() throws {
        let v = try Self.vectors()
        let key = try Ed25519.SigningKey(seed: SecretBytes(Hex.decode(v.validatorSeed)))
        #expect(key.publicKey.hex == v.validator)
        let commit = try Bytes32(hex: v.request.commit)
        let request = ProofRequest(requestID: v.request.requestId, epoch: v.request.epoch, model: v.request.model,
                                   commit: commit, indices: v.request.indices, networkID: v.networkId, validator: key)
        #expect(Hex.encode(request.signingMessage(networkID: v.networkId, validator: key.publicKey)) == v.request.signingMessage)
        #expect(request.signature.hex == v.request.signature)
        #expect(Hex.encode(ProofMessage.request(request).encoded()) == v.request.encoded)

        let decoded = try ProofMessage(decoding: Hex.decode(v.request.encoded)[...])
        #expect(decoded == .request(request))
        #expect(request.isSigned(by: key.publicKey, networkID: v.networkId))
        // The signature binds the network and the validator: another network or key does not verify.
        #expect(!request.isSigned(by: key.publicKey, networkID: "other-devnet"))
        #expect(!request.isSigned(by: Ed25519.SigningKey.generate().publicKey, networkID: v.networkId))
        guard case let .request(forged) = try ProofMessage(decoding: Hex.decode(v.forgedRequest)[...]) else {
            Issue.record("the forged request must still decode")
            return
        }
        #expect(!forged.isSigned(by: key.publicKey, networkID: v.networkId))
    }

    @Test func responseCarriesAProofThatVerifiesAgainstTheCommitment() throws {
        let v = try Self.vectors()
        let message = try ProofMessage(decoding: Hex.decode(v.response.encoded)[...])
        guard case let .response(response) = message else {
            Issue.record("expected a response")
            return
        }
        #expect(response.requestID == v.response.requestId && response.status == .ok && response.commit.hex == v.response.commit)
        #expect(response.proofs.count == 1)
        try response.proofs[0].verify(root: Bytes32(hex: v.response.root), count: v.response.count, depth: v.response.depth)
        #expect(Hex.encode(message.encoded()) == v.response.encoded)

        guard case let .response(refusal) = try ProofMessage(decoding: Hex.decode(v.rateLimitedResponse.encoded)[...]) else {
            Issue.record("expected a response")
            return
        }
        #expect(refusal.status == .rateLimited && refusal.proofs.isEmpty && refusal.requestID == v.rateLimitedResponse.requestId)
    }

    @Test func invalidMessagesAreRefusedWithTheNamedError() throws {
        let v = try Self.vectors()
        #expect(v.invalid.count >= 8)
        for case_ in v.invalid {
            let bytes = try Hex.decode(case_.hex)
            do throws(WireError) {
                _ = try ProofMessage(decoding: bytes[...])
                Issue.record("\(case_.name) decoded")
            } catch {
                #expect(error.code == case_.error, "\(case_.name): \(error)")
            }
        }
    }
}
