/// The counter-based generator of Specs/poc-kernel.md §2.1 and §2.4 (words and unbiased uniform
/// integers): `word(c) = mix64(mix64(mix64(mix64(c ^ k0) ^ k1) ^ k2) ^ k3)` with k0…k3 the key's
/// little-endian u64 words. One definition for every user: the PoC kernel and synthetic weights
/// (`CounterRNG`), protocol choices (leaf samples, confirmation windows) and the inference tape
/// (`InferenceTape`), so one set of vectors (`counter-rng-poc.json`) checks them all. `word` is
/// inlinable: the kernel and the tape call it in their innermost loops from other modules.
public struct CounterWords: Sendable, Hashable {
    @usableFromInline let k0, k1, k2, k3: UInt64

    public init(key: Bytes32) {
        (k0, k1, k2, k3) = key.withUnsafeBytes { raw in
            (UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
             UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
             UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
    }

    @inlinable @inline(__always)
    public func word(_ counter: UInt64) -> UInt64 {
        SplitMix64.mix64(SplitMix64.mix64(SplitMix64.mix64(SplitMix64.mix64(counter ^ k0) ^ k1) ^ k2) ^ k3)
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
