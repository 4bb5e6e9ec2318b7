import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation

/// Verify-only nodes (`chorusd run --verify-only`): the engine runs with `Configuration.auditor`
/// (no PoC, no inference, no signatures) and the node writes an audit report for every epoch it
/// re-derives into `DATA_DIR/audit/epoch-N.json` and `epoch-N.html` (Audit/AuditReport.swift),
/// with its proof re-checks when it has a worker (Node+AuditCheck.swift), and keeps
/// `DATA_DIR/audit/index.html` linking every epoch's report (Audit/AuditIndex.swift).
extension Node {
    /// What `status` reports: "verify-only" for an auditor, "participant" for a node following
    /// epochs that signs, "relay" for one without a network file.
    var peerRole: String {
        guard let epochs else { return "relay" }
        return epochs.engine.configuration.signs ? "participant" : "verify-only"
    }

    /// An epoch became final: its report, and the previous epoch's once more, since statements
    /// signed in an epoch keep arriving after it is final (the beacon commitments for the next
    /// epoch are made only then), so its counts are complete only now.
    func auditFinal(epoch: UInt64) {
        writeAuditReport(epoch: epoch)
        if epoch >= 2, epochs?.finalTables[epoch - 1] != nil { writeAuditReport(epoch: epoch - 1) }
    }

    /// Writes the audit report of `epoch` when this node keeps them (verify-only); a failure to
    /// write is logged, never fatal.
    func writeAuditReport(epoch: UInt64) {
        guard let state = epochs, let directory = state.auditDirectory else { return }
        let engine = state.engine
        let final = state.finalTables[epoch]
        let previous = epoch >= 1 ? (state.finalTables[epoch - 1]?.table ?? (epoch == 1 ? WeightTable.genesis(engine.parameters) : nil)) : nil
        let report = AuditReport(
            epoch: epoch, networkID: engine.parameters.networkID, role: peerRole, now: Self.unixMillis(),
            own: state.ownTables[epoch], previous: previous, certificate: final?.certificate ?? engine.certifiedCandidate(epoch: epoch),
            final: final != nil, threshold: engine.parameters.voteThreshold, statements: engine.statements(epoch: epoch),
            models: engine.parameters.models.map(\.id), rechecks: proofRechecks(epoch: epoch, directory: directory), finalTable: final?.table)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // The page first: whoever sees the JSON (the report's marker) finds the page too.
            try Data(report.html.utf8).write(to: URL(fileURLWithPath: "\(directory)/epoch-\(epoch).html"), options: .atomic)
            try encoder.encode(report).write(to: URL(fileURLWithPath: "\(directory)/epoch-\(epoch).json"), options: .atomic)
        } catch {
            logger.error("cannot write the audit report", metadata: ["epoch": "\(epoch)", "directory": "\(directory)", "error": "\(error)"])
            return
        }
        logger.info("audit report written", metadata: ["epoch": "\(epoch)", "matches": "\(report.matches)",
                                                       "path": "\(directory)/epoch-\(epoch).json"])
        var index = AuditIndex.load(directory: directory, networkID: engine.parameters.networkID)
        index.record(report)
        do { try index.write(directory: directory) } catch {
            logger.error("cannot write the audit index", metadata: ["directory": "\(directory)", "error": "\(error)"])
        }
    }
}

extension Node {
    /// The engine of a verify-only node: `Configuration.auditor` never signs, so it needs no
    /// beacon secret (the closure is never called with a purpose; it returns zeros).
    public static func makeAuditorEngine(parameters: NetworkParameters, key: Ed25519.SigningKey) -> EpochEngine {
        EpochEngine(parameters: parameters, key: key, configuration: .auditor, beaconSecret: { _ in .zero })
    }
}
