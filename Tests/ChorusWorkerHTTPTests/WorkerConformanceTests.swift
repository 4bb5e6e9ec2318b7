import ChorusCompute
import ChorusWorkerAPI
import ChorusWorkerHTTP
import Foundation
import Testing

/// The protocol checks every worker must pass, run against the workers named in
/// `CHORUS_CONFORMANCE_WORKERS` (`name=url,name=url`), plus cross-checks between them when
/// there are several. Slow tier: `Tools/test-worker-conformance.sh` starts the Swift HTTP worker
/// and the Python reference worker and runs this suite; `CHORUS_MODEL_PATH` adds SmolLM2.
enum ConformanceTier {
    static var workers: [(name: String, client: WorkerHTTPClient)] {
        let spec = ProcessInfo.processInfo.environment["CHORUS_CONFORMANCE_WORKERS"] ?? ""
        var timeouts = WorkerHTTPClient.Timeouts()
        timeouts.request = 300
        timeouts.load = 300
        timeouts.streamIdle = 120
        return spec.split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            return (parts[0], WorkerHTTPClient(baseURL: parts[1], token: ProcessInfo.processInfo.environment["CHORUS_WORKER_TOKEN"],
                                               timeouts: timeouts))
        }
    }
    static var enabled: Bool { !workers.isEmpty }
    static var modelPath: String? { ProcessInfo.processInfo.environment["CHORUS_MODEL_PATH"] }
}

@Suite(.enabled(if: ConformanceTier.enabled, "set CHORUS_CONFORMANCE_WORKERS (Tools/test-worker-conformance.sh)"), .serialized)
struct WorkerConformanceTests {
    struct Case {
        let id: String
        let load: LoadModelRequest
        let seed: String
        let participant: String
        let seqLen: Int
        let threshold: Double
        let vectors: [UInt64: String]
    }

