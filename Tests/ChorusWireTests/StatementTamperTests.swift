import ChorusCrypto
import ChorusWire
import Testing

/// Any single-byte change to a signed statement must make it fail to decode or to verify:
/// there is no byte a relay can alter undetected.
@Suite("Signed statement tamper resistance")
struct StatementTamperTests {
    static let key = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 0x22, count: 32)))

    static func samples() throws -> [SignedStatement] {
        [
            try SignedStatement.sign(networkID: "chorus-devnet", type: .text, epoch: 9, seq: 3, body: Array("hi".utf8), key: key),
            try SignedStatement.sign(networkID: "n", type: .vote, epoch: 0, seq: 0, body: [], key: key),
            try SignedStatement.sign(networkID: "lab.2", type: .certificateSignature, epoch: .max, seq: 77,
                                     body: (0..<40).map { UInt8(truncatingIfNeeded: $0 * 7) }, key: key),
        ]
    }

    private func acceptedVariants(of encoded: [UInt8], values: (UInt8) -> [UInt8]) -> [String] {
        var accepted: [String] = []
        for position in encoded.indices {
            for value in values(encoded[position]) where value != encoded[position] {
                var tampered = encoded
                tampered[position] = value
                if (try? SignedStatement.decode(tampered)) != nil {
                    accepted.append("byte \(position) set to \(value)")
                }
            }
        }
        return accepted
    }

    /// The first sample, every position, all 255 other values.
    @Test func everyValueAtEveryPositionIsDetected() throws {
        let encoded = try Self.samples()[0].encoded
        #expect(acceptedVariants(of: encoded) { _ in Array(0...255) }.isEmpty)
    }

    /// All samples, every position, single-bit and whole-byte flips.
    @Test func bitFlipsAtEveryPositionAreDetected() throws {
        for sample in try Self.samples() {
            let accepted = acceptedVariants(of: sample.encoded) { b in [b ^ 0x01, b ^ 0x02, b ^ 0x10, b ^ 0x80, b ^ 0xff] }
            #expect(accepted.isEmpty, "\(sample.type): \(accepted)")
        }
    }

    @Test func droppingOrInsertingAByteIsDetected() throws {
        for sample in try Self.samples() {
            let encoded = sample.encoded
            for position in encoded.indices {
                var dropped = encoded
                dropped.remove(at: position)
                #expect((try? SignedStatement.decode(dropped)) == nil, "dropped byte \(position)")
                var inserted = encoded
                inserted.insert(encoded[position], at: position)
                #expect((try? SignedStatement.decode(inserted)) == nil, "duplicated byte \(position)")
            }
        }
    }
}
