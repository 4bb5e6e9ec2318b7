public import ChorusCrypto
public import ChorusWire

/// Per-node behaviour of the epoch protocol as a pure state machine: the shell feeds it verified
/// statements, clock ticks, worker artifacts and validation results; it returns directives
/// (publish, generate, validate, ...). No clock, I/O or randomness inside: time comes with every
/// call and the beacon secrets come from the injected `beaconSecret`.
///
/// The engine keeps every statement it is given and derives the beacon, the commit ledger and
/// the tally from that set, so the outcome depends only on which statements it holds, never on
/// their arrival order.
public struct EpochEngine: Sendable {
    public struct Configuration: Sendable {
        /// Models this node has loaded and runs PoC for.
        public var servedModels: [String]
        /// How often a growing tree is committed during generation.
        public var commitIntervalMs: UInt64
        /// Delay after the validation stage starts before sampling, so that final commits arrive.
        public var validationGraceMs: UInt64
        /// False for an auditor: it follows and re-derives every epoch but signs nothing (no
        /// beacon, commit, vote, evidence, certificate signature or declaration), so it can run
        /// beside the network without ever counting in it.
        public var signs: Bool
        /// How long after a confirmation window's end its PoC job keeps running and the reading
        /// takes artifacts: a worker computes in batches, and without it the batch in flight at
        /// the end (seconds for a large model on a CPU) would be lost. The expected reading is
        /// for the window alone, so this only gives back what batching takes away.
        public var confirmationGraceMs: UInt64
        /// Dev-only misbehaviour when signing commits (none by default).
        public var faults: CommitFaults

        public init(servedModels: [String], commitIntervalMs: UInt64 = 2_000, validationGraceMs: UInt64 = 2_000, signs: Bool = true,
                    confirmationGraceMs: UInt64 = 1_000, faults: CommitFaults = CommitFaults()) {
            self.servedModels = signs ? servedModels : []
            self.commitIntervalMs = commitIntervalMs
            self.validationGraceMs = validationGraceMs
            self.signs = signs
            self.confirmationGraceMs = confirmationGraceMs
            self.faults = faults
        }

        /// A verify-only node: no models, no signatures.
        public static let auditor = Configuration(servedModels: [], signs: false)
    }

    /// One-shot steps of an epoch.
    private enum Step: UInt64 {
        case reveal, generation, generationSkipped, endGeneration, beaconCommit, confirmation, tallyFailure
        // Per window (the window index is the third element of the `done` key).
        case confirmationStart, confirmationCommit
    }

    /// Statements signed for epochs further ahead than this are ignored (clock skew allowance).
    public static let futureEpochTolerance: UInt64 = 1

    public let parameters: NetworkParameters
    public let configuration: Configuration
    /// Internal, not private: an auditor signs its sample messages with it (EpochEngine+Audit.swift).
    let key: Ed25519.SigningKey
    private let beaconSecret: @Sendable (UInt64) -> Bytes32
    private let clock: EpochClock

    public private(set) var nextSeq: UInt64
    /// Every statement held, by epoch and id.
    private var statements: [UInt64: [Bytes32: SignedStatement]] = [:]
    /// Final tables by epoch (0 = genesis).
    public private(set) var finalTables: [UInt64: WeightTable]
    public private(set) var certificates: [UInt64: Certificate] = [:]
    /// This node's latest computed table per epoch.
    public private(set) var ownTables: [UInt64: WeightTable] = [:]
    private var collectors: [UInt64: CertificateCollector] = [:]
    private var done: Set<[UInt64]> = []  // [epoch, step]
    private var dirty: Set<UInt64> = []

    // Generation state of the current epoch.
    private var generationEpoch: UInt64 = 0
    private var seedBasis: [Bytes32] = []
    private var trees: [String: SparseMerkleSumTree] = [:]
    private var committedCounts: [String: UInt64] = [:]
    private var lastCommitAt: Int64 = .min
    private var validated: Set<Bytes32> = []
    private var pendingValidations: [Bytes32: (commit: PoCCommit, proof: Ed25519.Signature)] = [:]

    // Confirmation PoC of the latest epoch with windows here (§4 of Specs/epochs.md).
    private var confirmationEpoch: UInt64 = 0
    /// Trees by window index and model; a window's trees grow only until its end.
    private var confirmationTrees: [UInt32: [String: SparseMerkleSumTree]] = [:]
    private var confirmationEnds: [UInt32: Int64] = [:]
    private var confirmationsValidated: Set<Bytes32> = []

