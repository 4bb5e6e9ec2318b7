import ChorusCrypto
import ChorusLoop
import ChorusProtocol
import ChorusWorkerAPI
import Foundation
import Logging

/// PoC generation on the node: the engine's `startGeneration` becomes a PoC job on the worker
/// whose artifact batches are pulled, handed to the engine (which builds and commits the tree) and
/// saved in the `poc-artifacts` table, so a restarted node can resume the job and still prove its
/// leaves. `stopGeneration` (or the stage's end) stops the job. A confirmation window
/// (`startConfirmation`) runs the same job with the window's seed until the window's end; its
/// artifacts go to the engine's window tree and are not saved (a restart loses that reading).
extension Node {
    /// How long an artifact pull waits for a new batch on the worker.
    static let artifactWaitMs = 500
    static let workerHealthInterval: Duration = .seconds(5)

    /// Attaches a PoC worker whose models are already loaded (`PoCModels.load`). Call before
    /// `attachEpochs`, with an engine built for the same models. `proofTimeout` is the wait for each
    /// proof answer (Specs/proofs.md §5); the three tries must fit the validation stage.
    public func attachPoC(worker: WorkerLink, faults: PoCFaults = PoCFaults(), artifacts: ArtifactStore?,
                          proofTimeout: Duration = Node.defaultProofTimeout) {
        poc = PoCState(worker: worker, faults: faults, artifacts: artifacts, proofTimeout: proofTimeout)
        startProofs()
        // Health between jobs too: an idle worker that died shows as unhealthy before the next epoch needs it.
        let timer = LoopTimer(on: loop)
        timer.schedule(after: Self.workerHealthInterval, repeatingEvery: Self.workerHealthInterval) {
            Task.detached { _ = try? await worker.call("state") { try await $0.state() } }
        }
        poc!.healthTimer = timer
        if !faults.isEmpty { logger.warning("fault injection on", metadata: ["faults": "\(faults.names.joined(separator: ","))"]) }
        logger.info("PoC worker attached", metadata: ["worker": "\(worker.endpoint)", "models": "\(worker.health.models.joined(separator: ","))"])
    }

    /// - Parameter window: the confirmation window, nil for the generation stage.
    func startGeneration(epoch: UInt64, model: String, seed: Bytes32, until: Int64, window: UInt32? = nil) {
        guard poc != nil, let parameters = epochs?.engine.parameters.model(model) else { return }
        poc!.generations[model]?.cancel()
        // A restart within the stage: give the engine what was already computed, then go on from there.
        var next: UInt64 = 0
        if window == nil, let store = poc!.artifacts, let saved = try? loadArtifacts(store, epoch: epoch, model: model), !saved.isEmpty {
            performEpoch(epochs!.engine.onArtifacts(epoch: epoch, model: model, artifacts: saved, now: Self.unixMillis()))
            next = (saved.map(\.nonce).max() ?? 0) + 1
            logger.info("restored saved artifacts", metadata: ["epoch": "\(epoch)", "model": "\(model)", "count": "\(saved.count)"])
        }
        if epoch >= 3 { poc!.artifacts?.prune(before: epoch - 2) }
        poc!.diskTrees = poc!.diskTrees.filter { $0.key.epoch + 2 >= epoch }
        poc!.generationStats[model] = GenerationStats(epoch: epoch, model: model, window: window, artifacts: next, faked: 0,
                                                       noncesPerSecond: 0, running: true, error: nil)
        let limit = UInt64(1) << UInt64(parameters.treeDepth)
        guard next < limit else { return }
        let job = PoCJobRequest(model: model, seed: seed.hex, participant: publicKey.hex,
                                params: PoCParamsMessage(seqLen: Int(parameters.seqLen), kDim: Int(parameters.kDim)),
                                nonceOffset: next, nonceStride: 1, nonceCount: limit - next)
        let worker = poc!.worker
        let logger = self.logger
        poc!.generations[model] = Task.detached { [weak self] in
            await Self.runGeneration(job, epoch: epoch, window: window, until: until, worker: worker, logger: logger, node: self)
        }
    }

    /// Stops this node's PoC jobs on the worker and waits until they have stopped (each within the
    /// worker's deadline). Call before `stop()` when the process is about to exit: a job still
    /// running would keep its compute threads (and OpenBLAS's, which the exit waits for) busy.
    public func stopPoC() async {
        guard let poc else { return }
        for task in poc.generations.values { task.cancel() }
        self.poc?.generations = [:]
        let jobs = poc.jobs
        self.poc?.jobs = [:]
        for id in jobs.values {
            _ = try? await poc.worker.call("delete PoC job") { try await $0.deleteJob(id) }
        }
    }

    func jobStarted(model: String, id: String) { poc?.jobs[model] = id }

    func stopGeneration(model: String) {
        poc?.generations.removeValue(forKey: model)?.cancel()
        poc?.generationStats[model]?.running = false
    }

