public import ChorusInference
import Synchronization

/// A test double for an inference backend (a worker): answers every job for model `scripted` with
/// fixed pieces (and made-up logprobs when asked), optionally paced or held at a gate, and records
/// how runs ended. Used where the component under test is what sits in front of a worker — the
/// HTTP API (ChorusAPITests) and routing between nodes (ChorusNodeTests); the worker behind them
/// is tested on the real engine in ChorusAPITests and the real-model tier.
public final class ScriptedInferenceBackendForTests: InferenceBackend {
    public let pieces: [String]
    /// Time between pieces, as a worker takes per token.
    public let pace: Duration?
    public let executor: String
    private let gate: Mutex<Bool>
    private let counts = Mutex((started: 0, stoppedEarly: 0))

    public init(pieces: [String], pace: Duration? = nil, held: Bool = false, executor: String = "local") {
        self.pieces = pieces
        self.pace = pace
        self.executor = executor
        gate = Mutex(held)
    }

    /// Lets held runs go on.
    public func release() { gate.withLock { $0 = false } }
    /// Runs started, and runs that ended because `onDelta` said stop.
    public var started: Int { counts.withLock { $0.started } }
    public var stoppedEarly: Int { counts.withLock { $0.stoppedEarly } }

    public func models() async throws(OpenAIError) -> [String] { ["scripted"] }

    public func run(_ job: InferenceJob, limits: APILimits,
                    onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome {
        guard job.model == "scripted" else { throw .unknownModel(job.model, available: ["scripted"]) }
        counts.withLock { $0.started += 1 }
        var sent = 0
        for piece in pieces {
            while gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            if let pace { try? await Task.sleep(for: pace) }
            let logprobs = job.topLogprobs.map { n in
                [TokenLogprob(token: piece, logprob: -0.5, top: Array(repeating: .init(token: piece, logprob: -0.5), count: n))]
            } ?? []
            guard onDelta(CompletionDelta(text: piece, logprobs: logprobs)) else {
                counts.withLock { $0.stoppedEarly += 1 }
                break
            }
            sent += 1
        }
        return CompletionOutcome(finishReason: .length, promptTokens: 3, completionTokens: sent, executor: executor)
    }
}
