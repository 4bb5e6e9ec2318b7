#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The validator's decision for one (participant, model) sample (Specs/poc-kernel.md §6): count
/// mismatches and run the exact one-sided binomial test, so that honest numeric noise (rate at
/// most `pMismatch`) is tolerated while a partial cheater is caught.
public struct FraudTest: Sendable, Hashable {
    public var distThreshold: Double
    public var pMismatch: Double
    public var pValueThreshold: Double

    public init(distThreshold: Double, pMismatch: Double = 0.10, pValueThreshold: Double = 0.05) {
        self.distThreshold = distThreshold
        self.pMismatch = pMismatch
        self.pValueThreshold = pValueThreshold
    }

    public struct Outcome: Sendable, Hashable {
        public var samples: Int
        public var mismatches: Int
        public var pValue: Double
        public var fraudulent: Bool
    }

    /// `distances[i]` is nil when sample i is a mismatch regardless of distance (no recomputed
    /// artifact, or a non-finite claim); otherwise it mismatches when `> distThreshold`.
    public func evaluate(distances: [Double?]) -> Outcome {
        let m = distances.count { d in
            guard let d else { return true }
            return !(d <= distThreshold)
        }
        let p = distances.isEmpty ? 1 : FraudTest.binomialPValue(mismatches: m, samples: distances.count, p: pMismatch)
        return Outcome(samples: distances.count, mismatches: m, pValue: p, fraudulent: !distances.isEmpty && p < pValueThreshold)
    }

    /// P[X ≥ m] for X ~ Binomial(n, p), summed in log space (no overflow, no special functions):
    /// log C(n, i+1) = log C(n, i) + log((n − i)/(i + 1)), then a max-shifted sum of the tail.
    /// Requires 0 ≤ m ≤ n and 0 < p < 1 (clamped otherwise: m ≤ 0 gives 1, m > n gives 0).
    public static func binomialPValue(mismatches m: Int, samples n: Int, p: Double) -> Double {
        if m <= 0 { return 1 }
        if m > n { return 0 }
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        let lp = log(p), lq = log1p(-p)
        var logC = 0.0
        var terms: [Double] = []
        terms.reserveCapacity(n - m + 1)
        for i in 0...n {
            if i >= m { terms.append(logC + Double(i) * lp + Double(n - i) * lq) }
            if i < n { logC += log(Double(n - i) / Double(i + 1)) }
        }
        let top = terms.max() ?? -.infinity
        // Terms are added smallest first so the sum is accurate to far better than 1e-9.
        let total = terms.map { exp($0 - top) }.sorted().reduce(0, +)
        return min(1, exp(top) * total)
    }

    /// The smallest mismatch count among `n` samples that is judged fraudulent (nil if none).
    public func minimumMismatchesForFraud(samples n: Int) -> Int? {
        (0...max(0, n)).first { FraudTest.binomialPValue(mismatches: $0, samples: n, p: pMismatch) < pValueThreshold }
    }
}