    static func vectorFile(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Specs/vectors/\(name)")
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// The golden PoC cases: synthetic tiny and devnet, and SmolLM2 when its file is given.
    static func cases() throws -> [Case] {
        func parse(_ c: [String: Any], load: LoadModelRequest) throws -> Case {
            var vectors: [UInt64: String] = [:]
            for n in try #require(c["nonces"] as? [[String: Any]]) {
                vectors[UInt64(try #require(n["nonce"] as? Int))] = try #require(n["vector"] as? String)
            }
            return Case(id: try #require(c["model_id"] as? String), load: load, seed: try #require(c["epoch_seed"] as? String),
                        participant: try #require(c["participant"] as? String), seqLen: try #require(c["seq_len"] as? Int),
                        threshold: try #require(c["dist_threshold"] as? Double), vectors: vectors)
        }
        var out: [Case] = []
        for c in try #require(try vectorFile("poc-synthetic.json")["cases"] as? [[String: Any]]) {
            let load = LoadModelRequest(id: try #require(c["model_id"] as? String), digest: c["model_digest"] as? String,
                                        synthetic: .init(preset: try #require(c["name"] as? String), seed: try #require(c["synthetic_seed"] as? String)))
            out.append(try parse(c, load: load))
        }
        if let path = ConformanceTier.modelPath {
            let file = try vectorFile("poc-smollm2.json")
            for c in try #require(file["cases"] as? [[String: Any]]) {
                let load = LoadModelRequest(id: try #require(c["model_id"] as? String), path: path, digest: file["model_digest"] as? String)
                out.append(try parse(c, load: load))
            }
        }
        return out
    }

    /// Loads every case's model unless resident.
    static func prepare(_ worker: WorkerHTTPClient) async throws {
        let resident = Set(try await worker.info().models.map(\.id))
        for c in try cases() where !resident.contains(c.id) {
            let model = try await worker.loadModel(c.load)
            #expect(model.digest == c.load.digest)
        }
    }

    static func refusal(_ body: () async throws -> Void) async -> WorkerError? {
        do {
            try await body()
        } catch let WorkerClientError.refused(error) {
            return error
        } catch {
            Issue.record("expected a protocol error, got \(error)")
        }
        return nil
    }

    static func distance(_ a: String?, _ b: String?) -> Double {
        guard let a, let b, let va = PoCVector(hex: a), let vb = PoCVector(hex: b) else { return .infinity }
        return va.distance(to: vb) ?? .infinity
    }

    @Test func everyWorkerDescribesItselfAndLoadsByDigest() async throws {
        for (name, worker) in ConformanceTier.workers {
            let info = try await worker.info()
            #expect(info.protocol == 1, "\(name)")
            #expect(info.poc.specs.contains(PoCKernel.spec) && info.poc.kDim == 12, "\(name)")
            try await Self.prepare(worker)
            let wrong = await Self.refusal {
                _ = try await worker.loadModel(LoadModelRequest(id: "conformance/wrong-digest", digest: "blake2b:" + String(repeating: "0", count: 64),
                                                                synthetic: .init(preset: "tiny", seed: SyntheticModel.devnetSeed.hex)))
            }
            #expect(wrong?.code == "digest_mismatch" && wrong?.field == "digest", "\(name)")
            #expect(!(try await worker.info().models.map(\.id).contains("conformance/wrong-digest")), "\(name)")
            let state = try await worker.state()
            #expect(["idle", "poc_generating", "serving"].contains(state.state), "\(name): \(state.state)")
        }
    }

    @Test func everyWorkerReproducesTheGoldenVectors() async throws {
        for (name, worker) in ConformanceTier.workers {
            try await Self.prepare(worker)
            for c in try Self.cases() {
                let nonces = c.vectors.keys.sorted()
                let result = try await worker.verify(VerifyRequest(model: c.id, seed: c.seed, participant: c.participant,
                                                                   params: .init(seqLen: c.seqLen), nonces: nonces,
                                                                   vectors: nonces.map { c.vectors[$0] }))
                #expect(result.artifacts.map(\.nonce) == nonces, "\(name) \(c.id)")
                for (nonce, d) in zip(nonces, result.distances ?? []) {
                    #expect((d ?? .infinity) <= c.threshold / 10, "\(name) \(c.id) nonce \(nonce): distance \(String(describing: d))")
                }
            }
        }
    }

    @Test func everyWorkerRunsJobsOverSlotsWithAcknowledgedPulls() async throws {
        let c = try #require(try Self.cases().first)
        for (name, worker) in ConformanceTier.workers {
            try await Self.prepare(worker)
            var seen: [UInt64: String?] = [:]
            for slot in 0..<2 {
                let job = try await worker.startJob(PoCJobRequest(model: c.id, seed: c.seed, participant: c.participant,
                                                                  params: .init(seqLen: c.seqLen), nonceOffset: UInt64(slot),
                                                                  nonceStride: 2, nonceCount: 4, batchSize: 3))
                var cursor: UInt64 = 0
                var repeated = false
                while true {
                    let pull = try await worker.artifacts(job: job.id, after: cursor, waitMs: 5_000, maxBatches: 1)
                    if !repeated, !pull.batches.isEmpty {
                        let again = try await worker.artifacts(job: job.id, after: cursor, waitMs: 0, maxBatches: 1)
                        #expect(again.batches.first == pull.batches.first, "\(name): a repeated pull returns the same batch")
                        repeated = true
                    }
                    for a in pull.batches.flatMap(\.artifacts) {
                        #expect(seen[a.nonce] == nil, "\(name): nonce \(a.nonce) twice")
                        seen[a.nonce] = a.vector
                    }
                    cursor = pull.cursor
                    if pull.job.state != "running" && pull.batches.isEmpty { break }
                }
                #expect(try await worker.job(job.id).state == "done", "\(name)")
                _ = try await worker.deleteJob(job.id)
            }
            #expect(Set(seen.keys) == Set(0..<8), "\(name)")
            for (nonce, vector) in seen {
                #expect(Self.distance(vector, c.vectors[nonce]) <= c.threshold / 10, "\(name) nonce \(nonce)")
            }
        }
    }

    @Test func everyWorkerNamesTheFieldOfBadInput() async throws {
        let c = try #require(try Self.cases().first)
        for (name, worker) in ConformanceTier.workers {
            try await Self.prepare(worker)
            let seq = await Self.refusal {
                _ = try await worker.verify(VerifyRequest(model: c.id, seed: c.seed, participant: c.participant, params: .init(seqLen: 0), nonces: [1]))
            }
            #expect(seq?.code == "invalid_request" && seq?.field == "params.seq_len", "\(name): \(String(describing: seq))")
            let seed = await Self.refusal {
                _ = try await worker.verify(VerifyRequest(model: c.id, seed: "12", participant: c.participant, params: .init(seqLen: 4), nonces: [1]))
            }
            #expect(seed?.field == "seed", "\(name): \(String(describing: seed))")
            let model = await Self.refusal {
                _ = try await worker.score(ScoreRequestMessage(model: "conformance/none", promptTokens: [1], completionTokens: [2]))
            }
            #expect(model?.code == "unknown_model" && model?.status == 404, "\(name): \(String(describing: model))")
            let token = await Self.refusal {
                _ = try await worker.generate(GenerateRequest(model: c.id, promptTokens: [1, 99_999])) { _ in true }
            }
            #expect(token?.code == "invalid_token" && token?.field == "prompt_tokens[1]", "\(name): \(String(describing: token))")
            let overflow = await Self.refusal {
                _ = try await worker.generate(GenerateRequest(model: c.id, promptTokens: [Int](repeating: 1, count: 510), maxTokens: 16)) { _ in true }
            }
            #expect(overflow?.code == "context_overflow", "\(name): \(String(describing: overflow))")
            let job = await Self.refusal { _ = try await worker.job("job-0-none") }
            #expect(job?.code == "unknown_job", "\(name): \(String(describing: job))")
        }
    }

    @Test func everyWorkerGeneratesWhatItScores() async throws {
        let c = try #require(try Self.cases().first)
        for (name, worker) in ConformanceTier.workers {
            try await Self.prepare(worker)
            let prompt = try await worker.tokenize(TokenizeRequest(model: c.id, text: "conformance")).tokens
            #expect(prompt == Array("conformance".utf8).map(Int.init), "\(name): byte-level tokens")
            let generated = try await worker.generate(GenerateRequest(model: c.id, promptTokens: prompt, maxTokens: 8, topLogprobs: 5)) { _ in true }
            #expect(generated.finishReason == "length" && generated.tokens.count == 8, "\(name)")
            let scored = try await worker.score(ScoreRequestMessage(model: c.id, promptTokens: prompt,
                                                                    completionTokens: generated.tokens.map(\.id), topLogprobs: 5))
            for (g, s) in zip(generated.tokens, scored.tokens) {
                #expect(abs(g.logprob - s.logprob) < 1e-3, "\(name): generate and score logprobs differ")
            }
        }
    }

    // MARK: - Cross-checks between workers

    static let prompts = ["What is the capital of France?", "Name three primary colors.",
                          "Write a haiku about the sea.", "What is 12 times 12?"]

    @Test func workersAgreeWithEachOther() async throws {
        let workers = ConformanceTier.workers
        guard workers.count >= 2 else { return }
        for (_, w) in workers { try await Self.prepare(w) }
        let (baseName, base) = workers[0]
        for c in try Self.cases() {
            let nonces: [UInt64] = Array(100..<116)
            let request = VerifyRequest(model: c.id, seed: c.seed, participant: c.participant, params: .init(seqLen: c.seqLen), nonces: nonces)
            let reference = try await base.verify(request).artifacts
            for (name, other) in workers.dropFirst() {
                let theirs = try await other.verify(request).artifacts
                for (a, b) in zip(reference, theirs) {
                    #expect(Self.distance(a.vector, b.vector) <= c.threshold / 10, "\(baseName) vs \(name), \(c.id) nonce \(a.nonce)")
                }
            }
        }
        guard ConformanceTier.modelPath != nil else { return }
        let smol = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
        for text in Self.prompts {
            let messages = [ChatMessage(role: "user", content: text)]
            let prompt = try await base.tokenize(TokenizeRequest(model: smol, messages: messages, addGenerationPrompt: true)).tokens
            let reference = try await base.generate(GenerateRequest(model: smol, promptTokens: prompt, maxTokens: 24, topLogprobs: 5)) { _ in true }
            let referenceScore = try await base.score(ScoreRequestMessage(model: smol, promptTokens: prompt,
                                                                          completionTokens: reference.tokens.map(\.id), topLogprobs: 5))
            for (name, other) in workers.dropFirst() {
                let theirPrompt = try await other.tokenize(TokenizeRequest(model: smol, messages: messages, addGenerationPrompt: true)).tokens
                #expect(theirPrompt == prompt, "\(baseName) vs \(name): chat-template tokens for '\(text)'")
                let theirs = try await other.generate(GenerateRequest(model: smol, promptTokens: prompt, maxTokens: 24)) { _ in true }
                #expect(theirs.tokens.map(\.id) == reference.tokens.map(\.id), "\(baseName) vs \(name): greedy tokens for '\(text)'")
                let theirScore = try await other.score(ScoreRequestMessage(model: smol, promptTokens: prompt,
                                                                           completionTokens: reference.tokens.map(\.id), topLogprobs: 5))
                let similarity = ScoringSimilarity.similarity(
                    originalTokens: referenceScore.tokens.map(\.id), original: referenceScore.tokens.map(\.top),
                    validatorTokens: theirScore.tokens.map(\.id), validator: theirScore.tokens.map(\.top))
                #expect(similarity >= 0.999, "\(baseName) vs \(name): scoring similarity \(similarity) for '\(text)'")
            }
        }
    }
}
