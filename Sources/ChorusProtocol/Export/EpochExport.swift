public import ChorusCrypto
public import ChorusWire

/// One epoch as a self-contained, re-verifiable document (Specs/export.md): every signed statement
/// of the epoch, the statements of earlier epochs its tally reads (the previous epoch's beacon
/// commitments, the delegations in force), the previous final table it builds on, and the final
/// table with its certificate. Anyone holding it and the network file can check every signature
/// and recompute the table without a node: `verify(parameters:)`.
///
/// JSON with hex strings, so it survives any transport and is readable with standard tools;
/// the hex is the canonical binary encoding (Specs/encoding.md), so digests and signatures are
/// checked on exactly the bytes that were signed.
public struct EpochExport: Codable, Sendable, Equatable {
    /// 2: carries the previous epoch's confirmation readings and the votes on them.
    public static let currentFormat = "chorus-epoch-export/2"

    public var format: String
    public var networkID: String
    public var epoch: UInt64
    /// The network file's text (TOML), when the exporter had it: makes the export self-contained.
    public var networkFile: String?
    /// `NetworkParameters.digest` of the network the tables were computed under.
    public var parametersDigest: String
    /// The final table of `epoch − 1` (canonical encoding): the base of this epoch's tally.
    public var previousTable: String
    /// Every statement signed in `epoch` this node holds (all types, certificate signatures included).
    public var statements: [String]
    /// The `beacon-commit`s signed in `epoch − 1` (they open this epoch's beacon round).
    public var beaconCommits: [String]
    /// The latest `delegation` per (author, model) signed before `epoch`.
    public var delegations: [String]
    /// The `confirmation-commit`s signed in `epoch − 1` and the votes naming them: the readings
    /// this epoch's table records (`ConfirmationTally`).
    public var previousConfirmations: [String]
    /// The final table of `epoch` (canonical encoding), nil if the exporter has none.
    public var table: String?
    /// The certificate's signatures (`certificate-signature` statements), sorted by author.
    public var certificate: [String]

    enum CodingKeys: String, CodingKey {
        case format, epoch, statements, delegations, table, certificate
        case networkID = "network_id"
        case networkFile = "network_file"
        case parametersDigest = "parameters_digest"
        case previousTable = "previous_table"
        case beaconCommits = "beacon_commits"
        case previousConfirmations = "previous_confirmations"
    }

    public init(
        networkID: String, epoch: UInt64, networkFile: String?, parametersDigest: Bytes32, previousTable: WeightTable,
        statements: [SignedStatement], beaconCommits: [SignedStatement], delegations: [SignedStatement],
        previousConfirmations: [SignedStatement], table: WeightTable?, certificate: Certificate?
    ) {
        self.format = Self.currentFormat
        self.networkID = networkID
        self.epoch = epoch
        self.networkFile = networkFile
        self.parametersDigest = parametersDigest.hex
        self.previousTable = Hex.encode(previousTable.encodedBytes())
        self.statements = statements.sorted { $0.id < $1.id }.map { Hex.encode($0.encoded) }
        self.beaconCommits = beaconCommits.filter { $0.type == .beaconCommit }.sorted { $0.id < $1.id }.map { Hex.encode($0.encoded) }
        self.delegations = Self.inForce(delegations, before: epoch).map { Hex.encode($0.encoded) }
        self.previousConfirmations = ConfirmationTally.inputs(previousConfirmations.filter { $0.epoch + 1 == epoch }).map { Hex.encode($0.encoded) }
        self.table = table.map { Hex.encode($0.encodedBytes()) }
        self.certificate = (certificate?.signatures ?? []).map { Hex.encode($0.encoded) }
    }

    /// Per (author, model) the declaration `DelegationBook` would pick for `epoch`: the highest
    /// (seq, id) among those signed before it. Undecodable ones are dropped.
    public static func inForce(_ delegations: [SignedStatement], before epoch: UInt64) -> [SignedStatement] {
        var latest: [String: SignedStatement] = [:]
        for s in delegations where s.type == .delegation && s.epoch < epoch {
            guard let body = try? s.decodeBody(as: DelegationBody.self) else { continue }
            let key = s.author.hex + "|" + body.model
            if let existing = latest[key], (existing.seq, existing.id) >= (s.seq, s.id) { continue }
            latest[key] = s
        }
        return latest.values.sorted { $0.id < $1.id }
    }

