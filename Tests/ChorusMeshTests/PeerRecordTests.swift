import ChorusCrypto
import ChorusWire
import Foundation
import Testing
@testable import ChorusMesh

/// Signed peer records and peer exchange v2 against vectors written by an independent encoder
/// (Tools/vectors/peer_record_vector.py, Specs/vectors/peer-records.json).
@Suite struct PeerRecordTests {
    struct Vectors: Decodable {
        struct Valid: Decodable {
            let name: String
            let seed_byte: UInt8
            let network_id: String
            let public_key: String
            let seq: UInt64
            let issued_at_ms: UInt64
            let role: UInt8
            let addresses: [String]
            let models: [String]
            let signature: String
            let encoded: String
        }
        struct Bytes: Decodable {
            let name: String
            let encoded: String
            let error: String?
        }
        let domain_hex: String
        let vectors: [Valid]
        let invalid: [Bytes]
        let forged: [Bytes]
        let px: [Bytes]
        let px_invalid: [Bytes]
    }

    static func vectors() throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Specs/vectors/peer-records.json")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    static func key(_ byte: UInt8) -> Ed25519.SigningKey {
        try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: byte, count: 32)))
    }

    @Test func signsAndEncodesLikeTheIndependentEncoder() throws {
        let v = try Self.vectors()
        #expect(Hex.encode(PeerRecord.signingDomain) == v.domain_hex)
        for e in v.vectors {
            let record = try PeerRecord(
                signingWith: Self.key(e.seed_byte), networkID: e.network_id, seq: e.seq, issuedAtMs: e.issued_at_ms,
                role: try #require(PeerRecord.Role(rawValue: e.role)),
                addresses: try e.addresses.reversed().map { try NetAddress(parsing: $0) }, models: e.models.reversed())
            #expect(Hex.encode(record.encoded()) == e.encoded, "\(e.name)")
            let decoded = try PeerRecord(decoding: try Hex.decode(e.encoded)[...])
            #expect(decoded == record, "\(e.name)")
            #expect(decoded.hasValidSignature, "\(e.name)")
            #expect(decoded.publicKey.hex == e.public_key && Hex.encode(decoded.signature.bytes) == e.signature, "\(e.name)")
            #expect(decoded.addresses.map(\.description) == e.addresses && decoded.models == e.models, "\(e.name)")
        }
    }

    @Test func refusesNonCanonicalOrMalformedRecords() throws {
        for e in try Self.vectors().invalid {
            let bytes = try Hex.decode(e.encoded)
            do {
                _ = try PeerRecord(decoding: bytes[...])
                Issue.record("\(e.name): decoded")
            } catch {
                #expect(error.code == e.error, "\(e.name): \(error)")
            }
        }
    }

    @Test func forgedRecordsDecodeButDoNotVerify() throws {
        for e in try Self.vectors().forged {
            let record = try PeerRecord(decoding: try Hex.decode(e.encoded)[...])
            #expect(!record.hasValidSignature, "\(e.name)")
        }
    }

    @Test func peerExchangeMessagesRoundTrip() throws {
        let v = try Self.vectors()
        for e in v.px {
            let bytes = try Hex.decode(e.encoded)
            let message = try PeerExchangeMessage(decoding: bytes[...])
            #expect(message.encoded() == bytes, "\(e.name)")
        }
        if case let .records(list) = try PeerExchangeMessage(decoding: try Hex.decode(v.px[2].encoded)[...]) {
            #expect(list.count == v.vectors.count && list.allSatisfy(\.hasValidSignature))
        } else {
            Issue.record("the records vector did not decode as records")
        }
        for e in v.px_invalid {
            let bytes = try Hex.decode(e.encoded)
            do {
                _ = try PeerExchangeMessage(decoding: bytes[...])
                Issue.record("\(e.name): decoded")
            } catch {
                #expect(error.code == e.error, "\(e.name): \(error)")
            }
        }
    }

    @Test func everyTruncationOfARecordIsRefused() throws {
        let bytes = try Hex.decode(try Self.vectors().vectors[0].encoded)
        for cut in 0..<bytes.count {
            #expect(throws: WireError.self) { try PeerRecord(decoding: bytes[..<cut]) }
        }
    }

    @Test func tooManyAddressesOrModelsCannotBeSigned() {
        let key = Self.key(9)
        let nine = (1...9).map { NetAddress(host: .ipv4(1, 1, 1, UInt8($0)), port: 1) }
        #expect(throws: WireError.self) {
            try PeerRecord(signingWith: key, networkID: "n", seq: 1, issuedAtMs: 0, role: .full, addresses: nine, models: [])
        }
        #expect(throws: WireError.self) {
            try PeerRecord(signingWith: key, networkID: "n", seq: 1, issuedAtMs: 0, role: .full, addresses: [],
                           models: (0..<33).map { "m\($0)" })
        }
    }
}