    /// - Parameters:
    ///   - firstSeq: above every `seq` this key has signed (the shell persists it).
    ///   - beaconSecret: the secret `r` for an epoch's beacon. It must be unpredictable to others
    ///     and the same across restarts (e.g. a keyed hash of the epoch under a secret kept in the
    ///     data directory), or the reveal will not open the commitment made before the restart.
    ///
    /// After a restart, replay the stored statements through `replay(epoch:statements:now:)` (own
    /// ones included, every epoch from 0) before the first tick, and the stored artifacts of the
    /// current epoch through `onArtifacts` once that tick has re-issued `startGeneration`: the
    /// engine rebuilds the chain of final tables, keeps the seed basis it committed to, never
    /// commits a count below one it already signed, and continues `seq` above its own statements.
    public init(
        parameters: NetworkParameters, key: Ed25519.SigningKey, configuration: Configuration, firstSeq: UInt64 = 1,
        beaconSecret: @escaping @Sendable (UInt64) -> Bytes32
    ) {
        self.parameters = parameters
        self.key = key
        self.configuration = configuration
        self.beaconSecret = beaconSecret
        self.clock = EpochClock(parameters)
        self.nextSeq = firstSeq
        self.finalTables = [0: .genesis(parameters)]
    }

    public var id: Bytes32 { key.publicKey.raw }

    /// The proof for a validator's request (dense index of this node's tree for `model` in `epoch`).
    public func proof(epoch: UInt64, model: String, index: UInt64) -> MerkleProof? {
        guard epoch == generationEpoch else { return nil }
        return trees[model]?.proof(index: index)
    }

    /// The proof for a validator's request on this node's reading of confirmation window `window`.
    public func confirmationProof(epoch: UInt64, window: UInt32, model: String, index: UInt64) -> MerkleProof? {
        guard epoch == confirmationEpoch else { return nil }
        return confirmationTrees[window]?[model]?.proof(index: index)
    }

    /// Everything held for `epoch` (for export and reconciliation).
    public func statements(epoch: UInt64) -> [SignedStatement] {
        (statements[epoch] ?? [:]).values.sorted { $0.id < $1.id }
    }

    /// The certificate signatures of `epoch` that reach τ, final here or not: what an auditor
    /// compares its own table with when they differ.
    public func certifiedCandidate(epoch: UInt64) -> Certificate? {
        certificates[epoch] ?? collectors[epoch]?.certificate
    }

    /// The highest epoch with a final table here (0 = genesis).
    public var lastFinalEpoch: UInt64 { finalTables.keys.max() ?? 0 }

    // MARK: Inputs

    /// Declares a delegation, refusal or intent (effective from the next epoch).
    public mutating func declare(model: String, action: DelegationAction, now: Int64) throws(ProtocolError) -> [EngineDirective] {
        try DelegationBook.check(model: model, action: action, author: id, parameters: parameters)
        guard let position = try? clock.position(atUnixMs: now) else { throw .beforeGenesis(unixMs: now, genesisUnixMs: parameters.genesisUnixMs) }
        return [try publish(DelegationBody(model: model, action: action), epoch: position.epoch)]
    }

    /// A verified statement from the network (or from this node's own store at start-up).
    public mutating func onStatement(_ statement: SignedStatement, now: Int64) -> [EngineDirective] {
        guard statement.networkID == parameters.networkID else { return [] }
        let current = (try? clock.position(atUnixMs: now))?.epoch ?? 0
        guard statement.epoch <= current + Self.futureEpochTolerance, insert(statement) else { return [] }
        switch statement.type {
        case .certificateSignature:
            return collectCertificate(statement)
        case .pocCommit:
            return newEquivocation(statement) ?? []
        default:
            return []
        }
    }

