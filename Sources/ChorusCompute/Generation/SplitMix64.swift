/// SplitMix64: a tiny, fully specified PRNG, so sampled generations are reproducible from their
/// seed on any implementation: state += 0x9E3779B97F4A7C15; output = mix64(state) (mix64 as in
/// `CounterRNG`). The first output uses state = seed + 0x9E3779B97F4A7C15.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return CounterRNG.mix64(state)
    }

    /// A uniform double in [0, 1) from the top 53 bits of the next output.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
