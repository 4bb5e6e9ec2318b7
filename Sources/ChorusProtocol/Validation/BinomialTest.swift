/// The one-sided binomial fraud test of Specs/poc-kernel.md §6, decided **exactly**.
///
/// Under "honest", each sampled artifact mismatches with probability at most `p = p_mismatch`;
/// the p-value of `m` mismatches in `n` samples is `P[X ≥ m]`, `X ~ Binomial(n, p)`, and the
/// participant is judged fraudulent when it is below `p_value_threshold = α`. Both parameters are
/// exact ratios, so with `p = a/D` (b = D − a) the decision is an integer comparison:
///
///     Σ_{i ≥ m} C(n, i) a^i b^(n−i) · α_den  <  α_num · D^n
///
/// computed with big integers. Every node reaches the same verdict bit for bit, which a vote's
/// verdict must match (a float p-value could differ between libm versions near α). Cost grows as
/// n² log D; for n = 200 and D ≤ 10^6 it is a few milliseconds.
public enum BinomialTest {
    /// `T_i = C(n, i) a^i b^(n−i)` summed from the top: `tails[m] = Σ_{i ≥ m} T_i`, and `D^n`.
    private static func tails(trials n: Int, p: Ratio) -> (tails: [BigUInt], total: BigUInt) {
        let a = p.numerator
        let d = p.denominator
        let b = d - a
        var term = BigUInt(1)
        for _ in 0..<n { term.multiply(by: b) }
        var terms = [term]
        terms.reserveCapacity(n + 1)
        for i in 0..<n {
            // T_{i+1} (i+1) b = T_i (n−i) a, so both divisions are exact.
            term.multiply(by: UInt64(n - i))
            term.multiply(by: a)
            term.divide(by: UInt64(i + 1))
            term.divide(by: b)
            terms.append(term)
        }
        var sums = [BigUInt](repeating: BigUInt(0), count: n + 2)
        for i in stride(from: n, through: 0, by: -1) { sums[i] = sums[i + 1] + terms[i] }
        var total = BigUInt(1)
        for _ in 0..<n { total.multiply(by: d) }
        return (sums, total)
    }

    private static func check(_ n: Int, _ p: Ratio) {
        precondition(n >= 0 && n <= Int(ModelParameters.maxSampleSize), "samples \(n) outside 0...\(ModelParameters.maxSampleSize)")
        precondition(!p.isZero && p.isBelowOne, "p must be strictly between 0 and 1")
    }

    /// The smallest mismatch count declared fraud for `samples` samples, or nil when even
    /// `samples` mismatches are not (tiny samples).
    public static func minimumMismatchesForFraud(samples n: Int, pMismatch p: Ratio, pValueThreshold alpha: Ratio) -> Int? {
        check(n, p)
        let (sums, total) = tails(trials: n, p: p)
        let bound = total.times(alpha.numerator)
        for m in 0...n where sums[m].times(alpha.denominator) < bound { return m }
        return nil
    }

    /// The verdict: true when `mismatches` of `samples` have a p-value below `pValueThreshold`.
    public static func isFraud(mismatches m: Int, samples n: Int, pMismatch p: Ratio, pValueThreshold alpha: Ratio) -> Bool {
        guard m >= 0, m <= n else { return m > n }
        guard let threshold = minimumMismatchesForFraud(samples: n, pMismatch: p, pValueThreshold: alpha) else { return false }
        return m >= threshold
    }

    /// `P[X ≥ m]`, X ~ Binomial(n, p), as a Double: for reports and vectors, never for a verdict.
    public static func pValue(mismatches m: Int, samples n: Int, pMismatch p: Ratio) -> Double {
        check(n, p)
        guard m > 0 else { return 1 }
        guard m <= n else { return 0 }
        let (sums, total) = tails(trials: n, p: p)
        return BigUInt.ratio(sums[m], total)
    }

    /// Probability that a participant whose sampled artifacts mismatch independently at rate
    /// `fraudRate` is declared fraudulent: `P[Binomial(n, fraudRate) ≥ m*]`. With sampling without
    /// replacement the true figure is at least this when the rate is well above `p_mismatch`.
    public static func detectionProbability(samples n: Int, fraudRate f: Ratio, pMismatch p: Ratio, pValueThreshold alpha: Ratio) -> Double {
        guard let threshold = minimumMismatchesForFraud(samples: n, pMismatch: p, pValueThreshold: alpha) else { return 0 }
        return pValue(mismatches: threshold, samples: n, pMismatch: f)
    }

    /// Exactly whether `detectionProbability` is at least `target`.
    public static func detects(samples n: Int, fraudRate f: Ratio, pMismatch p: Ratio, pValueThreshold alpha: Ratio, atLeast target: Ratio) -> Bool {
        guard let threshold = minimumMismatchesForFraud(samples: n, pMismatch: p, pValueThreshold: alpha) else { return false }
        check(n, f)
        let (sums, total) = tails(trials: n, p: f)
        return !(sums[threshold].times(target.denominator) < total.times(target.numerator))
    }
}

/// Fraud thresholds `m*` per (model, samples), computed once: a tally checks hundreds of votes
/// that share a handful of distinct sample sizes.
public struct FraudThresholds: Sendable {
    private struct Key: Hashable {
        let pMismatch: Ratio
        let pValueThreshold: Ratio
        let samples: Int
    }

    private var cache: [Key: Int?] = [:]

    public init() {}

    /// The smallest fraudulent mismatch count for `model` at `samples` samples (nil: none).
    public mutating func minimumMismatches(model: ModelParameters, samples: Int) -> Int? {
        let key = Key(pMismatch: model.pMismatch, pValueThreshold: model.pValueThreshold, samples: samples)
        if let known = cache[key] { return known }
        let value = BinomialTest.minimumMismatchesForFraud(samples: samples, pMismatch: model.pMismatch, pValueThreshold: model.pValueThreshold)
        cache[key] = value
        return value
    }

    public mutating func isFraud(model: ModelParameters, mismatches: Int, samples: Int) -> Bool {
        guard let threshold = minimumMismatches(model: model, samples: samples) else { return false }
        return mismatches >= threshold
    }
}
