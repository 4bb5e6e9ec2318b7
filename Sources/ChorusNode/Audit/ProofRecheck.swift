import ChorusProtocol

/// One commit a verify-only node re-checked with its worker (Specs/validation.md §6): its own
/// sample of the participant's leaves, fetched, verified and recomputed the way a validator does,
/// judged by the vote's binomial test, and compared with what the final table made of the entry.
public struct ProofRecheck: Codable, Sendable, Equatable {
    public var participant: String
    public var model: String
    /// The message id of the re-checked `poc-commit`, and its count.
    public var commit: String
    public var count: UInt64
    public var samples: Int
    /// Proofs received that verified against the commit.
    public var proofsVerified: Int
    /// nil when the worker failed: no verdict, as a validator casts no vote then.
    public var mismatches: Int?
    /// `valid` or `invalid` by `Vote.body`'s exact test; nil without mismatches.
    public var verdict: String?
    /// `checked`, `no proofs served`, `no proof verified`, `inadmissible seed basis`, or why there is
    /// no verdict (`worker failed: ...`).
    public var outcome: String
    /// The auditor's signature over the commit's sample message (hex): anyone can recompute the
    /// sampled indices from it and see that the auditor did not pick them.
    public var sampleProof: String
    public var durationMs: Double
    /// Whether the epoch's final table accepted this participant for this model (no row: not
    /// accepted); nil while the epoch is not final here.
    public var tableAccepted: Bool?
    /// Whether the verdict and the table agree (valid ⇔ accepted); nil when either is unknown.
    public var agrees: Bool?

    enum CodingKeys: String, CodingKey {
        case participant, model, commit, count, samples, mismatches, verdict, outcome, agrees
        case proofsVerified = "proofs_verified"
        case sampleProof = "sample_proof"
        case durationMs = "duration_ms"
        case tableAccepted = "table_accepted"
    }

    public init(participant: String, model: String, commit: String, count: UInt64, samples: Int, proofsVerified: Int,
                mismatches: Int?, verdict: String?, outcome: String, sampleProof: String, durationMs: Double) {
        self.participant = participant
        self.model = model
        self.commit = commit
        self.count = count
        self.samples = samples
        self.proofsVerified = proofsVerified
        self.mismatches = mismatches
        self.verdict = verdict
        self.outcome = outcome
        self.sampleProof = sampleProof
        self.durationMs = durationMs
    }

    /// This re-check compared with `table`, the epoch's final table (nil: not final here yet).
    /// The table's acceptance needs more than τ of the voting power to vote valid, so a valid
    /// verdict beside a rejected entry can also mean validators abstained; an invalid verdict
    /// beside an accepted entry means the network accepted leaves the auditor could not reproduce.
    func judged(by table: WeightTable?) -> ProofRecheck {
        var judged = self
        judged.tableAccepted = table.map { table in
            table.entries.first { $0.participant.hex == participant }?.models.first { $0.model == model }?.accepted ?? false
        }
        judged.agrees = judged.tableAccepted.flatMap { accepted in verdict.map { ($0 == Verdict.valid.description) == accepted } }
        return judged
    }

    /// The report's divergence line when the verdict and the table disagree.
    var divergence: AuditReport.Divergence? {
        guard agrees == false, let verdict, let mismatches, let tableAccepted else { return nil }
        return AuditReport.Divergence(
            what: "proof re-check of \(participant.prefix(16)) for \(model)",
            own: "\(verdict): \(mismatches) of \(samples) samples mismatched (\(outcome))",
            certified: tableAccepted ? "accepted by the final table" : "rejected by the final table")
    }
}
