import ChorusCompute
import ChorusWorkerAPI
import Synchronization

/// A test double of the worker protocol: the built-in `WorkerService`, except that while `hanging`
/// is set every PoC call (start, pull, verify) waits for an hour (until cancelled), as a stuck worker would.
final class HangingWorkerForTests: WorkerAPI {
    let inner = WorkerService()
    let hanging = Atomic<Bool>(true)

    private func hangIfTold() async throws {
        if hanging.load(ordering: .relaxed) { try await Task.sleep(for: .seconds(3600)) }
    }

    func info() async throws -> InfoMessage { await inner.info() }
    func state() async throws -> StateMessage { await inner.state() }
    func models() async throws -> ModelsMessage { await inner.models() }
    func stop() async throws -> StopMessage { await inner.stop() }
    func loadModel(_ request: LoadModelRequest) async throws -> ModelMessage { try await inner.loadModel(request) }
    func unloadModel(_ id: String) async throws -> UnloadMessage { try await inner.unloadModel(id) }
    func startJob(_ request: PoCJobRequest) async throws -> JobStatusMessage {
        try await hangIfTold()
        return try await inner.startJob(request)
    }
    func jobs() async throws -> JobsMessage { await inner.jobs() }
    func job(_ id: String) async throws -> JobStatusMessage { try await inner.job(id) }
    func artifacts(job id: String, after: UInt64, waitMs: Int, maxBatches: Int?) async throws -> ArtifactsMessage {
        try await hangIfTold()
        return try await inner.artifacts(job: id, after: after, waitMs: waitMs, maxBatches: maxBatches)
    }
    func deleteJob(_ id: String) async throws -> DeleteJobMessage { try await inner.deleteJob(id) }
    func verify(_ request: VerifyRequest) async throws -> VerifyMessage {
        try await hangIfTold()
        return try await inner.verify(request)
    }
    func generate(_ request: GenerateRequest, onToken: @escaping @Sendable (TokenLineMessage) -> Bool) async throws -> GenerateMessage {
        try await inner.generate(request, onToken: onToken)
    }
    func score(_ request: ScoreRequestMessage) async throws -> ScoreMessage { try await inner.score(request) }
    func tokenize(_ request: TokenizeRequest) async throws -> TokenizeMessage { try await inner.tokenize(request) }
    func detokenize(_ request: DetokenizeRequest) async throws -> DetokenizeMessage { try await inner.detokenize(request) }
}
