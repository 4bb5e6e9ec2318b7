public import ChorusCrypto
public import ChorusWire

/// How a validator chooses which leaves of a participant's commit to check (Specs/validation.md §2).
///
/// The seed comes from the validator's own Ed25519 signature over the commit: nobody else can
/// compute it before the validator reveals it (so the participant cannot predict which leaves will
/// be checked), and everyone can check it afterwards (the signature verifies under the validator's
/// key and the seed is its hash). Ed25519 signing is deterministic, so an honest validator has one
/// seed per commit.
public enum LeafSampler {
    /// The bytes a validator signs for `commit`: `"chorus/sample/1\0" ‖ str(network) ‖ u64 epoch ‖ commit id`.
    public static func sampleMessage(networkID: String, epoch: UInt64, commitID: Bytes32) -> [UInt8] {
        var w = WireWriter()
        w.writeRaw(Array("chorus/sample/1\0".utf8))
        w.writeString(networkID)
        w.writeU64(epoch)
        w.writeBytes32(commitID)
        return w.bytes
    }

    /// `H("chorus/sample-seed/1\0" ‖ signature)`.
    public static func seed(from signature: Ed25519.Signature) -> Bytes32 {
        Blake2b.hash256(Array("chorus/sample-seed/1\0".utf8) + signature.bytes)
    }

    /// Signs the sample message for `commit` and returns the signature (the vote's proof) and seed.
    public static func sign(commit: SignedStatement, key: Ed25519.SigningKey) -> (proof: Ed25519.Signature, seed: Bytes32) {
        let signature = key.sign(sampleMessage(networkID: commit.networkID, epoch: commit.epoch, commitID: commit.id))
        return (signature, seed(from: signature))
    }

    /// Checks a vote's sample proof and returns the seed it yields.
    public static func verify(
        proof: Ed25519.Signature, validator: Ed25519.PublicKey, networkID: String, epoch: UInt64, commitID: Bytes32
    ) throws(ProtocolError) -> Bytes32 {
        guard validator.isValidSignature(proof, for: sampleMessage(networkID: networkID, epoch: epoch, commitID: commitID)) else {
            throw .invalidStatement(type: "vote", reason: "sample seed proof is not \(validator.hex)'s signature over commit \(commitID.hex)")
        }
        return seed(from: proof)
    }

    /// `min(sampleSize, count)` distinct dense indices in `[0, count)`, in draw order: a partial
    /// Fisher–Yates shuffle of `0 ..< count` driven by `uniform(seed, count − i)` from counter 0,
    /// kept sparse so it costs O(samples) whatever the count.
    public static func indices(seed: Bytes32, count: UInt64, sampleSize: UInt32) -> [UInt64] {
        let n = min(UInt64(sampleSize), count)
        let words = CounterWords(key: seed)
        var swapped: [UInt64: UInt64] = [:]
        var counter: UInt64 = 0
        var result: [UInt64] = []
        result.reserveCapacity(Int(n))
        for i in 0..<n {
            let j = i + words.uniform(below: count - i, counter: &counter)
            let atJ = swapped[j] ?? j
            let atI = swapped[i] ?? i
            swapped[j] = atI
            result.append(atJ)
        }
        return result
    }
}
