import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusProtocol
import ChorusWire
import Foundation
import Logging

/// Epochs on the node: the pure `EpochEngine` (ChorusProtocol) fed with the node's verified
/// statements and the wall clock, its directives carried out here. Statements it signs are stored
/// and gossiped like any other; statements of the epoch protocol that arrive by gossip or
/// anti-entropy reach it after verification.
///
/// PoC generation and validation need a worker; a node without one (an auditor) still follows and
/// tallies every epoch, and reports the steps it skipped.
extension Node {
    /// The statement types the engine consumes.
    static let epochStatementTypes: Set<StatementType> = [
        .pocCommit, .confirmationCommit, .vote, .delegation, .certificateSignature, .beaconCommit, .beaconReveal, .equivocationEvidence,
    ]
    static let epochTickInterval: Duration = .milliseconds(250)

    /// Starts following the network's epochs with `engine` (built from the network file), after
    /// replaying the stored statements into it (Node+EpochReplay.swift).
    /// - Parameters:
    ///   - networkFile: the network file's text, embedded in epoch exports.
    ///   - auditDirectory: where a verify-only node writes its per-epoch audit reports.
    public func attachEpochs(_ engine: EpochEngine, networkFile: String? = nil, auditDirectory: String? = nil) {
        epochs = EpochState(engine: engine, networkFile: networkFile, auditDirectory: auditDirectory)
        networkClaimAttached()
        replayStoredEpochs()
        let timer = LoopTimer(on: loop)
        timer.schedule(after: .zero, repeatingEvery: Self.epochTickInterval) { [weak self] in
            self?.assumeIsolated { node in
                let now = Self.unixMillis()
                node.performEpoch(node.epochs?.engine.onTick(now: now) ?? [])
                node.scheduleRechecks(now: now)
            }
        }
        epochTimer = timer
        logger.info("following epochs", metadata: ["network": "\(engine.parameters.networkID)",
                                                   "models": "\(engine.configuration.servedModels.joined(separator: ","))"])
    }

    /// Hands a verified statement of the epoch protocol to the engine.
    func epochStatementArrived(_ statement: SignedStatement) {
        guard epochs != nil, Self.epochStatementTypes.contains(statement.type) else { return }
        performEpoch(epochs!.engine.onStatement(statement, now: Self.unixMillis()))
    }

    /// The last epoch a statement may name: the next one (a correct node's clock may run a little
    /// ahead). nil when the node follows no epochs or genesis has not come.
    func latestAcceptedEpoch() -> UInt64? {
        guard let state = epochs, let position = try? EpochClock(state.engine.parameters).position(atUnixMs: Self.unixMillis()) else {
            return nil
        }
        return position.epoch + 1
    }

    /// Whether `author`'s statements count against the budget of weightless authors
    /// (StatementBudget): false for a participant of the last final table (or a genesis participant
    /// before any) and for this node itself.
    func isBudgeted(_ author: Ed25519.PublicKey) -> Bool {
        guard author != publicKey else { return false }
        if let state = epochs {
            if let last = state.finalTables.keys.max(), let table = state.finalTables[last]?.table {
                if table.entry(author.raw) != nil { return false }
            } else if state.engine.parameters.genesisParticipants.contains(where: { $0.id == author.raw }) {
                return false
            }
        }
        return true
    }

    /// Hands a verified statement to the epoch engine when it is one of its types.
    func routeToEpochs(_ statement: SignedStatement) {
        guard epochs != nil, Self.epochStatementTypes.contains(statement.type) else { return }
        epochStatementArrived(statement)
    }

    func performEpoch(_ directives: [EngineDirective]) {
        guard epochs != nil else { return }
        for directive in directives {
            switch directive {
            case let .publish(statement):
                if poc?.faults.neverReveal == true, statement.type == .beaconReveal { continue }
                if statement.type == .pocCommit || statement.type == .confirmationCommit { metrics.commits.increment() }
                if statement.type == .vote { metrics.votes.increment() }
                do throws(NodeError) { try publish(signed: statement) } catch {
                    logger.error("cannot publish an epoch statement", metadata: ["type": "\(statement.type.name)", "error": "\(error)"])
                }
            case let .tableComputed(table):
                epochs!.ownTables[table.epoch] = table
            case let .tableFinal(table, certificate):
                epochs!.finalTables[table.epoch] = (table, certificate)
                persistFinal(table, certificate)
                auditFinal(epoch: table.epoch)
                logger.info("epoch final", metadata: ["epoch": "\(table.epoch)", "digest": "\(table.digest.hex.prefix(16))",
                                                      "participants": "\(table.entries.count)"])
            case let .divergence(epoch, own, final):
                epochs!.divergences.append(EpochDivergence(epoch: epoch, own: own.hex, final: final.hex))
                writeAuditReport(epoch: epoch)
                logger.warning("own weight table differs from the final one; reconciling", metadata: [
                    "epoch": "\(epoch)", "own": "\(own.hex.prefix(16))", "final": "\(final.hex.prefix(16))"])
                for peer in connectedPeers { reconcile(with: peer) }
            case let .startGeneration(epoch, model, seed, until):
                if poc != nil { startGeneration(epoch: epoch, model: model, seed: seed, until: until); continue }
                epochs!.skipped.append(EpochSkip(epoch: epoch, reason: "no PoC worker attached: generation for \(model) not run"))
            case let .startConfirmation(epoch, window, model, seed, until):
                if poc != nil { startGeneration(epoch: epoch, model: model, seed: seed, until: until, window: window); continue }
                epochs!.skipped.append(EpochSkip(epoch: epoch, reason: "no PoC worker attached: confirmation window \(window) for \(model) not run"))
            case let .stopGeneration(_, model):
                stopGeneration(model: model)
            case let .validate(task):
                if poc != nil { startValidation(task); continue }
                epochs!.skipped.append(EpochSkip(epoch: task.commit.epoch,
                                                 reason: "no PoC worker attached: commit \(task.commit.statement.id.hex.prefix(16)) by \(task.commit.author.hex.prefix(16)) not validated"))
            case let .confirmationWindow(epoch, window):
                logger.info("confirmation window", metadata: ["epoch": "\(epoch)", "window": "\(window)"])
            case let .skipped(epoch, reason):
                epochs!.skipped.append(EpochSkip(epoch: epoch, reason: reason))
            }
        }
        if epochs!.skipped.count > 1000 { epochs!.skipped.removeFirst(epochs!.skipped.count - 1000) }
    }

