import ChorusCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the next token is chosen. Deterministic: the same logits, parameters and seed always give
/// the same token. The procedure (all arithmetic in fp64):
///
/// 1. `temperature == 0` or `topK == 1`: the arg-max (lowest id on ties); no randomness is used.
/// 2. Otherwise z_i = logit_i / temperature; candidates are ordered by z descending, ties by id
///    ascending; with `topK > 0` only the first `topK` are kept.
/// 3. p_i = exp(z_i − z_max), normalised over the candidates. With `topP < 1` the shortest prefix
///    whose cumulative probability reaches `topP` is kept (at least one token) and renormalised.
/// 4. u = the next `SplitMix64.nextUnit()` of the sequence's generator (seeded with `seed`) times
///    the kept mass; the token is the first whose cumulative probability exceeds u.
public struct SamplingParameters: Sendable, Equatable, Hashable, Codable {
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    public var seed: UInt64

    public init(temperature: Double = 1, topP: Double = 1, topK: Int = 0, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
    }

    /// Arg-max decoding.
    public static let greedy = SamplingParameters(temperature: 0)

    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    func validate() throws(ComputeError) {
        guard temperature >= 0, temperature.isFinite else { throw .invalidSampling(reason: "temperature \(temperature) must be finite and ≥ 0") }
        guard topP > 0, topP <= 1 else { throw .invalidSampling(reason: "top_p \(topP) must be in (0, 1]") }
        guard topK >= 0 else { throw .invalidSampling(reason: "top_k \(topK) must be ≥ 0 (0 disables it)") }
    }

    /// Picks a token from one row of logits (see the type's documentation).
    func sample(_ row: ArraySlice<Float>, rng: inout SplitMix64) -> Int {
        if isGreedy { return LogProbabilities.argmax(row) }
        var order = Array(0..<row.count)
        let base = row.startIndex
        order.sort { a, b in
            let x = row[base + a], y = row[base + b]
            return x != y ? x > y : a < b
        }
        if topK > 0 && topK < order.count { order.removeSubrange(topK...) }
        let zMax = Double(row[base + order[0]]) / temperature
        var weights = order.map { exp(Double(row[base + $0]) / temperature - zMax) }
        var total = weights.reduce(0, +)
        if topP < 1 {
            var cumulative = 0.0
            var keep = weights.count
            for (i, w) in weights.enumerated() {
                cumulative += w / total
                if cumulative >= topP { keep = i + 1; break }
            }
            weights.removeSubrange(keep...)
            order.removeSubrange(keep...)
            total = weights.reduce(0, +)
        }
        let u = rng.nextUnit() * total
        var cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += w
            if cumulative > u { return order[i] }
        }
        return order[order.count - 1]
    }
}