    /// Holds `statement` and marks the epochs whose tally it can change; false if already held.
    private mutating func insert(_ statement: SignedStatement) -> Bool {
        guard statements[statement.epoch]?[statement.id] == nil else { return false }
        statements[statement.epoch, default: [:]][statement.id] = statement
        if statement.author.raw == id { nextSeq = max(nextSeq, statement.seq &+ 1) }
        switch statement.type {
        case .pocCommit, .equivocationEvidence, .beaconReveal:
            dirty.insert(statement.epoch)
        case .vote:
            // A vote may judge a confirmation reading, which the next epoch's table records.
            dirty.insert(statement.epoch)
            dirty.insert(statement.epoch + 1)
        case .delegation, .beaconCommit, .confirmationCommit:
            dirty.insert(statement.epoch + 1)
        default:
            break
        }
        return true
    }

    /// Restores the engine from the shell's store at start-up, before the first tick. Call it once
    /// per stored epoch in ascending order, from epoch 0, with every statement of that epoch
    /// (own ones included). Past epochs are tallied as they come, from the genesis table on, and
    /// finalize from their stored certificate signatures, so the engine ends where it stopped:
    /// same final tables, same basis, and `nextSeq` above every `seq` it signed. Nothing is signed
    /// while replaying: a missing own signature of a past epoch is left to the next tick.
    ///
    /// The returned directives are `tableComputed`, `tableFinal` and `divergence` only.
    ///
    /// `final` is the table and certificate the shell stored when the epoch became final. The
    /// engine recomputes first and uses it only when the recomputation does not reach it (a
    /// statement that arrived after finality and changes the tally is in the store, but was not
    /// in the certified table), and only if its certificate verifies (`restoreFinal`).
    public mutating func replay(
        epoch: UInt64, statements replayed: [SignedStatement], final stored: (table: WeightTable, certificate: Certificate)? = nil, now: Int64
    ) -> [EngineDirective] {
        let current = (try? clock.position(atUnixMs: now))?.epoch ?? 0
        guard epoch <= current + Self.futureEpochTolerance else { return [] }
        for statement in replayed where statement.networkID == parameters.networkID && statement.epoch == epoch {
            _ = insert(statement)
        }
        guard epoch >= 1, epoch < current else { return [] }
        var out = tally(epoch: epoch, signing: false)
        if finalTables[epoch] == nil {
            out += collectHeld(epoch: epoch)
            if finalTables[epoch] == nil, let stored, let restored = try? restoreFinal(stored.table, certificate: stored.certificate) {
                out = out.filter { if case .divergence = $0 { false } else { true } } + restored
            }
            // Not final yet: the first tick computes it again and signs it if this node has not.
            if finalTables[epoch] == nil {
                ownTables[epoch] = nil
                dirty.insert(epoch)
            }
        }
        if epoch >= 2 { prune(before: min(epoch - 1, lastFinalEpoch)) }
        return out.filter {
            switch $0 {
            case .tableComputed, .tableFinal, .divergence: return true
            default: return false
            }
        }
    }

    /// Adopts a table certified by the network (kept by the shell, or received from a peer): it
    /// must build on this engine's final table of the previous epoch and its certificate must
    /// verify against that table's voting weights. Returns `tableFinal`.
    public mutating func restoreFinal(_ table: WeightTable, certificate: Certificate) throws(ProtocolError) -> [EngineDirective] {
        let epoch = table.epoch
        guard finalTables[epoch] == nil else { return [] }
        guard epoch >= 1, let previous = finalTables[epoch - 1] else {
            throw .invalidStatement(type: "weight-table", reason: "no final table for epoch \(epoch &- 1) to build epoch \(epoch) on")
        }
        guard table.networkID == parameters.networkID, table.parametersDigest == parameters.digest, table.previousDigest == previous.digest else {
            throw .invalidStatement(type: "weight-table", reason: "table of epoch \(epoch) is not for this network or does not build on table \(previous.digest.hex)")
        }
        guard certificate.epoch == epoch, certificate.tableDigest == table.digest else {
            throw .invalidStatement(type: "certificate-signature", reason: "certificate is for \(certificate.tableDigest.hex) in epoch \(certificate.epoch), not this table")
        }
        try certificate.verify(networkID: parameters.networkID, previous: previous, threshold: parameters.voteThreshold)
        finalTables[epoch] = table
        certificates[epoch] = certificate
        ownTables[epoch] = ownTables[epoch] ?? table
        dirty.remove(epoch)
        return [.tableFinal(table, certificate)]
    }

