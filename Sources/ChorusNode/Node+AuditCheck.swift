import ChorusCrypto
import ChorusProtocol
import Foundation

/// Proof re-checks on a verify-only node with a worker (`chorusd run --verify-only --model ID`,
/// Specs/validation.md §6). On every epoch tick it asks the engine for the commits to re-check
/// (`EpochEngine.auditTasks`: its own sample, drawn with its key and never published), runs them
/// through the validators' proof path (`startCheck`: fetch with the same timeouts and retries,
/// Merkle verification, recomputation on the worker), a few at a time so that a large network
/// neither floods the provers nor the worker, judges each with the vote's binomial test, and
/// rewrites the epoch's audit report once the epoch has nothing left to re-check.
///
/// The results live in memory and in the written reports: a restarted auditor carries the ones
/// in a report it rewrites forward, and re-checks the current and previous epoch again (the
/// provers keep their proofs that long, Specs/proofs.md §4), which gives the same samples, since
/// its signatures are deterministic.
extension Node {
    /// Re-checks under way at once (each holds one proof request per 256 samples and a worker call).
    static let maxConcurrentRechecks = 4

    /// Queues the re-checks that became due and starts as many as the bound allows. Only for an
    /// auditor (an engine that does not sign) with a worker: a participant validates and votes.
    func scheduleRechecks(now: Int64) {
        guard let state = epochs, !state.engine.configuration.signs, let poc,
              let position = try? EpochClock(state.engine.parameters).position(atUnixMs: now) else { return }
        let models = poc.worker.health.models
        let first = max(position.epoch, 2) - 1
        for epoch in first...max(first, position.epoch) {
            let tasks = state.engine.auditTasks(epoch: epoch, models: models, now: now, excluding: state.rechecks.started[epoch] ?? [])
            for task in tasks { epochs!.rechecks.started[epoch, default: []].insert(task.commit.statement.id) }
            epochs!.rechecks.queue += tasks
        }
        // Kept while a report that shows them can still be rewritten (the previous epoch's is
        // rewritten when the current one becomes final).
        let kept = max(position.epoch, 2) - 2
        epochs!.rechecks.started = epochs!.rechecks.started.filter { $0.key >= kept }
        epochs!.rechecks.results = epochs!.rechecks.results.filter { $0.key >= kept }
        startQueuedRechecks()
    }

    private func startQueuedRechecks() {
        while epochs != nil, epochs!.rechecks.running.count < Self.maxConcurrentRechecks, !epochs!.rechecks.queue.isEmpty {
            let task = epochs!.rechecks.queue.removeFirst()
            guard let validation = task.validation else {
                recordRecheck(task, CheckOutcome(mismatches: task.indices.count, proofsVerified: 0, note: "inadmissible seed basis"), durationMs: 0)
                continue
            }
            let id = task.commit.statement.id
            epochs!.rechecks.running[id] = task.commit.epoch
            // The worker may take until the epoch ends: a verdict after that still belongs in the
            // report, but the next epoch's re-checks need the worker.
            let epochEnd = EpochClock(epochs!.engine.parameters).end(of: .inference, epoch: task.commit.epoch)
            if !startCheck(validation, until: epochEnd, for: .audit(task)) {
                epochs!.rechecks.running[id] = nil
                recordRecheck(task, CheckOutcome(mismatches: nil, proofsVerified: 0, note: "not checked: no worker"), durationMs: 0)
            }
        }
    }

    /// A re-check finished (`startCheck`): recorded, the next one started, and the epoch's report
    /// rewritten when none of its re-checks is left.
    func rechecked(_ task: AuditTask, _ outcome: CheckOutcome, durationMs: Double) {
        guard epochs != nil else { return }
        epochs!.rechecks.running[task.commit.statement.id] = nil
        recordRecheck(task, outcome, durationMs: durationMs)
        startQueuedRechecks()
        let epoch = task.commit.epoch
        let pending = epochs!.rechecks.running.values.contains(epoch) || epochs!.rechecks.queue.contains { $0.commit.epoch == epoch }
        if !pending { writeAuditReport(epoch: epoch) }
    }

    private func recordRecheck(_ task: AuditTask, _ outcome: CheckOutcome, durationMs: Double) {
        guard let parameters = epochs?.engine.parameters else { return }
        let commit = task.commit
        let verdict = outcome.mismatches.flatMap { try? task.verdict(mismatches: UInt32($0), parameters: parameters).verdict }
        let record = ProofRecheck(
            participant: commit.author.hex, model: commit.body.model, commit: commit.statement.id.hex, count: commit.body.count,
            samples: task.indices.count, proofsVerified: outcome.proofsVerified, mismatches: outcome.mismatches,
            verdict: verdict?.description, outcome: outcome.note, sampleProof: task.sampleProof.hex, durationMs: durationMs)
        epochs!.rechecks.results[commit.epoch, default: []].removeAll { $0.commit == record.commit }
        epochs!.rechecks.results[commit.epoch, default: []].append(record)
        if verdict == .invalid {
            logger.warning("proof re-check: invalid", metadata: ["epoch": "\(commit.epoch)", "participant": "\(commit.author.hex.prefix(16))",
                                                              "model": "\(commit.body.model)", "mismatches": "\(outcome.mismatches ?? 0)",
                                                              "samples": "\(task.indices.count)"])
        }
    }

    /// The re-checks to show in `epoch`'s report: this run's, else those of the report already
    /// written (a restarted auditor rewrites every final epoch's report while replaying).
    func proofRechecks(epoch: UInt64, directory: String) -> [ProofRecheck] {
        if let results = epochs?.rechecks.results[epoch] { return results }
        guard let data = FileManager.default.contents(atPath: "\(directory)/epoch-\(epoch).json"),
              let written = try? JSONDecoder().decode(AuditReport.self, from: data) else { return [] }
        return written.proofRechecks
    }
}

/// A verify-only node's proof re-checks: queued, running (commit id → epoch), started (by epoch,
/// so each commit is re-checked once) and finished (by epoch).
struct RecheckState {
    var queue: [AuditTask] = []
    var running: [Bytes32: UInt64] = [:]
    var started: [UInt64: Set<Bytes32>] = [:]
    var results: [UInt64: [ProofRecheck]] = [:]
}
