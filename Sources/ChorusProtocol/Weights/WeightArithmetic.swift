public import ChorusCrypto

/// The weight arithmetic of Specs/weights.md §6, exact in 128-bit integers.
public enum WeightArithmetic {
    /// pocWeights (accepted entries) → contributions (unified multiplier) → group cap → sum →
    /// delegation shares and penalties → per-participant cap.
    public static func consensusWeights(
        parameters: NetworkParameters, epoch: UInt64, pocWeights: [String: [Bytes32: UInt64]],
        modes: [String: [Bytes32: ResolvedMode]], equivocators: Set<Bytes32>
    ) throws(ProtocolError) -> [Bytes32: UInt64] {
        // §6.2 contributions.
        var contributions: [String: [Bytes32: UInt128]] = [:]
        for model in parameters.models {
            for (p, pw) in pocWeights[model.id] ?? [:] where !equivocators.contains(p) {
                contributions[model.id, default: [:]][p] = model.weightScaleFactor.scaledFloor(UInt128(pw))
            }
        }
        // §6.3 group cap, from uncapped contributions so the order of models does not matter.
        let factor = parameters.caps.groupCapFactor
        if !factor.isZero {
            let uncapped = contributions
            for model in parameters.models where model.id != parameters.initialModelID {
                guard let group = uncapped[model.id] else { continue }
                let total = group.values.reduce(0, +)
                var elsewhere: UInt128 = 0
                for member in group.keys where (group[member] ?? 0) > 0 {
                    for (other, values) in uncapped where other != model.id { elsewhere += values[member] ?? 0 }
                }
                let limit = factor.scaledFloor(elsewhere)
                if total > limit {
                    contributions[model.id] = group.mapValues { $0 * limit / total }
                }
            }
        }
        // §6.4 raw weight.
        var raw: [Bytes32: UInt128] = [:]
        for (_, group) in contributions {
            for (p, c) in group { raw[p, default: 0] += c }
        }
        // §6.5 delegation shares, then penalties.
        var transfersIn: [Bytes32: UInt128] = [:]
        var adjusted: [Bytes32: UInt128] = [:]
        for p in raw.keys.sorted() {
            let base = raw[p] ?? 0
            var remaining = base
            var penalty: UInt128 = 0
            for model in parameters.models where epoch >= model.penaltyStartEpoch {
                let mode = modes[model.id]?[p] ?? .nonParticipant
                switch mode.mode {
                case .direct: break
                case .delegate:
                    let share = min(parameters.delegation.delegationShare.scaledFloor(base), remaining)
                    remaining -= share
                    if let target = mode.target { transfersIn[target, default: 0] += share }
                case .refuse: penalty += parameters.delegation.refusalPenalty.scaledFloor(base)
                case .intent, .none: penalty += parameters.delegation.noParticipationPenalty.scaledFloor(base)
                }
            }
            adjusted[p] = remaining - min(penalty, remaining)
        }
        for (target, amount) in transfersIn where !equivocators.contains(target) { adjusted[target, default: 0] += amount }
        // §6.6 per-participant cap.
        let capped = capShares(adjusted.filter { $0.value > 0 }, share: parameters.caps.maxParticipantShare)
        var result: [Bytes32: UInt64] = [:]
        var total: UInt128 = 0
        for (p, w) in capped {
            total += w
            guard let value = UInt64(exactly: w), total <= UInt128(WeightLimits.maxTotalWeight) else { throw .overflow(what: "consensus weight total") }
            result[p] = value
        }
        return result
    }

    /// The smallest share a cap may impose with `n` participants: 1, 1/2, 2/5, then 3/10 (Gonka's floors).
    static func shareFloor(participants n: Int) -> Ratio {
        switch n {
        case ...1: return .one
        case 2: return Ratio(millionths: 500_000)
        case 3: return Ratio(millionths: 400_000)
        default: return Ratio(millionths: 300_000)
        }
    }

    /// Caps every weight at `C` so that no participant holds more than `share` of the capped total:
    /// with weights sorted descending, the first `k` for which `w_k ≤ C_k = floor(s·Σ_{i≥k} w_i / (1 − k·s))`
    /// fixes `C = C_k` for the `k` largest. The excess is burned. A zero share switches the cap off.
    public static func capShares(_ weights: [Bytes32: UInt128], share: Ratio) -> [Bytes32: UInt128] {
        guard !share.isZero, !weights.isEmpty else { return weights }
        let floor = shareFloor(participants: weights.count)
        let s = share < floor ? floor : share
        guard s.isBelowOne else { return weights }
        let sorted = weights.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var suffix = [UInt128](repeating: 0, count: sorted.count + 1)
        for i in stride(from: sorted.count - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + sorted[i].value }
        let num = UInt128(s.numerator)
        let den = UInt128(s.denominator)
        for k in 0..<sorted.count {
            let used = UInt128(k) * num
            guard used < den else { break }
            let cap = num * suffix[k] / (den - used)
            if sorted[k].value <= cap {
                var result = weights
                for i in 0..<k { result[sorted[i].key] = cap }
                return result
            }
        }
        return weights
    }
}
