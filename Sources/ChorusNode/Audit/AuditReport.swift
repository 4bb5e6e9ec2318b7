import ChorusCrypto
import ChorusProtocol
import ChorusWire

/// A verify-only node's account of one epoch (DATA_DIR/audit/epoch-N.json, rendered as
/// epoch-N.html): the table it derived itself, the certificate the network produced, whether they
/// agree, who signed with what share, and what the epoch was made of. It is written from the
/// auditor's own statements and computation only, so it can be compared across auditors. An
/// auditor with a worker adds its proof re-checks (Specs/validation.md §6), and a divergence line
/// for each one whose verdict the final table contradicts.
public struct AuditReport: Codable, Sendable, Equatable {
    public struct Signer: Codable, Sendable, Equatable {
        public var participant: String
        /// Voting weight in the previous final table, and its share of the total (0...1).
        public var votingWeight: UInt64
        public var share: Double
        enum CodingKeys: String, CodingKey {
            case participant, share
            case votingWeight = "voting_weight"
        }
    }

    public struct Divergence: Codable, Sendable, Equatable {
        public var what: String
        public var own: String
        public var certified: String
    }

    public var epoch: UInt64
    public var networkID: String
    public var role: String
    public var generatedUnixMs: Int64
    /// True once the certified digest equals the auditor's own table.
    public var matches: Bool
    public var final: Bool
    public var ownTableDigest: String?
    public var certifiedDigest: String?
    public var previousTableDigest: String?
    /// The derived table, in the same form as `chorus weights --json`.
    public var table: [WeightsResult.Participant]
    public var certificateSigners: [Signer]
    public var signerShare: Double
    public var threshold: String
    public var divergences: [Divergence]
    public var statementCounts: [String: Int]
    public var reveals: Int
    public var nonRevealers: [String]
    public var equivocators: [String]
    /// The network's models, in network-file order: each gets a chart, empty or not.
    public var models: [String]
    /// The auditor's own checks of the epoch's commits, by participant and model; empty without a worker.
    public var proofRechecks: [ProofRecheck]

    enum CodingKeys: String, CodingKey {
        case epoch, role, matches, final, table, divergences, threshold, reveals, equivocators, models
        case networkID = "network_id"
        case generatedUnixMs = "generated_unix_ms"
        case ownTableDigest = "own_table_digest"
        case certifiedDigest = "certified_digest"
        case previousTableDigest = "previous_table_digest"
        case certificateSigners = "certificate_signers"
        case signerShare = "signer_share"
        case statementCounts = "statement_counts"
        case nonRevealers = "non_revealers"
        case proofRechecks = "proof_rechecks"
    }

    /// - Parameters:
    ///   - own: the auditor's own table for the epoch (nil if it could not compute one).
    ///   - previous: the final table of the epoch before (for the signers' voting weights).
    ///   - certificate: the certificate the network reached (final or not here).
    ///   - rechecks: the auditor's proof re-checks of the epoch, judged here against `finalTable`
    ///     (the epoch's final table; nil while it is not final here).
    public init(
        epoch: UInt64, networkID: String, role: String, now: Int64, own: WeightTable?, previous: WeightTable?,
        certificate: Certificate?, final: Bool, threshold: Ratio, statements: [SignedStatement], models: [String],
        rechecks: [ProofRecheck] = [], finalTable: WeightTable? = nil
    ) {
        self.models = models
        self.epoch = epoch
        self.networkID = networkID
        self.role = role
        self.generatedUnixMs = now
        self.final = final
        ownTableDigest = own?.digest.hex
        certifiedDigest = certificate?.tableDigest.hex
        previousTableDigest = previous?.digest.hex
        matches = own != nil && own?.digest == certificate?.tableDigest
        table = own.map { WeightsResult($0).participants } ?? []
        let total = Double(previous?.totalVotingWeight ?? 0)
        certificateSigners = (certificate?.signatures ?? []).map { s in
            let w = previous?.votingWeight(of: s.author.raw) ?? 0
            return Signer(participant: s.author.hex, votingWeight: w, share: total > 0 ? Double(w) / total : 0)
        }
        signerShare = certificateSigners.reduce(0) { $0 + $1.share }
        self.threshold = "\(threshold)"
        var divergences: [Divergence] = []
        if let own, let certificate, own.digest != certificate.tableDigest {
            divergences.append(Divergence(what: "table digest", own: own.digest.hex, certified: certificate.tableDigest.hex))
        }
        if own == nil, let certificate {
            divergences.append(Divergence(what: "table digest", own: "(none computed)", certified: certificate.tableDigest.hex))
        }
        proofRechecks = rechecks.map { $0.judged(by: finalTable) }
            .sorted { ($0.participant, $0.model, $0.commit) < ($1.participant, $1.model, $1.commit) }
        divergences += proofRechecks.compactMap(\.divergence)
        self.divergences = divergences
        var counts: [String: Int] = [:]
        for s in statements { counts[s.type.name, default: 0] += 1 }
        statementCounts = counts
        reveals = own?.reveals.count ?? 0
        nonRevealers = (own?.nonRevealers ?? []).map(\.hex)
        equivocators = (own?.equivocators ?? []).map(\.hex)
    }

    /// PoC weight per model and participant (what the bar chart shows), models in table order.
    /// Every participant of the table has a bar in every model's chart (0 without a row).
    public var pocWeightsByModel: [(model: String, bars: [(participant: String, weight: UInt64)])] {
        var order = models
        for row in table { for m in row.models where !order.contains(m.model) { order.append(m.model) } }
        return order.map { model in
            (model, table.map { row in (row.participant, row.models.first { $0.model == model }?.pocWeight ?? 0) })
        }
    }
}
