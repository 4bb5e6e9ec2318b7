/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fully specified, seedable generator, the one
/// the whole project uses where randomness must be reproducible. The pure state machines own one,
/// seeded by their shell (from the OS in production, from a test's seed in simulations), so the
/// same seed and inputs give the same directives; sampled generation uses one so a generation is
/// reproducible from its seed on any implementation (Specs/worker.md). Not for secrets
/// (`SecureRandom` is).
///
/// state += 0x9E3779B97F4A7C15; output = mix64(state), the first output from seed + 0x9E3779B97F4A7C15.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix64(state)
    }

    /// A uniform double in [0, 1) from the top 53 bits of the next output.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// SplitMix64's finaliser (also the mixing step of the counter-based generators).
    @inlinable @inline(__always)
    public static func mix64(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
