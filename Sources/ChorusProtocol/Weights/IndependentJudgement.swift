public import ChorusCrypto

/// How an entry (a PoC commit, or a confirmation reading) is judged (Specs/weights.md §3): by the
/// others only. The author's vote on its own entry never counts, whatever power it holds (its own
/// and delegated), so no validator accepts itself. The entry is accepted when the others' valid
/// power exceeds `1 − τ` of the others' total: more than the weight a coalition below `1 − τ` of
/// the network can hold, so at least one honest validator vouched for it (f + 1). A coalition that
/// small can neither accept a fake (its members' own votes do not count for themselves) nor, by
/// abstaining or voting invalid, reject an honest entry whose author holds at most half the weight.
/// When the others hold no power at all, nobody independent can judge the entry: the caller applies
/// its carry rule instead of accepting or rejecting.
public enum IndependentJudgement: Sendable, Equatable {
    case accepted
    case rejected
    /// Nobody but the author holds power for the entry's model.
    case unjudgeable

    /// - Parameters:
    ///   - author: whose entry it is.
    ///   - verdicts: each validator's counted verdict on the entry.
    ///   - power: each validator's power for the entry's model.
    ///   - total: the weight the threshold is taken of, the author's share included.
    ///   - threshold: τ; the others' valid power must exceed `1 − τ` of their total.
    /// - Returns: the judgement, and the valid and invalid power of the others' votes.
    public static func judge(author: Bytes32, verdicts: [Bytes32: Verdict], power: [Bytes32: UInt64], total: UInt128,
                             threshold: Ratio) -> (judgement: IndependentJudgement, valid: UInt128, invalid: UInt128) {
        var valid: UInt128 = 0
        var invalid: UInt128 = 0
        for (validator, verdict) in verdicts where validator != author {
            let w = UInt128(power[validator] ?? 0)
            if verdict == .valid { valid += w } else { invalid += w }
        }
        let own = UInt128(power[author] ?? 0)
        let others = total > own ? total - own : 0
        let othersHoldPower = power.contains { $0.key != author && $0.value > 0 }
        guard others > 0, othersHoldPower else { return (.unjudgeable, valid, invalid) }
        return (threshold.complement.isExceeded(by: valid, of: others) ? .accepted : .rejected, valid, invalid)
    }
}
