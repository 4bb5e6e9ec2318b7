import ChorusCrypto
public import ChorusWire

/// The tally of one epoch from exactly the statements it depends on. The engine and an epoch
/// export's verifier (`EpochExport.verify`) both go through here, so an exported epoch is
/// recomputed by the same code that produced the node's table.
public enum EpochInputs {
    /// - Parameters:
    ///   - previous: the final table of `epoch − 1`.
    ///   - statements: the statements of `epoch` (commits, votes, reveals, evidence; others are ignored).
    ///   - beaconCommits: the `beacon-commit`s signed in `epoch − 1` (for this epoch's beacon round).
    ///   - delegations: `delegation`s signed before `epoch` (at least the latest per author and model).
    ///   - confirmations: the `confirmation-commit`s and `vote`s signed in `epoch − 1` (the readings
    ///     of its confirmation windows; other statements are ignored).
    public static func tally(
        parameters: NetworkParameters, previous: WeightTable, epoch: UInt64, statements: [SignedStatement],
        beaconCommits: [SignedStatement], delegations: [SignedStatement], confirmations: [SignedStatement]
    ) throws(ProtocolError) -> TallyResult {
        var book = DelegationBook()
        for s in delegations.sorted(by: { $0.id < $1.id }) where s.type == .delegation && s.epoch < epoch {
            try? book.add(s, parameters: parameters)
        }
        let held = statements.filter { $0.epoch == epoch }.sorted { $0.id < $1.id }
        return try Tally.compute(
            parameters: parameters, previous: previous, epoch: epoch,
            commits: ledger(parameters: parameters, epoch: epoch, statements: held),
            votes: held.filter { $0.type == .vote }, delegations: book,
            beacon: beaconRound(parameters: parameters, previous: previous, epoch: epoch, statements: held, beaconCommits: beaconCommits),
            confirmations: ConfirmationTally.compute(parameters: parameters, table: previous, statements: confirmations))
    }

    /// The commit ledger of `epoch`: every `poc-commit`, then every verified equivocation evidence.
    public static func ledger(parameters: NetworkParameters, epoch: UInt64, statements: [SignedStatement]) -> CommitLedger {
        var ledger = CommitLedger(parameters: parameters, epoch: epoch)
        let sorted = statements.sorted { $0.id < $1.id }
        for s in sorted where s.type == .pocCommit && s.epoch == epoch { _ = try? ledger.add(s) }
        for s in sorted where s.type == .equivocationEvidence && s.epoch == epoch {
            if let body = try? s.decodeBody(as: EquivocationEvidenceBody.self), let proven = try? body.verify(networkID: parameters.networkID) {
                try? ledger.add(evidence: proven)
            }
        }
        return ledger
    }

    /// The beacon round of `epoch` on `previous`: commitments from `epoch − 1`, reveals from `epoch`.
    public static func beaconRound(
        parameters: NetworkParameters, previous: WeightTable, epoch: UInt64, statements: [SignedStatement], beaconCommits: [SignedStatement]
    ) -> BeaconRound {
        var round = BeaconRound(networkID: parameters.networkID, targetEpoch: epoch, previousTableDigest: previous.digest, votingWeights: previous.votingWeights)
        for s in beaconCommits.sorted(by: { $0.id < $1.id }) where s.type == .beaconCommit { try? round.addCommit(s) }
        for s in statements.sorted(by: { $0.id < $1.id }) where s.type == .beaconReveal { try? round.addReveal(s) }
        return round
    }
}
