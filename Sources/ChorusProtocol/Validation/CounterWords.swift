public import ChorusCrypto

/// The counter-based generator of Specs/poc-kernel.md §2.1 and §2.4 (words and unbiased uniform
/// integers), used here for protocol choices: leaf samples and confirmation windows. Same words
/// as the kernel's, so one set of vectors (`counter-rng-poc.json`) checks both.
public struct CounterWords: Sendable, Hashable {
    private let k0, k1, k2, k3: UInt64

    public init(key: Bytes32) {
        let words = key.withUnsafeBytes { raw in (0..<4).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) } }
        (k0, k1, k2, k3) = (words[0], words[1], words[2], words[3])
    }

    static func mix64(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public func word(_ counter: UInt64) -> UInt64 {
        Self.mix64(Self.mix64(Self.mix64(Self.mix64(counter ^ k0) ^ k1) ^ k2) ^ k3)
    }

    /// A uniform integer in `[0, m)` (m ≥ 1) starting at `counter`, by rejection; advances `counter`
    /// past the words it used.
    public func uniform(below m: UInt64, counter: inout UInt64) -> UInt64 {
        precondition(m >= 1, "uniform(below: 0) has no values")
        // limit = 2^64 − (2^64 mod m); values at or above it are rejected.
        let remainder = (UInt64.max % m &+ 1) % m
        while true {
            let w = word(counter)
            counter &+= 1
            if remainder == 0 || w < 0 &- remainder { return w % m }
        }
    }
}