    /// The artifacts saved for `model` in `epoch` (off the actor's isolation: a store read).
    nonisolated func loadArtifacts(_ store: ArtifactStore, epoch: UInt64, model: String) throws -> [(nonce: UInt64, artifact: [UInt8])] {
        try store.load(epoch: epoch, model: model)
    }

    /// Runs one job until `until`, cancellation, or the job's end; then deletes it on the worker.
    private nonisolated static func runGeneration(_ request: PoCJobRequest, epoch: UInt64, window: UInt32?, until: Int64, worker: WorkerLink,
                                                  logger: Logger, node: Node?) async {
        let model = request.model
        let job: JobStatusMessage
        do { job = try await worker.call("start PoC job") { try await $0.startJob(request) } } catch {
            logger.error("cannot start the PoC job; no artifacts this epoch", metadata: ["model": "\(model)", "error": "\(error)"])
            await node?.generationFailed(model: model, error.description)
            return
        }
        await node?.jobStarted(model: model, id: job.id)
        var cursor: UInt64 = 0
        var failures = 0
        while !Task.isCancelled, unixMillis() < until {
            let wait = Int(max(0, min(Int64(artifactWaitMs), until - unixMillis())))
            let after = cursor
            do {
                let pulled = try await worker.call("pull artifacts", timeout: worker.timeout + .milliseconds(wait)) {
                    try await $0.artifacts(job: job.id, after: after, waitMs: wait, maxBatches: 64)
                }
                failures = 0
                cursor = pulled.cursor
                var items: [(nonce: UInt64, artifact: [UInt8])] = []
                for batch in pulled.batches {
                    for a in batch.artifacts {
                        if let hex = a.vector, let bytes = try? Hex.decode(hex) { items.append((a.nonce, bytes)) }
                    }
                }
                await node?.generated(epoch: epoch, window: window, model: model, items, noncesPerSecond: pulled.job.noncesPerSecond)
                if pulled.job.state != "running" {
                    if pulled.job.state == "failed" { await node?.generationFailed(model: model, pulled.job.error ?? "job failed") }
                    break
                }
            } catch {
                failures += 1
                if failures == 1 { logger.warning("artifact pull failed; retrying", metadata: ["model": "\(model)", "error": "\(error)"]) }
                await node?.generationFailed(model: model, error.description)
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        _ = try? await worker.call("delete PoC job") { try await $0.deleteJob(job.id) }
        await node?.generationEnded(model: model, job: job.id)
    }

    /// Artifacts from the worker: faked if told to, handed to the engine, and saved (generation only).
    func generated(epoch: UInt64, window: UInt32?, model: String, _ items: [(nonce: UInt64, artifact: [UInt8])], noncesPerSecond: Double) {
        guard poc != nil, epochs != nil else { return }
        var items = items
        var faked: UInt64 = 0
        if poc!.faults.fakeArtifacts > 0 {
            for i in items.indices where Double.random(in: 0..<1) < poc!.faults.fakeArtifacts {
                items[i].artifact = SecureRandom.bytes(items[i].artifact.count)
                faked += 1
            }
        }
        let now = Self.unixMillis()
        if let window {
            performEpoch(epochs!.engine.onConfirmationArtifacts(epoch: epoch, window: window, model: model, artifacts: items, now: now))
        } else {
            // Saved only while the engine still takes them, so the saved set is the committed one.
            let open = now < EpochClock(epochs!.engine.parameters).end(of: .generation, epoch: epoch)
            performEpoch(epochs!.engine.onArtifacts(epoch: epoch, model: model, artifacts: items, now: now))
            guard open else { return }
            poc!.artifacts?.save(epoch: epoch, model: model, items)
        }
        if var stats = poc!.generationStats[model], stats.epoch == epoch, stats.window == window {
            stats.artifacts += UInt64(items.count)
            stats.faked += faked
            if noncesPerSecond > 0 { stats.noncesPerSecond = noncesPerSecond }
            stats.error = nil
            poc!.generationStats[model] = stats
        }
    }

    func generationFailed(model: String, _ reason: String) {
        poc?.generationStats[model]?.error = reason
    }

    func generationEnded(model: String, job: String) {
        if poc?.jobs[model] == job { poc?.jobs[model] = nil }
        poc?.generationStats[model]?.running = false
    }

    /// `status.poc`.
    func pocStatus() -> PoCStatus? {
        guard let poc else { return nil }
        var commits = 0, votes = 0
        if let engine = epochs?.engine, let position = try? EpochClock(engine.parameters).position(atUnixMs: Self.unixMillis()) {
            for s in engine.statements(epoch: position.epoch) where s.author == publicKey {
                if s.type == .pocCommit { commits += 1 } else if s.type == .vote { votes += 1 }
            }
        }
        return PoCStatus(worker: poc.worker.health, faults: poc.faults.names,
                         generation: poc.generationStats.values.sorted { $0.model < $1.model },
                         commits: commits, votes: votes, proofs: poc.counters)
    }
}