    /// Artifacts computed by the worker for `model` in `epoch`; late or foreign ones are ignored.
    public mutating func onArtifacts(epoch: UInt64, model: String, artifacts: [(nonce: UInt64, artifact: [UInt8])], now: Int64) -> [EngineDirective] {
        guard epoch == generationEpoch, now < clock.end(of: .generation, epoch: epoch), var tree = trees[model] else { return [] }
        for (nonce, artifact) in artifacts { try? tree.insert(nonce: nonce, artifact: artifact) }
        trees[model] = tree
        return []
    }

    /// Artifacts computed by the worker in confirmation window `window` of `epoch`; late or
    /// foreign ones are ignored.
    public mutating func onConfirmationArtifacts(
        epoch: UInt64, window: UInt32, model: String, artifacts: [(nonce: UInt64, artifact: [UInt8])], now: Int64
    ) -> [EngineDirective] {
        guard epoch == confirmationEpoch, let end = confirmationEnds[window], now < end, var tree = confirmationTrees[window]?[model] else { return [] }
        for (nonce, artifact) in artifacts { try? tree.insert(nonce: nonce, artifact: artifact) }
        confirmationTrees[window]?[model] = tree
        return []
    }

    /// The outcome of a `ValidationTask`: how many sampled leaves failed.
    public mutating func onValidationResult(commit: Bytes32, mismatches: UInt32, now: Int64) -> [EngineDirective] {
        guard let pending = pendingValidations.removeValue(forKey: commit) else { return [] }
        guard let body = try? Vote.body(for: pending.commit, proof: pending.proof, mismatches: mismatches, parameters: parameters),
              let statement = try? publish(body, epoch: pending.commit.epoch)
        else { return [] }
        return [statement]
    }

    /// Advances the schedule to `now`.
    public mutating func onTick(now: Int64) -> [EngineDirective] {
        guard let position = try? clock.position(atUnixMs: now) else { return [] }
        let e = position.epoch
        // The last final table is the base of everything after it: never prune it, however far
        // behind the network is.
        if e >= 3 { prune(before: min(e - 2, lastFinalEpoch)) }
        var out: [EngineDirective] = []
        // Earlier epochs that are not final yet (late statements, a restart, or an epoch nobody
        // tallied because the network was down or started late): tally them in order from the
        // last final table, since this epoch's seed and voting weights need the previous final
        // table. An epoch without statements still gets its (empty) table and certificate.
        var earlier = lastFinalEpoch + 1
        while earlier < e {
            out += tally(epoch: earlier)
            guard finalTables[earlier] != nil else { break }
            earlier += 1
        }
        if position.stage == .generation {
            if once(.reveal, e) { out += reveal(epoch: e) }
            if now >= clock.revealDeadline(epoch: e), !done.contains([e, Step.generation.rawValue]) {
                // Retried on every tick of the stage until it can start (e.g. the previous table
                // becomes final a moment late); the reason is reported once.
                let (directives, started) = startGeneration(epoch: e)
                if started {
                    _ = once(.generation, e)
                    out += directives
                } else if once(.generationSkipped, e) {
                    out += directives
                }
            }
            if e == generationEpoch { out += commitTrees(epoch: e, now: now, force: false) }
        }
        if position.stage != .generation, e == generationEpoch, once(.endGeneration, e) {
            out += commitTrees(epoch: e, now: now, force: true)
            out += configuration.servedModels.map { .stopGeneration(epoch: e, model: $0) }
        }
        if position.stage == .validation, position.stageOffsetMs >= configuration.validationGraceMs {
            out += validate(epoch: e)
        }
        if position.stage == .tally || position.stage == .inference {
            out += tally(epoch: e)
        }
        if finalTables[e] != nil {
            if once(.beaconCommit, e) { out += beaconCommit(epoch: e) }
            if once(.confirmation, e) { out += confirmationWindows(epoch: e) }
        }
        // The last window may end at the stage's end: its commit and votes fall in the next epoch's first ticks.
        if e >= 2 { out += confirm(epoch: e - 1, now: now) }
        out += confirm(epoch: e, now: now)
        return out
    }

