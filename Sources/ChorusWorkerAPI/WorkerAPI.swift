/// The worker protocol (Specs/worker.md) as a Swift interface: implemented in-process by
/// `WorkerService` (the built-in CPU worker) and over HTTP by `WorkerHTTPClient`, so the node and
/// the CLI drive either the same way. Errors are `WorkerError` (the worker refused the request)
/// or, over HTTP, `WorkerClientError` (the worker is unreachable or unhealthy).
public protocol WorkerAPI: Sendable {
    func info() async throws -> InfoMessage
    func state() async throws -> StateMessage
    /// The resident models with their configuration (context length, vocabulary).
    func models() async throws -> ModelsMessage
    func stop() async throws -> StopMessage
    func loadModel(_ request: LoadModelRequest) async throws -> ModelMessage
    func unloadModel(_ id: String) async throws -> UnloadMessage
    func startJob(_ request: PoCJobRequest) async throws -> JobStatusMessage
    func jobs() async throws -> JobsMessage
    func job(_ id: String) async throws -> JobStatusMessage
    /// Batches with `seq > after` (acknowledging everything up to `after`), waiting up to
    /// `waitMs` for a new one while the job runs.
    func artifacts(job id: String, after: UInt64, waitMs: Int, maxBatches: Int?) async throws -> ArtifactsMessage
    func deleteJob(_ id: String) async throws -> DeleteJobMessage
    func verify(_ request: VerifyRequest) async throws -> VerifyMessage
    /// Streams each token to `onToken` as it is generated; returning false cancels the generation
    /// (it then finishes with `cancelled`).
    func generate(_ request: GenerateRequest, onToken: @escaping @Sendable (TokenLineMessage) -> Bool) async throws -> GenerateMessage
    func score(_ request: ScoreRequestMessage) async throws -> ScoreMessage
    func tokenize(_ request: TokenizeRequest) async throws -> TokenizeMessage
    func detokenize(_ request: DetokenizeRequest) async throws -> DetokenizeMessage
}
