public import ChorusCrypto
import ChorusWire

/// An auditor's re-check of one commit (Specs/validation.md §6): the same sample a validator with
/// the auditor's key would draw, and the prover's generation seed, but nothing to publish. The
/// shell fetches and checks the proofs exactly as for a vote and judges the mismatches with
/// `verdict(mismatches:parameters:)`, the vote's own binomial test.
public struct AuditTask: Sendable, Hashable {
    public let commit: PoCCommit
    /// The auditor's signature over the commit's sample message (`LeafSampler.sign`): what its
    /// vote would carry, so anyone holding the report's numbers can check the sample was not chosen.
    public let sampleProof: Ed25519.Signature
    /// Dense leaf indices to check, in draw order (`LeafSampler.indices` of the proof's seed).
    public let indices: [UInt64]
    /// The seed the prover's artifacts must have been computed with; nil when the commit's seed
    /// basis is inadmissible here, so that every sample counts as a mismatch (as validators vote).
    public let generationSeed: Bytes32?

    /// The proof fetch, verification and recomputation to run, as for a validator; nil when
    /// there is nothing to fetch (inadmissible seed basis).
    public var validation: ValidationTask? {
        generationSeed.map { ValidationTask(commit: commit, generationSeed: $0, indices: indices) }
    }

    /// The vote a validator would cast with these samples and `mismatches`: the verdict comes from
    /// the same exact test (`Vote.body`), so an auditor and an honest validator never disagree on
    /// the same counts.
    public func verdict(mismatches: UInt32, parameters: NetworkParameters) throws(ProtocolError) -> VoteBody {
        try Vote.body(for: commit, proof: sampleProof, mismatches: mismatches, parameters: parameters)
    }
}

extension EpochEngine {
    /// The commits of `epoch` an auditor re-checks with its worker: the latest commit of every
    /// non-equivocating participant for each of `models` (the ones its worker can recompute),
    /// once the epoch has reached its validation stage plus `validationGraceMs` at `now` (the
    /// moment validators sample, so the same final commits are judged). Ids in `excluding` (already
    /// re-checked) are skipped, so a shell can call this on every tick without signing again.
    ///
    /// The sample is the auditor's own: `LeafSampler.sign` with its key, computed locally and never
    /// published. A commit whose seed basis names a committed reveal that has not arrived yet is
    /// left for a later call, as validators do; one whose basis is inadmissible gets no generation
    /// seed. Pure: nothing in the engine changes, and an auditor (`Configuration.auditor`) needs
    /// no voting weight for it.
    public func auditTasks(epoch: UInt64, models: [String], now: Int64, excluding: Set<Bytes32> = []) -> [AuditTask] {
        guard epoch >= 1, finalTables[epoch - 1] != nil,
              now >= EpochClock(parameters).start(of: .validation, epoch: epoch) + Int64(configuration.validationGraceMs)
        else { return [] }
        let ledger = ledger(epoch: epoch)
        let round = beaconRound(epoch: epoch)
        var tasks: [AuditTask] = []
        for model in models {
            guard let sampleSize = parameters.model(model)?.sampleSize else { continue }
            for commit in ledger.latestCommits(model: model) where !excluding.contains(commit.statement.id) {
                if let round, commit.body.seedBasis.contains(where: { round.commitments[$0] != nil && round.reveals[$0] == nil }) { continue }
                let (proof, sampleSeed) = LeafSampler.sign(commit: commit.statement, key: key)
                tasks.append(AuditTask(
                    commit: commit, sampleProof: proof,
                    indices: LeafSampler.indices(seed: sampleSeed, count: commit.body.count, sampleSize: sampleSize),
                    generationSeed: try? generationSeed(epoch: epoch, basis: commit.body.seedBasis)))
            }
        }
        return tasks
    }
}
