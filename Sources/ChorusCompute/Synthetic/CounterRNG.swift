public import ChorusCrypto

/// The counter-based generator shared by synthetic model weights and the PoC kernel's inputs.
/// Every output is a pure function of (key, index) computed with 64-bit integer arithmetic only,
/// so Swift, numpy and torch produce bit-identical values in any order and in parallel.
/// The definition (also in Specs/synthetic-models.md):
///
///     mix64(z):  z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9
///                z = (z ^ (z >> 27)) · 0x94D049BB133111EB
///                return z ^ (z >> 31)                              (all mod 2^64)
///     k0..k3   = the key's 32 bytes as four little-endian u64 words
///     word(c)  = mix64(mix64(mix64(mix64(c ^ k0) ^ k1) ^ k2) ^ k3)
///     normal(j): the words for counters 3j, 3j+1, 3j+2 give 12 u16 lanes (each word's four
///                little-endian 16-bit chunks, low chunk first); S = their sum (0 ... 786420);
///                normal = (S − 393210) / 65536, exact in fp32 — an Irwin–Hall(12)
///                approximation of N(0, 1).
public struct CounterRNG: Sendable, Hashable {
    public let key: Bytes32
    private let words: CounterWords

    public init(key: Bytes32) {
        self.key = key
        words = CounterWords(key: key)
    }

    /// SplitMix64's finaliser (one definition, in ChorusCrypto's `SplitMix64`).
    @inline(__always)
    public static func mix64(_ x: UInt64) -> UInt64 { SplitMix64.mix64(x) }

    /// The 64-bit word for `counter` (`CounterWords`, the one definition).
    @inline(__always)
    public func word(_ counter: UInt64) -> UInt64 { words.word(counter) }

    /// The integer sum S of the 12 16-bit lanes behind value `index` (0 ... 786420).
    @inline(__always)
    public func laneSum(_ index: UInt64) -> Int {
        let c = index &* 3
        return CounterRNG.lanes(word(c)) + CounterRNG.lanes(word(c &+ 1)) + CounterRNG.lanes(word(c &+ 2))
    }

    @inline(__always)
    private static func lanes(_ w: UInt64) -> Int {
        Int(w & 0xFFFF) + Int((w >> 16) & 0xFFFF) + Int((w >> 32) & 0xFFFF) + Int(w >> 48)
    }

    /// Value `index` of the approximately standard normal stream (a multiple of 2^-16 in
    /// [−6, 6]), exact in fp32.
    @inline(__always)
    public func normal(_ index: UInt64) -> Float {
        Float(laneSum(index) - 393_210) * 0x1p-16
    }

    /// Writes `normal(start + i) · 2^-scaleExponent` to `destination[i]` (exact: a power-of-two
    /// scale), using every core for large buffers.
    public func fillNormals(_ destination: UnsafeMutableBufferPointer<Float>, startIndex: UInt64 = 0, scaleExponent: Int = 0) {
        guard let base = destination.baseAddress else { return }
        let scale = Float(sign: .plus, exponent: -scaleExponent, significand: 1)
        Parallel.forEachChunk(destination.count, minimumChunk: 1 << 16) { range in
            for i in range {
                base[i] = normal(startIndex &+ UInt64(i)) * scale
            }
        }
    }

    /// `count` values of the stream from `startIndex`, scaled by 2^-scaleExponent.
    public func normals(count: Int, startIndex: UInt64 = 0, scaleExponent: Int = 0) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fillNormals(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]), startIndex: startIndex, scaleExponent: scaleExponent)
            initialized = count
        }
    }
}
