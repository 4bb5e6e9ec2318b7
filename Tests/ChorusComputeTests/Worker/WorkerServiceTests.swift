import ChorusCrypto
import ChorusWorkerAPI
import Synchronization
import Foundation
import Testing
@testable import ChorusCompute

/// The in-process worker (Specs/worker.md semantics without HTTP), on synthetic models.
@Suite struct WorkerServiceTests {
    static let seedHex = String(repeating: "c0ffee00", count: 8)
    static let participantHex = (0x20..<0x40).map { String(format: "%02x", $0) }.joined()

    static func service(loading preset: String = "tiny", id: String = "chorus/synthetic-tiny") async throws -> WorkerService {
        let service = WorkerService()
        _ = try await service.loadModel(LoadModelRequest(id: id, synthetic: .init(preset: preset, seed: SyntheticModel.devnetSeed.hex)))
        return service
    }

    static func expectError(_ code: String, field: String? = nil, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as WorkerError {
            #expect(error.code == code, "\(error)")
            #expect(error.field == field, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func loadsSyntheticModelsWithTheirDigest() async throws {
        let file = try PoCVectorFiles.load(PoCVectorFiles.KernelFile.self, "poc-synthetic.json")
        let tiny = try #require(file.cases.first { $0.name == "tiny" })
        let service = WorkerService()
        let model = try await service.loadModel(LoadModelRequest(id: "chorus/synthetic-tiny", digest: tiny.model_digest,
                                                                 synthetic: .init(preset: "tiny", seed: SyntheticModel.devnetSeed.hex)))
        #expect(model.digest == tiny.model_digest)
        #expect(model.source.kind == "synthetic")
        #expect(model.config.hiddenSize == 64)
        #expect(model.tokenizer && !model.chatTemplate)
        let info = await service.info()
        #expect(info.models.map(\.id) == ["chorus/synthetic-tiny"])
        #expect(info.backend.name == "swift-cpu")
        await Self.expectError("model_exists", field: "id") {
            _ = try await service.loadModel(LoadModelRequest(id: "chorus/synthetic-tiny", synthetic: .init(preset: "tiny", seed: SyntheticModel.devnetSeed.hex)))
        }
    }

    @Test func digestMismatchLeavesNothingResident() async throws {
        let service = WorkerService()
        await Self.expectError("digest_mismatch", field: "digest") {
            _ = try await service.loadModel(LoadModelRequest(id: "m", digest: "blake2b:" + String(repeating: "0", count: 64),
                                                             synthetic: .init(preset: "tiny", seed: SyntheticModel.devnetSeed.hex)))
        }
        #expect(await service.models().models.isEmpty)
        await Self.expectError("invalid_request", field: "synthetic.preset") {
            _ = try await service.loadModel(LoadModelRequest(id: "m", synthetic: .init(preset: "huge", seed: SyntheticModel.devnetSeed.hex)))
        }
        await Self.expectError("invalid_request", field: "synthetic.seed") {
            _ = try await service.loadModel(LoadModelRequest(id: "m", synthetic: .init(preset: "tiny", seed: "00")))
        }
        await Self.expectError("not_found", field: "path") {
            _ = try await service.loadModel(LoadModelRequest(id: "m", path: "/nonexistent/model.gguf"))
        }
        #expect(await service.models().models.isEmpty)
    }

    /// 16 jobs nobody pulls once grew a worker from 40 MB to 9.2 GB in 60 s. Each job now stops at
    /// its backlog limit, and a full backlog nobody pulls is dropped after `abandonAfter`.
    @Test func jobsNobodyPullsStopAtTheirBacklogAndAreAbandoned() async throws {
        var configuration = WorkerService.Configuration()
        configuration.limits.maxBacklogArtifacts = 8
        configuration.abandonAfter = .milliseconds(300)
        let service = WorkerService(configuration: configuration)
        _ = try await service.loadModel(LoadModelRequest(id: "chorus/synthetic-tiny", synthetic: .init(preset: "tiny", seed: Self.seedHex)))
        var ids: [String] = []
        for _ in 0..<configuration.limits.maxJobs {
            let job = try await service.startJob(PoCJobRequest(
                model: "chorus/synthetic-tiny", seed: Self.seedHex, participant: Self.participantHex, params: .init(seqLen: 16),
                nonceCount: 1_000_000, batchSize: 4))
            ids.append(job.id)
        }
        // Every job ends stopped (abandoned) with its backlog dropped, having computed at most
        // its limit plus one batch.
        let deadline = ContinuousClock.now + .seconds(60)
        var statuses: [JobStatusMessage] = []
        repeat {
            try await Task.sleep(for: .milliseconds(100))
            statuses = []
            for id in ids { statuses.append(try await service.job(id)) }
        } while statuses.contains(where: { $0.state == "running" }) && ContinuousClock.now < deadline
        for status in statuses {
            #expect(status.state == "stopped")
            #expect(status.backlog == 0)
            #expect(status.noncesDone <= 8 + 4)
            #expect(status.error?.contains("abandoned") == true)
        }
        // A job that is pulled is never abandoned (a worker with the default abandonment time, so
        // that a loaded machine's slow pulls do not count as "nobody pulls").
        var patient = WorkerService.Configuration()
        patient.limits.maxBacklogArtifacts = 8
        let other = WorkerService(configuration: patient)
        _ = try await other.loadModel(LoadModelRequest(id: "chorus/synthetic-tiny", synthetic: .init(preset: "tiny", seed: Self.seedHex)))
        let pulled = try await other.startJob(PoCJobRequest(
            model: "chorus/synthetic-tiny", seed: Self.seedHex, participant: Self.participantHex, params: .init(seqLen: 16),
            nonceCount: 40, batchSize: 4))
        #expect(pulled.state == "running" || pulled.state == "done")
        var cursor: UInt64 = 0
        var got = 0
        while true {
            let pull = try await other.artifacts(job: pulled.id, after: cursor, waitMs: 2_000, maxBatches: nil)
            got += pull.batches.reduce(0) { $0 + $1.artifacts.count + $1.skipped.count }
            cursor = pull.cursor
            if pull.job.state != "running" && pull.batches.isEmpty { break }
        }
        #expect(got == 40)
    }

    @Test func jobsOfSeveralSlotsCoverTheRangeOnceWithTheKernelsVectors() async throws {
        let service = try await Self.service()
        var byNonce: [UInt64: String] = [:]
        var ids: [String] = []
        for slot in 0..<2 {
            let job = try await service.startJob(PoCJobRequest(
                model: "chorus/synthetic-tiny", seed: Self.seedHex, participant: Self.participantHex, params: .init(seqLen: 16),
                nonceOffset: UInt64(slot), nonceStride: 2, nonceCount: 5, batchSize: 3))
            ids.append(job.id)
        }
        for id in ids {
            var cursor: UInt64 = 0
            while true {
                let pull = try await service.artifacts(job: id, after: cursor, waitMs: 2_000, maxBatches: nil)
                for batch in pull.batches {
                    for a in batch.artifacts {
                        #expect(byNonce[a.nonce] == nil, "nonce \(a.nonce) computed twice")
                        byNonce[a.nonce] = a.vector
                    }
                }
                cursor = pull.cursor
                if pull.job.state != "running" && pull.batches.isEmpty { break }
            }
            let status = try await service.job(id)
            #expect(status.state == "done")
            #expect(status.noncesDone == 5 && status.backlog == 0)
        }
        #expect(Set(byNonce.keys) == Set(0..<10))
        // The job's vectors are the kernel's vectors, whatever the batching.
        let file = try PoCVectorFiles.load(PoCVectorFiles.KernelFile.self, "poc-synthetic.json")
        let tiny = try #require(file.cases.first { $0.name == "tiny" })
        for n in tiny.nonces {
            let got = try #require(byNonce[n.nonce].flatMap { $0 }.flatMap { PoCVector(hex: $0) })
            let want = try #require(PoCVector(hex: n.vector))
            #expect((got.distance(to: want) ?? 1) <= tiny.dist_threshold / 10)
        }
        for id in ids { _ = try await service.deleteJob(id) }
        #expect(await service.jobs().jobs.isEmpty)
    }

    @Test func pullsRepeatUntilAcknowledgedAndStopEndsOpenJobs() async throws {
        let service = try await Self.service()
        let job = try await service.startJob(PoCJobRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex,
                                                           participant: Self.participantHex, params: .init(seqLen: 4), batchSize: 2))
        let first = try await service.artifacts(job: job.id, after: 0, waitMs: 5_000, maxBatches: 1)
        #expect(first.batches.count == 1)
        let again = try await service.artifacts(job: job.id, after: 0, waitMs: 0, maxBatches: 1)
        #expect(again.batches.first == first.batches.first)
        await Self.expectError("model_busy", field: "id") { _ = try await service.unloadModel("chorus/synthetic-tiny") }
        let stop = await service.stop()
        #expect(stop.stoppedJobs == [job.id])
        let status = try await service.job(job.id)
        #expect(status.state == "stopped")
        let next = try await service.artifacts(job: job.id, after: first.cursor, waitMs: 0, maxBatches: nil)
        #expect(next.batches.allSatisfy { $0.seq > first.cursor })
        #expect(try await service.unloadModel("chorus/synthetic-tiny").unloaded == "chorus/synthetic-tiny")
        await Self.expectError("unknown_job") { _ = try await service.job("job-0-missing") }
    }

