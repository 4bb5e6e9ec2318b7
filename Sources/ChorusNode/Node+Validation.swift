import ChorusCrypto
import ChorusProtocol
import ChorusWorkerAPI
import Foundation
import Logging

/// Validation on the node (Specs/validation.md §3): for the engine's `validate(task)` it fetches
/// the sampled leaves' proofs from the commit's author, checks them against the commit, has the
/// worker recompute the artifacts with the prover's seed, and reports the mismatches to the engine,
/// which signs and gossips the vote. A leaf whose proof never comes, does not verify, or does not
/// reproduce within the model's `dist_threshold` is a mismatch. When the worker itself fails no
/// vote is cast (an unfair "invalid" would punish the prover for the validator's fault).
/// A verify-only node re-checks commits through the same path (Node+AuditCheck.swift).
extension Node {
    /// Tries per chunk of indices, and the wait for each answer.
    static let proofAttempts = 3
    public static let defaultProofTimeout: Duration = .seconds(4)

    func startValidation(_ task: ValidationTask) {
        guard let engine = epochs?.engine else { return }
        // Recomputing may take until the stage ends (a CPU worker shared by several nodes is slow);
        // a vote after the validation stage would miss the tally anyway. Confirmation readings are
        // tallied with the next epoch, so their votes may take until that epoch's tally starts.
        let clock = EpochClock(engine.parameters)
        let deadline = task.commit.statement.type == .confirmationCommit
            ? clock.start(of: .tally, epoch: task.commit.epoch + 1) : clock.end(of: .validation, epoch: task.commit.epoch)
        startCheck(task, until: deadline, for: .vote)
    }

    /// Why a commit's proofs are checked, which decides where the outcome goes.
    enum CheckPurpose: Sendable {
        /// A validator's vote (`validated`, then the engine signs it).
        case vote
        /// A verify-only node's re-check (`rechecked`, then the audit report; nothing is signed).
        case audit(AuditTask)
    }

    /// Fetches, verifies and recomputes the sampled leaves of `task` off the actor (`check`) and
    /// hands the outcome back for `purpose`: validators and auditors share this one path, so an
    /// auditor's mismatches mean exactly what a vote's do. The worker may take until `deadline`
    /// (ms since 1970) plus its ordinary timeout. False when there is no worker or the model is
    /// not on this network (nothing started).
    @discardableResult
    func startCheck(_ task: ValidationTask, until deadline: Int64, for purpose: CheckPurpose) -> Bool {
        guard let poc, let engine = epochs?.engine, let model = engine.parameters.model(task.commit.body.model) else { return false }
        let worker = poc.worker
        let timeout = poc.proofTimeout
        let verifyLimit = Duration.milliseconds(max(Int64(0), deadline - Self.unixMillis())) + worker.timeout
        let logger = self.logger
        Task.detached { [weak self] in
            guard let self else { return }
            let started = ContinuousClock.now
            let outcome = await Self.check(task, model: model, worker: worker, proofTimeout: timeout, verifyLimit: verifyLimit, node: self)
            let ms = Self.seconds(started.duration(to: .now)) * 1000
            let what = if case .vote = purpose { "validated" } else { "re-checked" }
            logger.info("\(what)", metadata: ["participant": "\(task.commit.author.hex.prefix(16))", "model": "\(model.id)",
                                             "samples": "\(task.indices.count)", "mismatches": "\(outcome.mismatches.map { "\($0)" } ?? "-")",
                                             "ms": "\(Int(ms))"])
            await self.checked(task, outcome, durationMs: ms, for: purpose)
        }
        return true
    }

    private func checked(_ task: ValidationTask, _ outcome: CheckOutcome, durationMs: Double, for purpose: CheckPurpose) {
        switch purpose {
        case .vote: validated(task, outcome, durationMs: durationMs)
        case let .audit(audit): rechecked(audit, outcome, durationMs: durationMs)
        }
    }

    struct CheckOutcome: Sendable {
        /// nil: no verdict (the worker failed), so no vote.
        var mismatches: Int?
        var proofsVerified: Int
        var note: String
    }