    /// Re-verifies every signature, recomputes the table from the export alone and checks the
    /// certificate. Never throws for bad content: every problem is reported in the result, whose
    /// `matches` is the verdict.
    public func verify(parameters: NetworkParameters) -> EpochVerification {
        var v = EpochVerification(epoch: epoch)
        func problem(_ text: String) { v.problems.append(text) }
        guard format == Self.currentFormat else {
            problem("format \"\(format)\" is not \(Self.currentFormat)")
            return v
        }
        if parameters.networkID != networkID { problem("export is for network \(networkID), parameters are for \(parameters.networkID)") }
        v.parametersDigest = parameters.digest.hex
        if parameters.digest.hex != parametersDigest {
            problem("parameters digest \(parameters.digest.hex) differs from the export's \(parametersDigest): not the same network file")
        }
        guard epoch >= 1 else {
            problem("epoch 0 is the genesis table; there is nothing to recompute")
            return v
        }

        // Signatures: every statement is decoded and its Ed25519 signature checked.
        func decode(_ list: [String], _ what: String, valid: (SignedStatement) -> String?) -> [SignedStatement] {
            var out: [SignedStatement] = []
            for (i, hex) in list.enumerated() {
                v.statementsChecked += 1
                let statement: SignedStatement
                do {
                    statement = try SignedStatement.decode(try Hex.decode(hex))
                } catch {
                    v.badStatements += 1
                    problem("\(what)[\(i)]: \(error)")
                    continue
                }
                if statement.networkID != networkID {
                    v.badStatements += 1
                    problem("\(what)[\(i)] \(statement.id.hex.prefix(16)): network \(statement.networkID), not \(networkID)")
                } else if let reason = valid(statement) {
                    v.badStatements += 1
                    problem("\(what)[\(i)] \(statement.id.hex.prefix(16)): \(reason)")
                } else {
                    out.append(statement)
                }
            }
            return out
        }
        let held = decode(statements, "statements") { $0.epoch == epoch ? nil : "signed in epoch \($0.epoch), not \(epoch)" }
        let commits = decode(beaconCommits, "beacon_commits") {
            $0.type == .beaconCommit && $0.epoch + 1 == epoch ? nil : "not a beacon-commit of epoch \(epoch - 1)"
        }
        let declared = decode(delegations, "delegations") { $0.type == .delegation && $0.epoch < epoch ? nil : "not a delegation signed before epoch \(epoch)" }
        let confirmations = decode(previousConfirmations, "previous_confirmations") {
            ($0.type == .confirmationCommit || $0.type == .vote) && $0.epoch + 1 == epoch ? nil : "not a confirmation-commit or vote of epoch \(epoch - 1)"
        }
        let signatures = decode(certificate, "certificate") { $0.type == .certificateSignature && $0.epoch == epoch ? nil : "not a certificate-signature of epoch \(epoch)" }
        for s in held { v.countsByType[s.type.name, default: 0] += 1 }

        // The base table and the recomputation.
        let previous: WeightTable
        do { previous = try WeightTable(decoding: try Hex.decode(previousTable)) } catch {
            problem("previous_table does not decode: \(error)")
            return v
        }
        v.previousTableDigest = previous.digest.hex
        if previous.epoch + 1 != epoch { problem("previous_table is epoch \(previous.epoch), not \(epoch - 1)") }
        do {
            let result = try EpochInputs.tally(
                parameters: parameters, previous: previous, epoch: epoch, statements: held, beaconCommits: commits, delegations: declared,
                confirmations: confirmations)
            v.recomputedDigest = result.table.digest.hex
        } catch {
            problem("tally failed: \(error)")
        }
        if let table {
            do {
                let exported = try WeightTable(decoding: try Hex.decode(table))
                v.exportedTableDigest = exported.digest.hex
                if exported.epoch != epoch { problem("table is epoch \(exported.epoch), not \(epoch)") }
            } catch {
                problem("table does not decode: \(error)")
            }
        }

        // The certificate: one digest, signers over τ of the previous table's voting weight.
        let digests = Set(signatures.compactMap { try? $0.decodeBody(as: CertificateSignatureBody.self).tableDigest })
        if signatures.isEmpty {
            problem("no certificate: the epoch is not final in this export")
        } else if digests.count != 1 {
            problem("certificate signatures name \(digests.count) different digests")
        } else if let digest = digests.first {
            v.certifiedDigest = digest.hex
            // Reported per distinct signer: a signer listed twice is counted once here (and makes the
            // certificate fail below), so the report never shows more weight than exists.
            let distinct = Set(signatures.map(\.author.raw))
            v.signers = distinct.count
            v.signerVotingWeight = UInt64(clamping: distinct.reduce(UInt128(0)) { $0 + UInt128(previous.votingWeight(of: $1)) })
            v.totalVotingWeight = UInt64(clamping: previous.totalVotingWeight)
            do {
                try Certificate(epoch: epoch, tableDigest: digest, signatures: signatures)
                    .verify(networkID: networkID, previous: previous, threshold: parameters.voteThreshold)
                v.certificateValid = true
            } catch {
                problem("certificate does not hold: \(error)")
            }
        }
        if let r = v.recomputedDigest, let c = v.certifiedDigest, r != c { problem("recomputed table \(r) differs from the certified \(c)") }
        if let e = v.exportedTableDigest, let c = v.certifiedDigest, e != c { problem("exported table \(e) is not the certified \(c)") }
        v.matches = v.problems.isEmpty && v.certificateValid && v.recomputedDigest != nil && v.recomputedDigest == v.certifiedDigest
        return v
    }
}

/// What `EpochExport.verify` found: the verdict and everything needed to explain it.
public struct EpochVerification: Codable, Sendable, Equatable {
    public var epoch: UInt64
    /// True when every signature verifies, the recomputed table equals the certified one, and the
    /// certificate's signers hold more than τ of the previous table's voting weight.
    public var matches = false
    public var statementsChecked = 0
    public var badStatements = 0
    public var countsByType: [String: Int] = [:]
    public var parametersDigest: String?
    public var previousTableDigest: String?
    public var recomputedDigest: String?
    public var exportedTableDigest: String?
    public var certifiedDigest: String?
    public var certificateValid = false
    public var signers = 0
    public var signerVotingWeight: UInt64 = 0
    public var totalVotingWeight: UInt64 = 0
    public var problems: [String] = []

    public init(epoch: UInt64) { self.epoch = epoch }

    enum CodingKeys: String, CodingKey {
        case epoch, matches, signers, problems
        case statementsChecked = "statements_checked"
        case badStatements = "bad_statements"
        case countsByType = "counts_by_type"
        case parametersDigest = "parameters_digest"
        case previousTableDigest = "previous_table_digest"
        case recomputedDigest = "recomputed_digest"
        case exportedTableDigest = "exported_table_digest"
        case certifiedDigest = "certified_digest"
        case certificateValid = "certificate_valid"
        case signerVotingWeight = "signer_voting_weight"
        case totalVotingWeight = "total_voting_weight"
    }
}