    /// Forgets what epochs before `epoch` no longer need: their statements (delegations stay, the
    /// latest one may be old), tables and bookkeeping. The shell keeps its own persistent copy.
    public mutating func prune(before epoch: UInt64) {
        for old in statements.keys where old < epoch {
            let kept = (statements[old] ?? [:]).filter { $0.value.type == .delegation }
            statements[old] = kept.isEmpty ? nil : kept
        }
        for old in finalTables.keys where old < epoch { finalTables[old] = nil }
        for old in ownTables.keys where old < epoch { ownTables[old] = nil }
        for old in certificates.keys where old < epoch { certificates[old] = nil }
        for old in collectors.keys where old < epoch { collectors[old] = nil }
        done = done.filter { $0[0] >= epoch }
        dirty = dirty.filter { $0 >= epoch }
    }

    // MARK: Steps

    private mutating func once(_ step: Step, _ epoch: UInt64) -> Bool {
        done.insert([epoch, step.rawValue]).inserted
    }

    private mutating func once(_ step: Step, _ epoch: UInt64, window: UInt32) -> Bool {
        done.insert([epoch, step.rawValue, UInt64(window)]).inserted
    }

    private mutating func publish<Body: StatementBody>(_ body: Body, epoch: UInt64) throws(ProtocolError) -> EngineDirective {
        guard configuration.signs else { throw .notSigning(what: Body.statementType.name) }
        let statement: SignedStatement
        do {
            statement = try SignedStatement.sign(networkID: parameters.networkID, epoch: epoch, seq: nextSeq, body: body, key: key)
        } catch {
            throw .invalidStatement(type: Body.statementType.name, reason: error.description)
        }
        nextSeq += 1
        statements[epoch, default: [:]][statement.id] = statement
        return .publish(statement)
    }

    private func held(_ type: StatementType, epoch: UInt64) -> [SignedStatement] {
        (statements[epoch] ?? [:]).values.filter { $0.type == type }.sorted { $0.id < $1.id }
    }

    /// The beacon round of `epoch`, rebuilt from held statements (nil without a final previous table).
    func beaconRound(epoch: UInt64) -> BeaconRound? {
        guard epoch >= 1, let previous = finalTables[epoch - 1] else { return nil }
        return EpochInputs.beaconRound(
            parameters: parameters, previous: previous, epoch: epoch, statements: held(.beaconReveal, epoch: epoch),
            beaconCommits: held(.beaconCommit, epoch: epoch - 1))
    }

    /// The generation seed of a basis; epoch 1 (no commitment round before it) uses the empty basis.
    func generationSeed(epoch: UInt64, basis: [Bytes32]) throws(ProtocolError) -> Bytes32 {
        guard let round = beaconRound(epoch: epoch) else { throw .beaconMismatch(reason: "no final table for epoch \(epoch &- 1)") }
        if epoch == 1 && basis.isEmpty { return try round.seed().subSeed(.generation) }
        return try round.seed(basis: basis, minShare: parameters.beaconMinRevealShare).subSeed(.generation)
    }

    func ledger(epoch: UInt64) -> CommitLedger {
        EpochInputs.ledger(parameters: parameters, epoch: epoch, statements: statements(epoch: epoch))
    }

    private mutating func newEquivocation(_ statement: SignedStatement) -> [EngineDirective]? {
        var ledger = CommitLedger(parameters: parameters, epoch: statement.epoch)
        for s in held(.pocCommit, epoch: statement.epoch) where s.id != statement.id && s.author == statement.author { _ = try? ledger.add(s) }
        guard case let .equivocation(_, evidence)? = try? ledger.add(statement) else { return nil }
        let alreadyKnown = held(.equivocationEvidence, epoch: statement.epoch).contains { (try? $0.decodeBody(as: EquivocationEvidenceBody.self)) == evidence }
        guard !alreadyKnown, let directive = try? publish(evidence, epoch: statement.epoch) else { return nil }
        return [directive]
    }

    private mutating func reveal(epoch: UInt64) -> [EngineDirective] {
        let secret = beaconSecret(epoch)
        let mine = held(.beaconCommit, epoch: epoch &- 1).contains { $0.author.raw == id }
        // Revealed before a restart: the stored reveal stands.
        let revealed = held(.beaconReveal, epoch: epoch).contains { $0.author.raw == id }
        guard epoch >= 2, mine, !revealed, let directive = try? publish(BeaconRevealBody(targetEpoch: epoch, reveal: secret), epoch: epoch) else { return [] }
        return [directive]
    }

