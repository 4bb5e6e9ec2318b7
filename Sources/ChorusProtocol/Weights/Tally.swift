public import ChorusCrypto
public import ChorusWire

/// How one (participant, model) entry fared in the tally: the evidence behind the table row.
public struct EntryOutcome: Sendable, Hashable {
    public let participant: Bytes32
    public let model: String
    public let commit: Bytes32
    public let count: UInt64
    public let validPower: UInt64
    public let invalidPower: UInt64
    public let accepted: Bool
    /// Nobody but the participant held power for the model, so nobody could judge the entry; its
    /// previous PoC weight was carried (at most the new count's, for one epoch: Specs/weights.md §3).
    public let carried: Bool
}

/// A vote the tally could not use, and why (for `chorus votes` and audit reports).
public struct RefusedVote: Sendable, Hashable {
    public let id: Bytes32
    public let reason: String
}

/// Everything the tally derived: the table and the reasons behind it.
public struct TallyResult: Sendable {
    public let table: WeightTable
    public let outcomes: [EntryOutcome]
    /// Voting power per model and validator used to weigh the votes.
    public let votingPower: [String: [Bytes32: UInt64]]
    public let refusedVotes: [RefusedVote]
}

/// The deterministic tally of an epoch (Specs/weights.md): from the previous final table and the
/// epoch's signed statements to the new weight table, in exact integer arithmetic. Every node that
/// holds the same statements computes the same table, bit for bit.
public enum Tally {
    public static func compute(
        parameters: NetworkParameters, previous: WeightTable, epoch: UInt64, commits: CommitLedger,
        votes: [SignedStatement], delegations: DelegationBook, beacon: BeaconRound?, confirmations: [ConfirmationRecord] = []
    ) throws(ProtocolError) -> TallyResult {
        guard previous.epoch + 1 == epoch else {
            throw .invalidStatement(type: "weight-table", reason: "previous table is epoch \(previous.epoch), cannot tally epoch \(epoch) on it")
        }
        guard commits.epoch == epoch else {
            throw .invalidStatement(type: "poc-commit", reason: "commit ledger is epoch \(commits.epoch), tallying epoch \(epoch)")
        }
        let previousVoting = previous.votingWeights
        let totalVoting = previous.totalVotingWeight
        let equivocators = Set(commits.equivocators.map(\.author))
        let knownParticipants = Set(previous.entries.map(\.participant))
        let eligibleTargets = previousVoting.filter { !equivocators.contains($0.key) }

        // Modes and voting power per model (§4, §5).
        var modes: [String: [Bytes32: ResolvedMode]] = [:]
        var power: [String: [Bytes32: UInt64]] = [:]
        for model in parameters.models {
            let committers = commits.committers(model: model.id)
            let resolved = delegations.resolve(
                model: model.id, epoch: epoch, participants: knownParticipants, committers: committers, votingWeights: eligibleTargets)
            modes[model.id] = resolved
            var p: [Bytes32: UInt128] = [:]
            for member in committers where !equivocators.contains(member) {
                p[member, default: 0] += UInt128(previousVoting[member] ?? 0)
            }
            for (delegator, mode) in resolved where mode.mode == .delegate {
                if let target = mode.target, p[target] != nil {
                    p[target, default: 0] += UInt128(previousVoting[delegator] ?? 0)
                }
            }
            let cap = parameters.caps.maxModelVotingPowerShare
            if !cap.isZero {
                let limit = cap.scaledFloor(p.values.reduce(0, +))
                for key in p.keys { p[key] = min(p[key] ?? 0, limit) }
            }
            power[model.id] = p.compactMapValues { UInt64(exactly: $0) }.filter { $0.value > 0 }
        }

        // Votes: the latest valid vote of each validator on each latest commit (§3).
        var refused: [RefusedVote] = []
        var thresholds = FraudThresholds()
        var latestVotes: [Bytes32: [Bytes32: (seq: UInt64, id: Bytes32, verdict: Verdict)]] = [:]  // commit → validator → vote
        for statement in votes {
            guard statement.type == .vote, statement.epoch == epoch else {
                refused.append(RefusedVote(id: statement.id, reason: "not a vote of epoch \(epoch)"))
                continue
            }
            let body: VoteBody
            do { body = try statement.decodeBody(as: VoteBody.self) } catch {
                refused.append(RefusedVote(id: statement.id, reason: error.description))
                continue
            }
            guard let commit = commits.commit(id: body.commit),
                  commits.latest(author: commit.author, model: commit.body.model)?.statement.id == commit.statement.id
            else {
                refused.append(RefusedVote(id: statement.id, reason: "names commit \(body.commit.hex), which is not the latest commit of a non-equivocating participant"))
                continue
            }
            do { _ = try Vote(statement, commit: commit, parameters: parameters, thresholds: &thresholds) } catch {
                refused.append(RefusedVote(id: statement.id, reason: error.description))
                continue
            }
            let validator = statement.author.raw
            if let existing = latestVotes[commit.statement.id]?[validator], (existing.seq, existing.id) > (statement.seq, statement.id) { continue }
            latestVotes[commit.statement.id, default: [:]][validator] = (statement.seq, statement.id, body.verdict)
        }

        // Acceptance and PoC weight per entry (§3, §6.1).
        var outcomes: [EntryOutcome] = []
        var pocWeights: [String: [Bytes32: UInt64]] = [:]
        for model in parameters.models {
            let p = power[model.id] ?? [:]
            for commit in commits.latestCommits(model: model.id) {
                let verdicts = (latestVotes[commit.statement.id] ?? [:]).mapValues(\.verdict)
                let (judgement, valid, invalid) = IndependentJudgement.judge(
                    author: commit.author, verdicts: verdicts, power: p, total: totalVoting, threshold: parameters.voteThreshold)
                let normalized = UInt128(commit.body.count) * UInt128(parameters.referenceGenerationMs) / UInt128(parameters.stages.generationMs)
                guard let value = UInt64(exactly: normalized), value <= WeightLimits.maxTotalWeight else { throw .overflow(what: "pocWeight of \(commit.author.hex)") }
                // Carry rule: an entry nobody else could judge keeps the previous epoch's PoC weight
                // (never more than the new count's), and only after an accepted one.
                let before = previous.entry(commit.author)?.models.first { $0.model == model.id }
                let carried: UInt64? = judgement == .unjudgeable && before?.accepted == true
                    ? min(before?.pocWeight ?? 0, value) : nil
                outcomes.append(EntryOutcome(
                    participant: commit.author, model: model.id, commit: commit.statement.id, count: commit.body.count,
                    validPower: UInt64(clamping: valid), invalidPower: UInt64(clamping: invalid), accepted: judgement == .accepted,
                    carried: (carried ?? 0) > 0))
                if judgement == .accepted {
                    pocWeights[model.id, default: [:]][commit.author] = value
                } else if let carried, carried > 0 {
                    pocWeights[model.id, default: [:]][commit.author] = carried
                }
            }
        }

        let weights = try WeightArithmetic.consensusWeights(parameters: parameters, epoch: epoch, pocWeights: pocWeights, modes: modes, equivocators: equivocators)

        // Rows (§6.6, §6.7).
        var entries: [WeightEntry] = []
        for (participant, weight) in weights where weight > 0 {
            let rows = parameters.models.map { model in
                let committed = commits.latest(author: participant, model: model.id)?.body.count ?? 0
                let pw = pocWeights[model.id]?[participant] ?? 0
                let accepted = outcomes.contains { $0.participant == participant && $0.model == model.id && $0.accepted }
                return ModelEntry(model: model.id, mode: modes[model.id]?[participant]?.mode ?? .none, committedCount: committed, accepted: accepted,
                                  pocWeight: pw, votingPower: power[model.id]?[participant] ?? 0)
            }
            entries.append(WeightEntry(participant: participant, weight: weight, votingWeight: min(weight, previous.weight(of: participant)), models: rows))
        }
        // Confirmation PoC of the previous epoch (§6.8): failing costs the voting weight, unless
        // that would leave nobody to certify the next table.
        let failed = Set(confirmations.filter { !$0.passed }.map(\.participant))
        let kept = entries.map { failed.contains($0.participant) ? WeightEntry(participant: $0.participant, weight: $0.weight, votingWeight: 0, models: $0.models) : $0 }
        if kept.contains(where: { $0.votingWeight > 0 }) { entries = kept }
        if entries.isEmpty {
            // Stall rule: nobody was accepted; carry the previous weights so the network can recover.
            entries = previous.entries.map { WeightEntry(participant: $0.participant, weight: $0.weight, votingWeight: $0.votingWeight, models: []) }
        }
        let round = beacon.flatMap { $0.targetEpoch == epoch ? $0 : nil }
        let table = WeightTable(
            networkID: parameters.networkID, epoch: epoch, parametersDigest: parameters.digest, previousDigest: previous.digest,
            reveals: round?.revealed ?? [], nonRevealers: round?.nonRevealers ?? [], equivocators: Array(equivocators), entries: entries,
            confirmations: confirmations)
        outcomes.sort { $0.participant != $1.participant ? $0.participant < $1.participant : ByteString(Array($0.model.utf8)) < ByteString(Array($1.model.utf8)) }
        return TallyResult(table: table, outcomes: outcomes, votingPower: power, refusedVotes: refused)
    }
}