    /// Stores and gossips a statement this node already signed (the engine's).
    func publish(signed statement: SignedStatement) throws(NodeError) {
        if let statements { _ = try? ingestOwn(statements, statement.encoded) }
        gossip.publish(statement, on: NodeConfiguration.defaultTopic)
    }

    private nonisolated func ingestOwn(_ store: StatementStore, _ encoded: [UInt8]) throws -> [StatementStore.Outcome] {
        try store.ingest([encoded])
    }

    /// `epoch`: where the network's clock stands, and what this node knows about an epoch.
    public func epochStatus(_ epoch: UInt64?) -> EpochStatus? {
        guard let state = epochs else { return nil }
        let engine = state.engine
        let now = Self.unixMillis()
        let position = try? EpochClock(engine.parameters).position(atUnixMs: now)
        let shown = epoch ?? position?.epoch ?? 0
        let final = state.finalTables[shown]
        let lastFinal = state.finalTables.keys.max()
        return EpochStatus(
            epoch: shown, stage: shown == position?.epoch ? position.map { "\($0.stage)" } : nil,
            final: final != nil, lastFinalEpoch: lastFinal, tableDigest: final?.table.digest.hex,
            ownTableDigest: state.ownTables[shown]?.digest.hex, statements: engine.statements(epoch: shown).count,
            certificateSigners: final?.certificate.signatures.count,
            skipped: state.skipped.filter { $0.epoch == shown }.map(\.reason),
            divergences: state.divergences.filter { $0.epoch == shown })
    }

    /// `weights`: the final table of the last final epoch (or of `epoch`).
    public func weights(_ epoch: UInt64?) -> WeightTable? {
        guard let state = epochs else { return nil }
        if let epoch { return state.finalTables[epoch]?.table }
        return state.finalTables.keys.max().flatMap { state.finalTables[$0]?.table }
    }

    static func unixMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The engine a node runs for `parameters` with its identity `key`. The commit-reveal beacon's
    /// per-epoch secret is derived from a signature of the node (Ed25519 signatures are
    /// deterministic), so it is the same after a restart and unknown to anyone without the key.
    /// `faults` is for devnets only (`PoCFaults.parse` refuses them elsewhere).
    public static func makeEpochEngine(parameters: NetworkParameters, key: Ed25519.SigningKey, servedModels: [String],
                                       faults: CommitFaults = CommitFaults()) -> EpochEngine {
        EpochEngine(parameters: parameters, key: key, configuration: .init(servedModels: servedModels, faults: faults), beaconSecret: { epoch in
            let label = Array("chorus/beacon-secret/1\0".utf8) + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) }
            return Blake2b.hash256(key.sign(label).bytes)
        })
    }
}

/// The node's record of epochs beside the engine: tables, skipped steps, divergences.
struct EpochState {
    var engine: EpochEngine
    var networkFile: String?
    var auditDirectory: String?
    var ownTables: [UInt64: WeightTable] = [:]
    var finalTables: [UInt64: (table: WeightTable, certificate: Certificate)] = [:]
    var skipped: [EpochSkip] = []
    var divergences: [EpochDivergence] = []
    /// A verify-only node's proof re-checks (Node+AuditCheck.swift).
    var rechecks = RecheckState()
}

struct EpochSkip: Sendable {
    let epoch: UInt64
    let reason: String
}

/// A final table that differed from this node's own computation.
public struct EpochDivergence: Codable, Sendable, Equatable {
    public var epoch: UInt64
    public var own: String
    public var final: String
}

/// `epoch` over the control socket (`chorus epoch show`).
public struct EpochStatus: Codable, Sendable, Equatable {
    public var epoch: UInt64
    /// The current stage, when `epoch` is the current epoch.
    public var stage: String?
    public var final: Bool
    public var lastFinalEpoch: UInt64?
    public var tableDigest: String?
    public var ownTableDigest: String?
    public var statements: Int
    public var certificateSigners: Int?
    public var skipped: [String]
    public var divergences: [EpochDivergence]

    enum CodingKeys: String, CodingKey {
        case epoch, stage, final, statements, skipped, divergences
        case lastFinalEpoch = "last_final_epoch"
        case tableDigest = "table_digest"
        case ownTableDigest = "own_table_digest"
        case certificateSigners = "certificate_signers"
    }
}

extension WeightsResult {
    init(_ table: WeightTable) {
        self.init(epoch: table.epoch, tableDigest: table.digest.hex, participants: table.entries.map { entry in
            Participant(participant: entry.participant.hex, weight: entry.weight, votingWeight: entry.votingWeight,
                        models: entry.models.map { Model(model: $0.model, mode: "\($0.mode)", committedCount: $0.committedCount,
                                                         accepted: $0.accepted, pocWeight: $0.pocWeight, votingPower: $0.votingPower) })
        }, confirmations: table.confirmations.map {
            Confirmation(participant: $0.participant.hex, model: $0.model, expected: $0.expected, readings: $0.readings, weight: $0.weight, passed: $0.passed)
        })
    }
}
