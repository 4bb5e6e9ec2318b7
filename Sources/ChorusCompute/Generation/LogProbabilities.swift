#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A token id with its log-probability under the model.
public struct TokenLogprob: Sendable, Equatable, Hashable, Codable {
    public var token: Int
    public var logprob: Double

    public init(token: Int, logprob: Double) {
        self.token = token
        self.logprob = logprob
    }
}

/// Log-softmax helpers over one row of fp32 logits. Everything is accumulated in fp64 so that
/// log-probabilities are as reproducible as the logits they come from.
enum LogProbabilities {
    /// log Σ exp(x): max-subtracted, summed in fp64.
    static func logSumExp(_ row: ArraySlice<Float>) -> Double {
        guard let m = row.max() else { return -.infinity }
        guard m.isFinite else { return Double(m) }
        let mm = Double(m)
        var total = 0.0
        for x in row { total += exp(Double(x) - mm) }
        return mm + log(total)
    }

    /// The `k` most likely tokens of `row`, highest first (ties: lower id first), as log-probs.
    static func top(_ k: Int, of row: ArraySlice<Float>, logSumExp lse: Double) -> [TokenLogprob] {
        guard k > 0 else { return [] }
        var best: [(value: Float, id: Int)] = []
        best.reserveCapacity(k + 1)
        for (offset, x) in row.enumerated() {
            if best.count == k, let last = best.last, !(x > last.value) { continue }
            // Insert keeping (value desc, id asc); equal values keep the earlier (lower) id first.
            var at = best.count
            while at > 0 && best[at - 1].value < x { at -= 1 }
            best.insert((x, offset), at: at)
            if best.count > k { best.removeLast() }
        }
        return best.map { TokenLogprob(token: $0.id, logprob: Double($0.value) - lse) }
    }

    /// Index of the largest value (lowest index on ties).
    static func argmax(_ row: ArraySlice<Float>) -> Int {
        var bestIndex = 0
        var bestValue = -Float.infinity
        for (offset, x) in row.enumerated() where x > bestValue || offset == 0 {
            bestValue = x
            bestIndex = offset
        }
        return bestIndex
    }
}