    /// The directives to start generating, or (not started) the reason why it cannot start yet.
    private mutating func startGeneration(epoch: UInt64) -> ([EngineDirective], started: Bool) {
        guard let round = beaconRound(epoch: epoch) else {
            return ([.skipped(epoch: epoch, reason: "no final weight table for epoch \(epoch - 1); cannot derive the seed")], false)
        }
        // A basis this node already committed to (before a restart) must be kept: changing it is equivocation.
        let earlier = held(.pocCommit, epoch: epoch).first { $0.author.raw == id }.flatMap { try? $0.decodeBody(as: PoCCommitBody.self) }
        let basis = earlier?.seedBasis ?? (epoch == 1 ? [] : round.revealed.map(\.author))
        let seed: Bytes32
        do { seed = try generationSeed(epoch: epoch, basis: basis) } catch {
            return ([.skipped(epoch: epoch, reason: error.description)], false)
        }
        generationEpoch = epoch
        seedBasis = basis
        trees = [:]
        committedCounts = [:]
        lastCommitAt = .min
        validated = []
        // Confirmation readings of the previous epoch may still be under validation.
        pendingValidations = pendingValidations.filter { $0.value.commit.statement.type == .confirmationCommit && $0.value.commit.epoch + 1 >= epoch }
        var out: [EngineDirective] = []
        for model in configuration.servedModels {
            guard let m = parameters.model(model) else { continue }
            trees[model] = SparseMerkleSumTree(depth: m.treeDepth)
            out.append(.startGeneration(epoch: epoch, model: model, seed: seed, until: clock.end(of: .generation, epoch: epoch)))
        }
        return (out, true)
    }

    private mutating func commitTrees(epoch: UInt64, now: Int64, force: Bool) -> [EngineDirective] {
        guard force || lastCommitAt == .min || now - lastCommitAt >= Int64(configuration.commitIntervalMs) else { return [] }
        lastCommitAt = now
        var out: [EngineDirective] = []
        for model in configuration.servedModels {
            let signed = held(.pocCommit, epoch: epoch).filter { $0.author.raw == id }
                .compactMap { try? $0.decodeBody(as: PoCCommitBody.self) }.filter { $0.model == model }.map(\.count).max() ?? 0
            guard let tree = trees[model] else { continue }
            // Fault injection: claim more leaves than the tree has (capped by the tree's capacity).
            let claimed = configuration.faults.inflateCounts ? min(tree.count * 2, UInt64(1) << UInt64(tree.depth)) : tree.count
            guard claimed > max(committedCounts[model] ?? 0, signed) else { continue }
            let body = PoCCommitBody(model: model, count: claimed, root: tree.root, depth: tree.depth, seedBasis: seedBasis)
            if let directive = try? publish(body, epoch: epoch) {
                committedCounts[model] = claimed
                out.append(directive)
            }
            if configuration.faults.equivocate {
                // Fault injection: a second root for the same count.
                var twin = body
                twin.root = Blake2b.hash256(Array("chorus/fault/equivocate\0".utf8) + tree.root.bytes)
                if let directive = try? publish(twin, epoch: epoch) { out.append(directive) }
            }
        }
        return out
    }

    private mutating func validate(epoch: UInt64) -> [EngineDirective] {
        guard let previous = finalTables[epoch - 1], previous.votingWeight(of: id) > 0 else { return [] }
        let ledger = ledger(epoch: epoch)
        var out: [EngineDirective] = []
        for model in configuration.servedModels where ledger.latest(author: id, model: model) != nil {
            for commit in ledger.latestCommits(model: model) where !validated.contains(commit.statement.id) {
                validated.insert(commit.statement.id)
                let (proof, sampleSeed) = LeafSampler.sign(commit: commit.statement, key: key)
                let samples = UInt32(min(UInt64(parameters.model(model)?.sampleSize ?? 0), commit.body.count))
                if commit.author == id {
                    if let body = try? Vote.body(for: commit, proof: proof, mismatches: 0, parameters: parameters), let d = try? publish(body, epoch: epoch) { out.append(d) }
                    continue
                }
                if let round = beaconRound(epoch: epoch),
                   commit.body.seedBasis.contains(where: { round.commitments[$0] != nil && round.reveals[$0] == nil }) {
                    // A named reveal has not reached this node yet: retry on a later tick.
                    validated.remove(commit.statement.id)
                    continue
                }
                guard let seed = try? generationSeed(epoch: epoch, basis: commit.body.seedBasis) else {
                    // An inadmissible seed basis: every sample counts as a mismatch.
                    if let body = try? Vote.body(for: commit, proof: proof, mismatches: samples, parameters: parameters), let d = try? publish(body, epoch: epoch) { out.append(d) }
                    continue
                }
                pendingValidations[commit.statement.id] = (commit, proof)
                let indices = LeafSampler.indices(seed: sampleSeed, count: commit.body.count, sampleSize: parameters.model(model)?.sampleSize ?? 0)
                out.append(.validate(ValidationTask(commit: commit, generationSeed: seed, indices: indices)))
            }
        }
        return out
    }

