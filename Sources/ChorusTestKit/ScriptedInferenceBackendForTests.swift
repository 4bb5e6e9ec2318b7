public import ChorusCrypto
public import ChorusInference
import Synchronization

/// A test double for an inference backend (a worker): answers every job for model `scripted` with
/// fixed pieces (and made-up logprobs when asked), optionally paced or held at a gate, and records
/// how runs ended. Used where the component under test is what sits in front of a worker — the
/// HTTP API (ChorusAPITests) and routing between nodes (ChorusNodeTests); the worker behind them
/// is tested on the real engine in ChorusAPITests and the real-model tier.
public final class ScriptedInferenceBackendForTests: ExecutorBackend {
    public let pieces: [String]
    /// Time between pieces, as a worker takes per token.
    public let pace: Duration?
    public let executor: String
    private let gate: Mutex<Bool>
    private let counts = Mutex((started: 0, stoppedEarly: 0, rechecks: 0))

    /// Output positions at which `recompute` disagrees with what `generate` made.
    public let flipsAt: Set<Int>

    public init(pieces: [String], pace: Duration? = nil, held: Bool = false, executor: String = "local", flipsAt: Set<Int> = []) {
        self.pieces = pieces
        self.flipsAt = flipsAt
        self.pace = pace
        self.executor = executor
        gate = Mutex(held)
    }

    /// Lets held runs go on.
    public func release() { gate.withLock { $0 = false } }
    /// Runs started, and runs that ended because `onDelta` said stop.
    public var started: Int { counts.withLock { $0.started } }
    public var stoppedEarly: Int { counts.withLock { $0.stoppedEarly } }
    /// Re-runs (`recompute`) started.
    public var rechecks: Int { counts.withLock { $0.rechecks } }

    public func models() async throws(OpenAIError) -> [String] { ["scripted"] }

    /// Three prompt ids; the budget is the number of pieces (or fewer when the job asks for fewer),
    /// so a run that sends every piece ends with `length`, as the receipt rule requires.
    public func prepare(_ job: InferenceJob, limits: APILimits) async throws(OpenAIError) -> PreparedJob {
        guard job.model == "scripted" else { throw .unknownModel(job.model, available: ["scripted"]) }
        return PreparedJob(promptTokens: [1, 2, 3], maxTokens: min(job.maxTokens ?? pieces.count, pieces.count), stopTokens: [])
    }

    /// A validator's re-run: the ids `prepare` and `generate` would make are chosen again (piece `i`
    /// is `100 + i`), except at positions listed in `flipsAt`, where it chooses another id (a model
    /// that disagrees there).
    public func recompute(model: String, promptTokens: [Int], outputTokens: [Int], sampling: InferenceJob,
                          tapeSeed: Bytes32?) async throws(OpenAIError) -> [RecomputedChoice] {
        guard model == "scripted" else { throw .unknownModel(model, available: ["scripted"]) }
        counts.withLock { $0.rechecks += 1 }
        while gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        return outputTokens.indices.map { i in
            flipsAt.contains(i) ? RecomputedChoice(token: 100 + i + 1_000, margin: 2) : RecomputedChoice(token: 100 + i, margin: 0)
        }
    }

    /// Piece `i` is token id `100 + i`; the tape seed is ignored (no model to sample from).
    public func generate(_ job: InferenceJob, prepared: PreparedJob, tapeSeed: Bytes32?,
                         onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> GeneratedOutput {
        counts.withLock { $0.started += 1 }
        var tokens: [Int] = []
        var cancelled = false
        for (i, piece) in pieces.prefix(prepared.maxTokens).enumerated() {
            while gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            if let pace { try? await Task.sleep(for: pace) }
            let logprobs = job.topLogprobs.map { n in
                [TokenLogprob(token: piece, logprob: -0.5, top: Array(repeating: .init(token: piece, logprob: -0.5), count: n))]
            } ?? []
            tokens.append(100 + i)
            guard onDelta(CompletionDelta(text: piece, logprobs: logprobs)) else {
                counts.withLock { $0.stoppedEarly += 1 }
                cancelled = true
                break
            }
        }
        let outcome = CompletionOutcome(finishReason: .length, promptTokens: prepared.promptTokens.count, completionTokens: tokens.count,
                                        executor: executor)
        return GeneratedOutput(outcome: outcome, tokens: tokens, stopSequenceEnd: nil, cancelled: cancelled)
    }
}
