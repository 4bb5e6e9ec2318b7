import ChorusInference
import Synchronization

/// A test double for a node's local inference backend (the worker): answers every job with fixed
/// pieces, optionally paced or held at a gate, and records how runs ended. Routing is the
/// component under test; the worker behind it is tested in ChorusAPITests and the real-model tier.
final class ScriptedInferenceBackendForTests: InferenceBackend {
    let pieces: [String]
    let pace: Duration?
    let gate: Mutex<Bool>
    let started = Mutex(0)
    let stoppedEarly = Mutex(0)

    init(pieces: [String], pace: Duration? = nil, held: Bool = false) {
        self.pieces = pieces
        self.pace = pace
        gate = Mutex(held)
    }

    func release() { gate.withLock { $0 = false } }

    func models() async throws(OpenAIError) -> [String] { ["scripted"] }

    func run(_ job: InferenceJob, limits: APILimits,
             onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome {
        guard job.model == "scripted" else { throw .unknownModel(job.model, available: ["scripted"]) }
        started.withLock { $0 += 1 }
        var sent = 0
        for piece in pieces {
            while gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            if let pace { try? await Task.sleep(for: pace) }
            guard onDelta(CompletionDelta(text: piece)) else {
                stoppedEarly.withLock { $0 += 1 }
                break
            }
            sent += 1
        }
        return CompletionOutcome(finishReason: .length, promptTokens: 3, completionTokens: sent, executor: "local")
    }
}
