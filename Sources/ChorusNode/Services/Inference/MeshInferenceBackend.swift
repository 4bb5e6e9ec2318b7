import ChorusCrypto
public import ChorusInference

/// The gateway: what a node's API runs requests on (Specs/inference-routing.md §3). Each request
/// gets a random 32-byte id; the executor is drawn from the model's group (`Node.chooseExecutor`),
/// served in-process when the draw picks this node, else forwarded over the mesh. An executor that
/// refuses, fails, stalls or drops its session before any text reached the user is skipped and the
/// draw repeated, at most `maxAttempts` times; after text has reached the user a failure ends the
/// response with an error (text cannot be taken back).
public struct MeshInferenceBackend: InferenceBackend {
    let node: Node
    let local: (any InferenceBackend)?
    let maxAttempts: Int

    public init(node: Node, local: (any InferenceBackend)?, maxAttempts: Int = 3) {
        self.node = node
        self.local = local
        self.maxAttempts = maxAttempts
    }

    public func models() async throws(OpenAIError) -> [String] {
        await node.inferenceModels()
    }

    public func run(_ job: InferenceJob, limits: APILimits,
                    onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome {
        let id = SecureRandom.bytes32()
        var excluded: Set<Bytes32> = []
        var reasons: [String] = []
        for attempt in 0..<maxAttempts {
            let choice = await node.chooseExecutor(model: job.model, requestID: id, attempt: UInt32(attempt), excluding: excluded)
            let executor: Ed25519.PublicKey
            switch choice {
            case .local:
                guard let local else { throw .overloaded("This node runs no model for inference.") }
                return try await local.run(job, limits: limits, onDelta: onDelta)
            case let .none(error):
                if reasons.isEmpty { throw error }
                throw .overloaded("No executor answered after \(attempt) tries (\(reasons.joined(separator: "; "))); retry shortly.")
            case let .remote(peer):
                executor = peer
            }
            excluded.insert(executor.raw)
            guard let events = await node.forwardInference(id, job, to: executor) else {
                reasons.append("\(executor.short): no session")
                continue
            }
            var emitted = false
            var sent = 0
            for await event in events {
                switch event {
                case let .delta(delta):
                    emitted = true
                    sent += 1
                    if !onDelta(delta) {
                        await node.cancelInference(id)
                        return CompletionOutcome(finishReason: .stop, promptTokens: 0, completionTokens: sent, executor: executor.hex)
                    }
                case let .end(finish, prompt, completion):
                    await node.executorAnswered(executor, ok: true)
                    return CompletionOutcome(finishReason: finish, promptTokens: prompt, completionTokens: completion,
                                             executor: executor.hex)
                case let .error(error):
                    // The user's own mistakes (4xx) are not the executor's fault and are the same anywhere.
                    guard error.status >= 500 else { throw error }
                    await node.executorAnswered(executor, ok: false)
                    if emitted { throw error }
                    reasons.append("\(executor.short): \(error.message)")
                case .lost, .timedOut:
                    await node.executorAnswered(executor, ok: false)
                    let what = event.isTimeout ? "stopped answering" : "lost its session"
                    if emitted { throw .overloaded("The executor \(executor.short) \(what) mid-response; retry the request.") }
                    reasons.append("\(executor.short): \(what)")
                }
            }
        }
        throw .overloaded("No executor answered after \(maxAttempts) tries (\(reasons.joined(separator: "; "))); retry shortly.")
    }
}

extension InferenceService.RemoteEvent {
    var isTimeout: Bool {
        if case .timedOut = self { return true }
        return false
    }
}

extension Ed25519.PublicKey {
    /// The 12 hex digits the CLI shows for a node.
    fileprivate var short: String { String(hex.prefix(12)) }
}