    @Test func verifyRecomputesAndMeasuresDistances() async throws {
        let service = try await Self.service()
        let request = VerifyRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex, participant: Self.participantHex,
                                    params: .init(seqLen: 16), nonces: [3, 1])
        let honest = try await service.verify(request)
        #expect(honest.distances == nil)
        var claimed = request
        claimed.vectors = [honest.artifacts[0].vector, honest.artifacts[0].vector]
        let checked = try await service.verify(claimed)
        let d = try #require(checked.distances)
        #expect((d[0] ?? 1) < 1e-6)
        #expect((d[1] ?? 0) > 0.3)
        claimed.vectors = ["zz", nil]
        await Self.expectError("invalid_request", field: "vectors[0]") { _ = try await service.verify(claimed) }
        var bad = request
        bad.params = .init(seqLen: 0)
        await Self.expectError("invalid_request", field: "params.seq_len") { _ = try await service.verify(bad) }
        bad = request
        bad.params = .init(seqLen: 8, kDim: 16)
        await Self.expectError("unsupported", field: "params.k_dim") { _ = try await service.verify(bad) }
        bad = request
        bad.seed = "xyz"
        await Self.expectError("invalid_request", field: "seed") { _ = try await service.verify(bad) }
        bad = request
        bad.model = "nope"
        await Self.expectError("unknown_model", field: "model") { _ = try await service.verify(bad) }
    }

    @Test func generationStreamsAndScoringAgrees() async throws {
        let service = try await Self.service()
        let prompt = Array("hello".utf8).map(Int.init)
        let streamed = Mutex<[TokenLineMessage]>([])
        let result = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt,
                                                                maxTokens: 6, topLogprobs: 3)) { line in
            streamed.withLock { $0.append(line) }
            return true
        }
        #expect(result.finishReason == "length")
        #expect(result.tokens.count == 6 && result.seed == nil)
        #expect(streamed.withLock { $0 } == result.tokens)
        #expect(result.tokens.allSatisfy { $0.top.count == 3 && $0.top[0].id == $0.id })
        let scored = try await service.score(ScoreRequestMessage(model: "chorus/synthetic-tiny", promptTokens: prompt,
                                                                 completionTokens: result.tokens.map(\.id), topLogprobs: 3))
        for (g, s) in zip(result.tokens, scored.tokens) {
            #expect(g.id == s.id)
            #expect(abs(g.logprob - s.logprob) < 1e-3)
        }
        let cancelled = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt, maxTokens: 6)) { _ in false }
        #expect(cancelled.finishReason == "cancelled" && cancelled.tokens.count == 1)
        let sampled = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt, maxTokens: 4,
                                                                 sampling: .init(temperature: 0.8, seed: 7))) { _ in true }
        #expect(sampled.seed == 7)
    }

    /// A validator's check (worker.md §6.2): scoring a tape-sampled generation with the same
    /// sampling and tape seed chooses every generated token again (no flips); another seed flips
    /// some; a non-greedy check without the tape's key is refused.
    @Test func scoringWithTheTapeRechoosesWhatWasGenerated() async throws {
        let service = try await Self.service()
        let m = "chorus/synthetic-tiny", prompt = Array("check".utf8).map(Int.init)
        let seed = String(repeating: "5a", count: 32)
        let sampling = SamplingMessage(temperature: 1.2, topK: 50, topP: 0.95, tapeSeed: seed)
        let generated = try await service.generate(GenerateRequest(model: m, promptTokens: prompt, maxTokens: 24, sampling: sampling,
                                                                   stopTokens: [])) { _ in true }
        let ids = generated.tokens.map(\.id)
        let check = try await service.score(ScoreRequestMessage(model: m, promptTokens: prompt, completionTokens: ids, sampling: sampling))
        #expect(check.tokens.map { $0.choice?.token } == ids.map { Optional($0) })
        #expect(check.tokens.allSatisfy { $0.choice?.margin == 0 })
        var other = sampling
        other.tapeSeed = String(repeating: "a5", count: 32)
        let wrong = try await service.score(ScoreRequestMessage(model: m, promptTokens: prompt, completionTokens: ids, sampling: other))
        #expect(zip(wrong.tokens, ids).contains { $0.choice?.token != $1 })
        let greedy = try await service.score(ScoreRequestMessage(model: m, promptTokens: prompt, completionTokens: ids,
                                                                 sampling: SamplingMessage(temperature: 0)))
        #expect(greedy.tokens.allSatisfy { $0.choice != nil })
        await Self.expectError("invalid_request", field: "sampling.tape_seed") {
            _ = try await service.score(ScoreRequestMessage(model: m, promptTokens: prompt, completionTokens: ids,
                                                            sampling: SamplingMessage(temperature: 1)))
        }
    }

    @Test func inferenceErrorsNameTheField() async throws {
        let service = try await Self.service()
        let m = "chorus/synthetic-tiny"
        await Self.expectError("invalid_token", field: "prompt_tokens[1]") {
            _ = try await service.generate(GenerateRequest(model: m, promptTokens: [1, 256])) { _ in true }
        }
        await Self.expectError("invalid_request", field: "prompt_tokens") {
            _ = try await service.generate(GenerateRequest(model: m, promptTokens: [])) { _ in true }
        }
        await Self.expectError("context_overflow", field: "max_tokens") {
            _ = try await service.generate(GenerateRequest(model: m, promptTokens: [Int](repeating: 1, count: 500), maxTokens: 20)) { _ in true }
        }
        await Self.expectError("invalid_request", field: "sampling.top_p") {
            _ = try await service.generate(GenerateRequest(model: m, promptTokens: [1], sampling: .init(temperature: 1, topP: 0))) { _ in true }
        }
        await Self.expectError("invalid_request", field: "top_logprobs") {
            _ = try await service.score(ScoreRequestMessage(model: m, promptTokens: [1], completionTokens: [2], topLogprobs: 21))
        }
        await Self.expectError("invalid_token", field: "completion_tokens[0]") {
            _ = try await service.score(ScoreRequestMessage(model: m, promptTokens: [1], completionTokens: [-1]))
        }
        await Self.expectError("context_overflow", field: "completion_tokens") {
            _ = try await service.score(ScoreRequestMessage(model: m, promptTokens: [Int](repeating: 1, count: 500),
                                                            completionTokens: [Int](repeating: 1, count: 20)))
        }
        await Self.expectError("unsupported", field: "messages") {
            _ = try await service.tokenize(TokenizeRequest(model: m, messages: [ChatMessage(role: "user", content: "hi")]))
        }
    }

    @Test func byteLevelTokenizationRoundTrips() async throws {
        let service = try await Self.service()
        let t = try await service.tokenize(TokenizeRequest(model: "chorus/synthetic-tiny", text: "Hi!"))
        #expect(t.tokens == [72, 105, 33])
        let d = try await service.detokenize(DetokenizeRequest(model: "chorus/synthetic-tiny", tokens: t.tokens))
        #expect(d.text == "Hi!")
    }

    @Test func stateReportsJobsAndModels() async throws {
        let service = try await Self.service()
        let idle = await service.state()
        #expect(idle.state == "idle" && idle.models == ["chorus/synthetic-tiny"])
        let job = try await service.startJob(PoCJobRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex,
                                                           participant: Self.participantHex, params: .init(seqLen: 4)))
        let busy = await service.state()
        #expect(busy.jobs.map(\.id) == [job.id])
        _ = try await service.deleteJob(job.id)
        await Self.expectError("invalid_request", field: "batch_size") {
            _ = try await service.startJob(PoCJobRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex,
                                                         participant: Self.participantHex, params: .init(seqLen: 4), batchSize: 0))
        }
        await Self.expectError("invalid_request", field: "nonce_stride") {
            _ = try await service.startJob(PoCJobRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex,
                                                         participant: Self.participantHex, params: .init(seqLen: 4), nonceStride: 0))
        }
    }
}
