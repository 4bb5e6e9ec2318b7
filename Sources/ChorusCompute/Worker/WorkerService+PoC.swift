import ChorusCrypto
public import ChorusWorkerAPI

extension WorkerService {
    /// Validates the kernel inputs every PoC request carries and builds the computer for them.
    func computer(spec: String?, model id: String, seed: String, participant: String,
                  params: PoCParamsMessage) throws(WorkerError) -> PoCComputer {
        if let spec, spec != PoCKernel.spec {
            throw WorkerError(status: 422, code: "unsupported", message: "this worker implements \(PoCKernel.spec) only", field: "spec")
        }
        if let k = params.kDim, k != PoCKernel.kDim {
            throw WorkerError(status: 422, code: "unsupported", message: "\(PoCKernel.spec) has k_dim 12", field: "params.k_dim")
        }
        let seedBytes = try Self.bytes32(seed, field: "seed")
        let participantBytes = try Self.bytes32(participant, field: "participant")
        let loaded = try model(id)
        let maxSeq = min(loaded.resident.model.config.contextLength, limits.maxSeqLen)
        guard (1...maxSeq).contains(params.seqLen) else {
            throw .invalid("params.seq_len", "must be in [1, \(maxSeq)] (the model's context and the worker's limit)")
        }
        do {
            let task = try PoCTask(seed: seedBytes, participant: participantBytes, modelID: id, sequenceLength: params.seqLen)
            return try PoCComputer(model: loaded.resident.model, task: task)
        } catch {
            throw WorkerError(status: error.field == "model" ? 422 : 400,
                              code: error.field == "model" ? "unsupported" : "invalid_request",
                              message: error.description, field: error.field)
        }
    }

    static func bytes32(_ hex: String, field: String) throws(WorkerError) -> Bytes32 {
        guard hex.utf8.count == 64, let value = try? Bytes32(hex: hex) else {
            throw .invalid(field, "must be 64 hex characters (32 bytes)")
        }
        return value
    }

    public func startJob(_ request: PoCJobRequest) async throws(WorkerError) -> JobStatusMessage {
        let computer = try computer(spec: request.spec, model: request.model, seed: request.seed,
                                    participant: request.participant, params: request.params)
        let batch = request.batchSize ?? configuration.defaultBatchSize
        guard (1...limits.maxBatchSize).contains(batch) else {
            throw .invalid("batch_size", "must be in [1, \(limits.maxBatchSize)]")
        }
        let schedule: NonceSchedule
        do {
            schedule = try NonceSchedule(offset: request.nonceOffset ?? 0, stride: request.nonceStride ?? 1, count: request.nonceCount)
        } catch {
            throw .invalid(error.field, error.description)
        }
        let job: PoCJob = try table.withLock { t throws(WorkerError) in
            guard t.jobs.count < limits.maxJobs else {
                throw WorkerError(status: 429, code: "too_many_jobs",
                                  message: "\(t.jobs.count) jobs exist (limit \(limits.maxJobs)); delete finished jobs first")
            }
            t.jobCounter += 1
            let id = "job-\(t.jobCounter)-" + Hex.encode(SecureRandom.bytes(4))
            let job = PoCJob(id: id, request: request, computer: computer, schedule: schedule, batchSize: batch,
                             maxBacklog: limits.maxBacklogArtifacts, gate: gate, abandonAfter: configuration.abandonAfter)
            t.jobs[id] = job
            t.jobOrder.append(id)
            return job
        }
        job.start()
        return job.status
    }

    public func jobs() async -> JobsMessage {
        JobsMessage(jobs: table.withLock { t in t.jobOrder.compactMap { t.jobs[$0]?.status } })
    }

    func existingJob(_ id: String) throws(WorkerError) -> PoCJob {
        guard let job = table.withLock({ $0.jobs[id] }) else {
            throw WorkerError(status: 404, code: "unknown_job", message: "no PoC job with id '\(id)'")
        }
        return job
    }

    public func job(_ id: String) async throws(WorkerError) -> JobStatusMessage {
        try existingJob(id).status
    }

    public func artifacts(job id: String, after: UInt64, waitMs: Int, maxBatches: Int?) async throws(WorkerError) -> ArtifactsMessage {
        let job = try existingJob(id)
        guard (0...limits.maxWaitMs).contains(waitMs) else { throw .invalid("wait_ms", "must be in [0, \(limits.maxWaitMs)]") }
        let limit = maxBatches ?? limits.maxBatchesPerPull
        guard (1...limits.maxBatchesPerPull).contains(limit) else {
            throw .invalid("max_batches", "must be in [1, \(limits.maxBatchesPerPull)]")
        }
        if waitMs > 0 {
            let deadline = ContinuousClock.now + .milliseconds(waitMs)
            while !job.hasNews(after: after), ContinuousClock.now < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        let (status, batches) = job.pull(after: after, limit: limit)
        return ArtifactsMessage(job: status, batches: batches, cursor: batches.last?.seq ?? after)
    }

    public func deleteJob(_ id: String) async throws(WorkerError) -> DeleteJobMessage {
        let job = try existingJob(id)
        job.requestStop()
        await job.waitUntilIdle()
        table.withLock { t in
            t.jobs[id] = nil
            t.jobOrder.removeAll { $0 == id }
        }
        let status = job.status
        return DeleteJobMessage(deleted: id, state: status.state, noncesDone: status.noncesDone)
    }

    public func verify(_ request: VerifyRequest) async throws(WorkerError) -> VerifyMessage {
        guard !request.nonces.isEmpty else { throw .invalid("nonces", "must list at least one nonce") }
        guard request.nonces.count <= limits.maxVerifyNonces else {
            throw WorkerError(status: 400, code: "too_large", message: "at most \(limits.maxVerifyNonces) nonces per request", field: "nonces")
        }
        var claims: [PoCVector?]?
        if let vectors = request.vectors {
            guard vectors.count == request.nonces.count else {
                throw .invalid("vectors", "must have one entry per nonce (\(request.nonces.count)), got \(vectors.count)")
            }
            var parsed: [PoCVector?] = []
            for (i, v) in vectors.enumerated() {
                guard let v else { parsed.append(nil); continue }
                guard let vector = PoCVector(hex: v) else { throw .invalid("vectors[\(i)]", "must be 48 hex characters or null") }
                parsed.append(vector)
            }
            claims = parsed
        }
        let computer = try computer(spec: request.spec, model: request.model, seed: request.seed,
                                    participant: request.participant, params: request.params)
        table.withLock { $0.verifying += 1 }
        gate.enter()
        defer {
            gate.leave()
            table.withLock { $0.verifying -= 1 }
        }
        let batch = configuration.defaultBatchSize
        let nonces = request.nonces
        let vectors = try await BlockingWork.run { () throws(WorkerError) -> [PoCVector?] in
            var out: [PoCVector?] = []
            var start = 0
            while start < nonces.count {
                let chunk = Array(nonces[start..<min(nonces.count, start + batch)])
                do { out += try computer.compute(chunk) } catch { throw .internalError("PoC forward pass failed: \(error)") }
                start += batch
            }
            return out
        }
        let distances: [Double?]? = claims.map { claims in
            zip(vectors, claims).map { recomputed, claim -> Double? in
                guard let recomputed, let claim else { return nil }
                return claim.distance(to: recomputed)
            }
        }
        return VerifyMessage(spec: PoCKernel.spec, model: request.model,
                             artifacts: zip(nonces, vectors).map { ArtifactMessage(nonce: $0, vector: $1?.hex) },
                             distances: distances)
    }
}