    private mutating func tally(epoch: UInt64, signing: Bool = true) -> [EngineDirective] {
        guard epoch >= 1, finalTables[epoch] == nil, let previous = finalTables[epoch - 1] else { return [] }
        guard ownTables[epoch] == nil || dirty.contains(epoch) else { return [] }
        dirty.remove(epoch)
        let result: TallyResult
        do {
            result = try EpochInputs.tally(
                parameters: parameters, previous: previous, epoch: epoch, statements: statements(epoch: epoch),
                beaconCommits: held(.beaconCommit, epoch: epoch - 1),
                delegations: (0..<epoch).flatMap { held(.delegation, epoch: $0) },
                confirmations: held(.confirmationCommit, epoch: epoch - 1) + held(.vote, epoch: epoch - 1))
        } catch {
            return once(.tallyFailure, epoch) ? [.skipped(epoch: epoch, reason: "tally failed: \(error.description)")] : []
        }
        let table = result.table
        guard ownTables[epoch]?.digest != table.digest else { return [] }
        ownTables[epoch] = table
        var out: [EngineDirective] = [.tableComputed(table)]
        let alreadySigned = held(.certificateSignature, epoch: epoch).contains {
            $0.author.raw == id && (try? $0.decodeBody(as: CertificateSignatureBody.self))?.tableDigest == table.digest
        }
        if signing, !alreadySigned, previous.votingWeight(of: id) > 0, let d = try? publish(CertificateSignatureBody(tableDigest: table.digest), epoch: epoch) {
            out.append(d)
        }
        // Counts this node's own signature (and any held ones) and finalizes if enough.
        collectors[epoch] = nil
        return out + collectHeld(epoch: epoch)
    }

    private mutating func collectHeld(epoch: UInt64) -> [EngineDirective] {
        guard let signature = held(.certificateSignature, epoch: epoch).first else { return [] }
        return collectCertificate(signature)
    }

    private mutating func collectCertificate(_ statement: SignedStatement) -> [EngineDirective] {
        let epoch = statement.epoch
        guard epoch >= 1, finalTables[epoch] == nil, let previous = finalTables[epoch - 1] else { return [] }
        var collector = collectors[epoch] ?? CertificateCollector(
            networkID: parameters.networkID, epoch: epoch, previous: previous, threshold: parameters.voteThreshold)
        for s in held(.certificateSignature, epoch: epoch) { _ = try? collector.add(s) }
        collectors[epoch] = collector
        return checkFinal(epoch: epoch)
    }

    private mutating func checkFinal(epoch: UInt64) -> [EngineDirective] {
        guard finalTables[epoch] == nil, let certificate = collectors[epoch]?.certificate else { return [] }
        guard let own = ownTables[epoch] else { return [] }
        guard own.digest == certificate.tableDigest else {
            return [.divergence(epoch: epoch, own: own.digest, final: certificate.tableDigest)]
        }
        finalTables[epoch] = own
        certificates[epoch] = certificate
        return [.tableFinal(own, certificate)]
    }

    private mutating func beaconCommit(epoch: UInt64) -> [EngineDirective] {
        guard let table = finalTables[epoch], table.votingWeight(of: id) > 0 else { return [] }
        // Committed before a restart: the stored commitment stands.
        guard !held(.beaconCommit, epoch: epoch).contains(where: { $0.author.raw == id }) else { return [] }
        let target = epoch + 1
        let commitment = BeaconCommitBody.commitment(networkID: parameters.networkID, author: id, targetEpoch: target, reveal: beaconSecret(target))
        guard let d = try? publish(BeaconCommitBody(targetEpoch: target, commitment: commitment), epoch: epoch) else { return [] }
        return [d]
    }