    private nonisolated static func check(_ task: ValidationTask, model: ModelParameters, worker: WorkerLink,
                                          proofTimeout: Duration, verifyLimit: Duration, node: Node) async -> CheckOutcome {
        let commit = task.commit
        let author = Ed25519.PublicKey(commit.author)
        let wanted = task.indices.sorted()
        var proofs: [UInt64: MerkleProof] = [:]
        var start = 0
        while start < wanted.count {
            let chunk = Array(wanted[start..<min(wanted.count, start + ProofRequest.maxIndices)])
            start += chunk.count
            attempts: for attempt in 0..<proofAttempts {
                if attempt > 0 { try? await Task.sleep(for: .milliseconds(500 * attempt)) }
                guard let response = await node.requestProofs(from: author, epoch: commit.epoch, model: model.id,
                                                              commit: commit.statement.id, indices: chunk, timeout: proofTimeout) else { continue }
                switch response.status {
                case .ok:
                    for p in response.proofs where proofs[p.index] == nil && chunk.contains(p.index) { proofs[p.index] = p }
                    break attempts
                case .rateLimited: continue
                case .unknownCommit: break attempts
                }
            }
        }
        var verified: [MerkleProof] = []
        for index in wanted {
            guard let p = proofs[index], (try? p.verify(root: commit.body.root, count: commit.body.count, depth: commit.body.depth,
                                                         artifactLength: PoCVector.byteCount)) != nil else { continue }
            verified.append(p)
        }
        var mismatches = wanted.count - verified.count
        guard !verified.isEmpty else {
            return CheckOutcome(mismatches: mismatches, proofsVerified: 0, note: proofs.isEmpty ? "no proofs served" : "no proof verified")
        }
        let threshold = Double(model.distThreshold.numerator) / Double(model.distThreshold.denominator)
        let request = VerifyRequest(model: model.id, seed: task.generationSeed.hex, participant: commit.author.hex,
                                    params: PoCParamsMessage(seqLen: Int(model.seqLen), kDim: Int(model.kDim)),
                                    nonces: verified.map(\.nonce), vectors: verified.map { Hex.encode($0.artifact) })
        let answer: VerifyMessage
        do { answer = try await worker.call("verify", timeout: verifyLimit) { try await $0.verify(request) } } catch {
            return CheckOutcome(mismatches: nil, proofsVerified: verified.count, note: "worker failed: \(error)")
        }
        let distances = answer.distances ?? []
        for i in verified.indices {
            guard i < distances.count, let d = distances[i], d <= threshold else {
                mismatches += 1
                continue
            }
        }
        return CheckOutcome(mismatches: mismatches, proofsVerified: verified.count, note: "checked")
    }

    func validated(_ task: ValidationTask, _ outcome: CheckOutcome, durationMs: Double) {
        guard poc != nil, epochs != nil else { return }
        var mismatches = outcome.mismatches
        if poc!.faults.randomVotes, mismatches != nil { mismatches = Int.random(in: 0...task.indices.count) }
        poc!.validations.append(ValidationRecord(
            epoch: task.commit.epoch, commit: task.commit.statement.id.hex, participant: task.commit.author.hex,
            model: task.commit.body.model, samples: task.indices.count, proofsVerified: outcome.proofsVerified,
            mismatches: mismatches ?? 0, outcome: outcome.note, durationMs: durationMs))
        if poc!.validations.count > PoCState.maxValidationRecords { poc!.validations.removeFirst() }
        guard let mismatches else {
            epochs!.skipped.append(EpochSkip(epoch: task.commit.epoch, reason: "no vote on \(task.commit.statement.id.hex.prefix(16)): \(outcome.note)"))
            return
        }
        metrics.mismatches.increment(by: Int64(mismatches))
        performEpoch(epochs!.engine.onValidationResult(commit: task.commit.statement.id, mismatches: UInt32(mismatches), now: Self.unixMillis()))
    }
}
