public import ChorusCrypto
import ChorusWire

/// A per-member check probability `numerator / denominator` (≤ 1), exact.
public struct CheckRate: Sendable, Hashable, CustomStringConvertible {
    public let numerator: UInt64
    public let denominator: UInt64

    public static let always = CheckRate(numerator: 1, denominator: 1)

    public var description: String { "\(numerator)/\(denominator)" }
}

/// Which receipts a group member checks (Specs/inference.md §6). As for PoC leaves
/// (`LeafSampler`), the draw comes from the member's own deterministic signature over the receipt
/// id: nobody can predict it (the executor cannot tell which inferences will be checked), and
/// anyone can verify it once the member shows the signature (a member cannot claim it was not
/// drawn when it was).
public enum InferenceCheckSampler {
    /// The per-member rate for a model that served `traffic` inferences in the previous epoch:
    /// 1 while `traffic ≤ check_full_traffic`, then `check_full_traffic / traffic`, never below
    /// `check_rate_floor`.
    public static func rate(traffic: UInt64, parameters: InferenceCheckParameters) -> CheckRate {
        let full = parameters.fullCheckTraffic
        guard traffic > full else { return .always }
        let floor = parameters.checkRateFloor
        // full / traffic < floor.num / floor.den  ⇔  full · floor.den < floor.num · traffic
        if UInt128(full) * UInt128(floor.denominator) < UInt128(floor.numerator) * UInt128(traffic) {
            return CheckRate(numerator: floor.numerator, denominator: floor.denominator)
        }
        return CheckRate(numerator: full, denominator: traffic)
    }

    /// `"chorus/inference/check/1\0" ‖ str(network) ‖ receipt id`: what a member signs.
    public static func checkMessage(networkID: String, receiptID: Bytes32) -> [UInt8] {
        var w = WireWriter()
        w.writeRaw(Array("chorus/inference/check/1\0".utf8))
        w.writeString(networkID)
        w.writeBytes32(receiptID)
        return w.bytes
    }

    /// `H("chorus/inference/check-seed/1\0" ‖ signature)`.
    public static func seed(from signature: Ed25519.Signature) -> Bytes32 {
        Blake2b.hash256(Array("chorus/inference/check-seed/1\0".utf8) + signature.bytes)
    }

    /// The seed's first 8 bytes as a little-endian u64.
    public static func draw(_ seed: Bytes32) -> UInt64 {
        seed.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) }
    }

    /// `draw · den < num · 2^64`: true with probability exactly `rate` over uniform draws.
    public static func isChecked(seed: Bytes32, rate: CheckRate) -> Bool {
        UInt128(draw(seed)) * UInt128(rate.denominator) < UInt128(rate.numerator) << 64
    }

    /// A member's decision on one receipt: its proof (signature), seed and whether it checks.
    /// A member never checks its own inference (it would count for nothing).
    public static func decide(
        key: Ed25519.SigningKey, networkID: String, receipt: InferenceReceipt, rate: CheckRate
    ) -> (proof: Ed25519.Signature, seed: Bytes32, checks: Bool) {
        let proof = key.sign(checkMessage(networkID: networkID, receiptID: receipt.id))
        let seed = seed(from: proof)
        return (proof, seed, key.publicKey != receipt.executor && isChecked(seed: seed, rate: rate))
    }

    /// Verifies a member's proof for a receipt and returns whether it was drawn to check.
    public static func verify(
        proof: Ed25519.Signature, member: Ed25519.PublicKey, networkID: String, receipt: InferenceReceipt, rate: CheckRate
    ) throws(ProtocolError) -> Bool {
        guard member.isValidSignature(proof, for: checkMessage(networkID: networkID, receiptID: receipt.id)) else {
            throw .invalidStatement(type: "inference-check", reason: "check proof is not \(member.hex)'s signature over receipt \(receipt.id.hex)")
        }
        return member != receipt.executor && isChecked(seed: seed(from: proof), rate: rate)
    }
}
