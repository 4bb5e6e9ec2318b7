import ChorusCrypto
import ChorusNode
import ChorusProtocol
import ChorusWire

enum StatementTargets {
    /// Decodes `body` as `Body`; on success the canonical re-encoding must be the body itself.
    @discardableResult
    static func body<Body: WireCodable>(_ type: Body.Type, _ bytes: ArraySlice<UInt8>) -> Body? {
        guard let value = try? Body(decoding: bytes) else { return nil }
        check(value.encodedBytes() == Array(bytes), "\(Body.self) does not re-encode to its bytes")
        return value
    }

    /// The body types, in the order the first byte of a `statement-body` input selects them.
    static let bodyDecoders: [@Sendable (ArraySlice<UInt8>) -> Void] = [
        { body(PoCCommitBody.self, $0) },
        { body(ConfirmationCommitBody.self, $0) },
        { body(VoteBody.self, $0) },
        { body(DelegationBody.self, $0) },
        { body(CertificateSignatureBody.self, $0) },
        { body(BeaconCommitBody.self, $0) },
        { body(BeaconRevealBody.self, $0) },
        { bytes in
            // Evidence carries two whole statements; `verify` decodes and checks them.
            guard let evidence = body(EquivocationEvidenceBody.self, bytes) else { return }
            _ = try? evidence.verify(networkID: FuzzKeys.networkID)
        },
        { body(WeightTable.self, $0) },
    ]

    static func statementBody(_ data: [UInt8]) {
        guard let first = data.first else { return }
        bodyDecoders[Int(first) % bodyDecoders.count](data.dropFirst())
    }

    /// A whole statement (envelope, no signature check), then its body as the type it names.
    static func statement(_ data: [UInt8]) {
        guard let statement = try? UnverifiedStatement(decoding: data) else { return }
        check(statement.encoded == data, "statement keeps other bytes than it was given")
        _ = statement.description
        let b = statement.body
        switch statement.type {
        case .pocCommit: body(PoCCommitBody.self, b)
        case .confirmationCommit: body(ConfirmationCommitBody.self, b)
        case .vote: body(VoteBody.self, b)
        case .delegation: body(DelegationBody.self, b)
        case .certificateSignature: body(CertificateSignatureBody.self, b)
        case .beaconCommit: body(BeaconCommitBody.self, b)
        case .beaconReveal: body(BeaconRevealBody.self, b)
        case .equivocationEvidence: bodyDecoders[7](b)
        default: break
        }
    }

    static func proofMessage(_ data: [UInt8]) {
        guard let message = try? ProofMessage(decoding: data[...]) else { return }
        check(message.encoded() == data, "proof message does not re-encode to its bytes")
    }
}