    /// Confirmation PoC of `epoch` (final here): start each window's PoC for the models this node
    /// holds weight in, commit the readings `confirmationGraceMs` after the window's end, and
    /// validate others' readings of the models it holds voting power for `validationGraceMs` later.
    private mutating func confirm(epoch: UInt64, now: Int64) -> [EngineDirective] {
        guard configuration.signs, let table = finalTables[epoch], let seed = try? table.agreedSeed() else { return [] }
        let windows = ConfirmationPoC.windows(agreedSeed: seed, epoch: epoch, parameters: parameters)
        guard !windows.isEmpty, now >= windows[0].start else { return [] }
        let own = table.entry(id)?.models ?? []
        var out: [EngineDirective] = []
        let grace = Int64(configuration.confirmationGraceMs)
        for (i, window) in windows.enumerated() {
            let w = UInt32(i)
            let closes = window.end + grace
            if now >= window.start, now < window.end, once(.confirmationStart, epoch, window: w) {
                if confirmationEpoch != epoch {
                    confirmationEpoch = epoch
                    confirmationTrees = [:]
                    confirmationEnds = [:]
                }
                confirmationEnds[w] = closes
                let windowSeed = ConfirmationPoC.windowSeed(agreedSeed: seed, window: w)
                for model in configuration.servedModels where own.contains(where: { $0.model == model && $0.pocWeight > 0 }) {
                    guard let m = parameters.model(model) else { continue }
                    confirmationTrees[w, default: [:]][model] = SparseMerkleSumTree(depth: m.treeDepth)
                    out.append(.startConfirmation(epoch: epoch, window: w, model: model, seed: windowSeed, until: closes))
                }
            }
            if now >= closes, once(.confirmationCommit, epoch, window: w), confirmationEpoch == epoch {
                for (model, tree) in (confirmationTrees[w] ?? [:]).sorted(by: { $0.key < $1.key }) where tree.count > 0 {
                    let body = ConfirmationCommitBody(window: w, model: model, count: tree.count, root: tree.root, depth: tree.depth)
                    if let d = try? publish(body, epoch: epoch) { out.append(d) }
                }
            }
            if now >= closes + Int64(configuration.validationGraceMs) {
                out += validateConfirmations(epoch: epoch, window: w, seed: ConfirmationPoC.windowSeed(agreedSeed: seed, window: w), own: own)
            }
        }
        return out
    }

    /// Validation tasks (and the own reading's vote) for the readings of window `window` of the
    /// models this node runs and holds voting power for in `epoch`'s table.
    private mutating func validateConfirmations(epoch: UInt64, window: UInt32, seed: Bytes32, own: [ModelEntry]) -> [EngineDirective] {
        var out: [EngineDirective] = []
        for statement in held(.confirmationCommit, epoch: epoch) where !confirmationsValidated.contains(statement.id) {
            guard let reading = try? ConfirmationCommit(statement, parameters: parameters), reading.body.window == window,
                  configuration.servedModels.contains(reading.body.model),
                  own.contains(where: { $0.model == reading.body.model && $0.votingPower > 0 }) else { continue }
            confirmationsValidated.insert(statement.id)
            let commit = reading.asTreeCommit
            let (proof, sampleSeed) = LeafSampler.sign(commit: statement, key: key)
            if reading.author == id {
                if let body = try? Vote.body(for: commit, proof: proof, mismatches: 0, parameters: parameters), let d = try? publish(body, epoch: epoch) { out.append(d) }
                continue
            }
            pendingValidations[statement.id] = (commit, proof)
            let indices = LeafSampler.indices(seed: sampleSeed, count: reading.body.count, sampleSize: parameters.model(reading.body.model)?.sampleSize ?? 0)
            out.append(.validate(ValidationTask(commit: commit, generationSeed: seed, indices: indices)))
        }
        return out
    }

    private mutating func confirmationWindows(epoch: UInt64) -> [EngineDirective] {
        guard let table = finalTables[epoch], let seed = try? table.agreedSeed() else { return [] }
        return ConfirmationPoC.windows(agreedSeed: seed, epoch: epoch, parameters: parameters).map { .confirmationWindow(epoch: epoch, window: $0) }
    }
}
