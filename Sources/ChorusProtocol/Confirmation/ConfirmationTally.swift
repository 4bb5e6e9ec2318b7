import ChorusCrypto
public import ChorusWire

/// The outcome of an epoch's confirmation windows (Specs/epochs.md §4), from its final table and
/// the `confirmation-commit`s and votes signed in it. Runs inside the next epoch's tally, so every
/// node derives the same records from the same statements; nothing here reads a clock.
public enum ConfirmationTally {
    /// The statements `compute` reads: `confirmation-commit`s and the votes that name one of them,
    /// sorted by id (what an epoch export carries for the next epoch's tally).
    public static func inputs(_ statements: [SignedStatement]) -> [SignedStatement] {
        let commits = Set(statements.filter { $0.type == .confirmationCommit }.map(\.id))
        return statements.filter {
            $0.type == .confirmationCommit || ($0.type == .vote && (try? $0.decodeBody(as: VoteBody.self)).map { commits.contains($0.commit) } == true)
        }.sorted { $0.id < $1.id }
    }

    /// - Parameters:
    ///   - table: the final table of the epoch whose windows are judged (its agreed seed fixes the
    ///     windows; its rows give each participant's `pocWeight` and each validator's voting power
    ///     per model).
    ///   - statements: statements signed in that epoch; only `confirmation-commit`s and the votes
    ///     naming them are read.
    /// - Returns: one record per (participant, model) with `pocWeight > 0` in `table`, sorted by
    ///   participant then model, with a reading per held window (one with at least one
    ///   `confirmation-commit`); empty when the network has no windows or none was held.
    public static func compute(parameters: NetworkParameters, table: WeightTable, statements: [SignedStatement]) -> [ConfirmationRecord] {
        guard table.epoch >= 1, let seed = try? table.agreedSeed() else { return [] }
        let windows = ConfirmationPoC.windows(agreedSeed: seed, epoch: table.epoch, parameters: parameters)
        guard !windows.isEmpty else { return [] }
        let sorted = statements.filter { $0.epoch == table.epoch }.sorted { $0.id < $1.id }

        struct Key: Hashable { let author: Bytes32, model: String, window: UInt32 }
        var commits: [Key: [ConfirmationCommit]] = [:]
        var byID: [Bytes32: ConfirmationCommit] = [:]
        for s in sorted where s.type == .confirmationCommit {
            guard let c = try? ConfirmationCommit(s, parameters: parameters), Int(c.body.window) < windows.count else { continue }
            commits[Key(author: c.author, model: c.body.model, window: c.body.window), default: []].append(c)
            byID[s.id] = c
        }

        // The latest checked vote of each validator on each confirmation commit.
        var thresholds = FraudThresholds()
        var latest: [Bytes32: [Bytes32: (seq: UInt64, id: Bytes32, verdict: Verdict)]] = [:]
        for s in sorted where s.type == .vote {
            guard let body = try? s.decodeBody(as: VoteBody.self), let commit = byID[body.commit],
                  (try? Vote(s, commit: commit.asTreeCommit, parameters: parameters, thresholds: &thresholds)) != nil else { continue }
            if let existing = latest[body.commit]?[s.author.raw], (existing.seq, existing.id) > (s.seq, s.id) { continue }
            latest[body.commit, default: [:]][s.author.raw] = (s.seq, s.id, body.verdict)
        }

        // Voting power per model: what each validator held for the model in the epoch's tally.
        var power: [String: [Bytes32: UInt64]] = [:]
        for entry in table.entries {
            for row in entry.models where row.votingPower > 0 { power[row.model, default: [:]][entry.participant] = row.votingPower }
        }

        // A window nobody committed a reading for is void: the network as a whole did not measure
        // in it (e.g. table `e` became final after it had passed), which says nothing about anyone.
        let held = Set(commits.keys.map(\.window))
        guard !held.isEmpty else { return [] }
        var records: [ConfirmationRecord] = []
        for entry in table.entries {
            for row in entry.models where row.pocWeight > 0 {
                let p = power[row.model] ?? [:]
                let total = p.values.reduce(UInt128(0)) { $0 + UInt128($1) }
                let expected = ConfirmationPoC.expectedCount(pocWeight: row.pocWeight, parameters: parameters)
                let readings = (0..<UInt32(windows.count)).filter(held.contains).map { window -> UInt64 in
                    // None, or two different ones (an equivocating reading), reads zero.
                    guard let list = commits[Key(author: entry.participant, model: row.model, window: window)], list.count == 1 else { return 0 }
                    let verdicts = (latest[list[0].statement.id] ?? [:]).mapValues(\.verdict)
                    // Judged by the others only (Specs/weights.md §3); a reading nobody else could
                    // judge counts at face value up to what the PoC weight promised.
                    switch IndependentJudgement.judge(author: entry.participant, verdicts: verdicts, power: p, total: total,
                                                      threshold: parameters.voteThreshold).judgement {
                    case .accepted: return list[0].body.count
                    case .rejected: return 0
                    case .unjudgeable: return min(list[0].body.count, expected)
                    }
                }
                let weight = ConfirmationPoC.confirmationWeight(readings: readings) ?? 0
                records.append(ConfirmationRecord(
                    participant: entry.participant, model: row.model, expected: expected, readings: readings,
                    passed: ConfirmationPoC.passes(reading: weight, expected: expected, parameters: parameters)))
            }
        }
        return records
    }
}
