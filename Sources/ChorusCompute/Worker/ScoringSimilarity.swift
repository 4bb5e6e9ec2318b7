public import ChorusWorkerAPI

/// Gonka's inference-validation metric (vllm `logprobs_validation.py`; Specs/worker.md §6.2): how
/// closely a validator's teacher-forced top-k logprobs match the executor's, 1 for identical
/// distributions. The node compares it with the model's `validation_threshold`.
public enum ScoringSimilarity {
    /// `original[i]` / `validator[i]`: the top-k `(id, logprob)` entries at completion position i
    /// from the executor and the validator; `tokens` must be identical (else 0). Per position, for
    /// each validator entry, `|l_v − l_o| / (1e-6 + |l_v| + |l_o|) / 2`, where a token missing from
    /// the original top-k gets `min1 − (min2 − min1)` (extrapolated from the two lowest original
    /// values); the sum over positions is divided by `max(100, N) · k`; similarity = 1 − that.
    public static func similarity(originalTokens: [Int], original: [[TopEntry]],
                                  validatorTokens: [Int], validator: [[TopEntry]]) -> Double {
        guard originalTokens == validatorTokens, original.count == validator.count, original.count == originalTokens.count else {
            return 0
        }
        let k = max(1, validator.map(\.count).max() ?? 1)
        var distance = 0.0
        for (o, v) in zip(original, validator) {
            let byID = Dictionary(o.map { ($0.id, $0.logprob) }, uniquingKeysWith: { a, _ in a })
            let sorted = o.map(\.logprob).sorted()
            let missing: Double
            switch sorted.count {
            case 0: missing = -100
            case 1: missing = sorted[0]
            default: missing = sorted[0] - (sorted[1] - sorted[0])
            }
            for entry in v {
                let lo = byID[entry.id] ?? missing
                distance += abs(entry.logprob - lo) / (1e-6 + abs(entry.logprob) + abs(lo)) / 2
            }
        }
        return 1 - distance / (Double(max(100, original.count)) * Double(k))
    }
}
