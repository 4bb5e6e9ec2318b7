import ChorusCompute
import ChorusWorkerAPI
import Foundation
import Synchronization
import Testing
@testable import ChorusAPI
@testable import ChorusInference

/// `WorkerBackend` on the real in-process worker. The synthetic model (default tier) has no
/// tokenizer, so it checks the refusals; SmolLM2 (real-model tier, `Tools/test-real-model.sh`)
/// checks generation, streaming text and stop sequences end to end.
@Suite struct WorkerBackendTests {
    static func syntheticWorker() async throws -> WorkerService {
        let worker = WorkerService()
        _ = try await worker.loadModel(LoadModelRequest(id: "chorus/synthetic-tiny",
                                                        synthetic: .init(preset: "tiny", seed: SyntheticModel.devnetSeed.hex)))
        return worker
    }

    func refusal(_ backend: WorkerBackend, _ job: InferenceJob) async -> OpenAIError? {
        do {
            _ = try await backend.run(job, limits: APILimits()) { _ in true }
            return nil
        } catch {
            return error
        }
    }

    @Test func refusesWhatTheWorkerCannotServe() async throws {
        let backend = WorkerBackend(worker: try await Self.syntheticWorker(), executor: "self")
        #expect(try await backend.models() == ["chorus/synthetic-tiny"])
        let unknown = await refusal(backend, InferenceJob(model: "gpt-4", input: .text("x")))
        #expect(unknown?.status == 404 && unknown?.code == "model_not_found" && unknown?.message.contains("chorus/synthetic-tiny") == true)
        let chat = await refusal(backend, InferenceJob(model: "chorus/synthetic-tiny", input: .chat([.init(role: "user", content: "x")])))
        #expect(chat?.status == 400 && chat?.message.contains("no chat template") == true)
        let long = await refusal(backend, InferenceJob(model: "chorus/synthetic-tiny", input: .text("x"), maxTokens: 100_000))
        #expect(long?.status == 400 && long?.code == "context_length_exceeded")
    }

    /// The synthetic model's byte-level vocabulary generates text: pieces stream, the count and
    /// finish reason match, and a client that stops early stops the generation.
    @Test func generatesTextOnTheSyntheticModel() async throws {
        let backend = WorkerBackend(worker: try await Self.syntheticWorker(), executor: "self")
        let pieces = Mutex(0)
        let outcome = try await backend.run(InferenceJob(model: "chorus/synthetic-tiny", input: .text("hello"), maxTokens: 12,
                                                         temperature: 0), limits: APILimits()) { _ in
            pieces.withLock { $0 += 1 }
            return true
        }
        #expect(outcome.finishReason == .length && outcome.completionTokens == 12 && outcome.promptTokens > 0)
        #expect(pieces.withLock { $0 } >= 1)
        let stopped = try await backend.run(InferenceJob(model: "chorus/synthetic-tiny", input: .text("hello"), maxTokens: 64,
                                                         temperature: 0), limits: APILimits()) { _ in false }
        #expect(stopped.completionTokens < 64)
    }

    @Test func workerErrorsMapToOpenAIErrors() {
        #expect(WorkerBackend.map(WorkerError(status: 400, code: "invalid_request", message: "bad", field: "sampling.top_p")).param == "top_p")
        #expect(WorkerBackend.map(WorkerError(status: 429, code: "busy", message: "full")).status == 503)
        #expect(WorkerBackend.map(CancellationError()).code == "overloaded")
    }
}

enum RealModelTierForAPI {
    static var enabled: Bool { ProcessInfo.processInfo.environment["CHORUS_MODEL_TESTS"] == "1" }
    static var modelPath: String {
        ProcessInfo.processInfo.environment["CHORUS_MODEL_PATH"]
            ?? NSHomeDirectory() + "/.cache/chorus/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }
}

@Suite(.enabled(if: RealModelTierForAPI.enabled, "set CHORUS_MODEL_TESTS=1 (Tools/test-real-model.sh)"), .serialized)
struct WorkerBackendRealModelTests {
    /// SmolLM2 loaded once for the suite (loading takes seconds).
    actor LoadedOnce {
        static let shared = LoadedOnce()
        private var worker: WorkerService?
        func get() async throws -> WorkerService {
            if let worker { return worker }
            let loaded = WorkerService()
            _ = try await loaded.loadModel(LoadModelRequest(id: "smollm2", path: RealModelTierForAPI.modelPath))
            worker = loaded
            return loaded
        }
    }

    @Test func answersTheCapitalOfFranceStreamingPieceByPiece() async throws {
        let backend = WorkerBackend(worker: try await LoadedOnce.shared.get(), executor: "self")
        let pieces = Mutex<[String]>([])
        let job = InferenceJob(model: "smollm2", input: .chat([ChatMessage(role: "user", content: "What is the capital of France?")]),
                               maxTokens: 24, temperature: 0, topLogprobs: 2)
        let outcome = try await backend.run(job, limits: APILimits()) { delta in
            pieces.withLock { $0.append(delta.text) }
            return true
        }
        let text = pieces.withLock { $0.joined() }
        #expect(text.contains("Paris"), "\(text)")
        #expect(pieces.withLock { $0.count } > 3)
        #expect(outcome.completionTokens > 0 && outcome.promptTokens > 10)
    }

    @Test func stopsAtAStopSequenceAndLeavesItOut() async throws {
        let backend = WorkerBackend(worker: try await LoadedOnce.shared.get(), executor: "self")
        let collected = Mutex("")
        let job = InferenceJob(model: "smollm2", input: .chat([ChatMessage(role: "user", content: "What is the capital of France?")]),
                               maxTokens: 24, temperature: 0, stop: ["Paris"])
        let outcome = try await backend.run(job, limits: APILimits()) { delta in
            collected.withLock { $0 += delta.text }
            return true
        }
        #expect(outcome.finishReason == .stop)
        #expect(!collected.withLock { $0 }.contains("Paris"))
        #expect(outcome.completionTokens < 24)
    }
}
