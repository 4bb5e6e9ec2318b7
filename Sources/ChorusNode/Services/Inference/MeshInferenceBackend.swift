import ChorusCrypto
public import ChorusInference
import ChorusProtocol

/// The gateway: what a node's API runs requests on (Specs/inference-routing.md §3). Each request
/// gets a random 32-byte id; the executor is drawn from the model's group (`Node.chooseExecutor`),
/// served in-process when the draw picks this node, else forwarded over the mesh. An executor that
/// refuses, fails, stalls or drops its session before any text reached the user is skipped and the
/// draw repeated, at most `maxAttempts` times; after text has reached the user a failure ends the
/// response with an error (text cannot be taken back).
public struct MeshInferenceBackend: InferenceBackend {
    let node: Node
    let local: (any ExecutorBackend)?
    let maxAttempts: Int

    public init(node: Node, local: (any ExecutorBackend)?, maxAttempts: Int = 3) {
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
                return try await serveLocally(job, on: local, limits: limits, onDelta: onDelta)
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
            var issued: IssuedTicket?
            for await event in events {
                switch event {
                case let .prepared(request):
                    // The executor's canonical form of this job: the gateway signs a ticket over it.
                    guard issued == nil, request.model == job.model else {
                        await node.cancelInference(id)
                        await node.executorAnswered(executor, ok: false)
                        reasons.append("\(executor.short): prepared a request for another model, or twice")
                        break
                    }
                    let ticket = try await node.issueTicket(for: request)
                    issued = ticket
                    await node.sendTicket(id, ticket)
                case let .delta(delta):
                    // Text before the ticket was not sampled from the tape the ticket seeds.
                    guard issued != nil else {
                        await node.cancelInference(id)
                        await node.executorAnswered(executor, ok: false)
                        reasons.append("\(executor.short): sent text before its ticket")
                        break
                    }
                    emitted = true
                    sent += 1
                    if !onDelta(delta) {
                        await node.cancelInference(id)
                        return CompletionOutcome(finishReason: .stop, promptTokens: issued?.request.promptTokens.count ?? 0,
                                                 completionTokens: sent, executor: executor.hex, requestID: issued?.ticket.requestID.hex)
                    }
                case let .end(finish, receipt, output, stopSequenceEnd):
                    // Checked before the last byte reaches the user (Specs/inference.md §5.1).
                    guard let issued else {
                        await node.executorAnswered(executor, ok: false)
                        throw .internalError("The executor \(executor.short) ended without a ticket; its answer is not accepted.")
                    }
                    do throws(ProtocolError) {
                        try issued.check(receipt, from: executor, output: output, stopSequenceEnd: stopSequenceEnd)
                    } catch {
                        await node.executorAnswered(executor, ok: false)
                        await node.receiptRefused(receipt, from: executor, reason: error.description)
                        throw .internalError("The executor \(executor.short)'s receipt does not match what it sent (\(error.description)).")
                    }
                    await node.executorAnswered(executor, ok: true)
                    let record = InferenceRecord(roles: .gateway, request: issued.request, ticket: issued.ticket,
                                                 gatewaySignature: issued.signature, receipt: receipt, output: output,
                                                 stopSequenceEnd: stopSequenceEnd, recordedAtMs: UInt64(clamping: Node.unixMillis()))
                    await node.keep(record)
                    await node.announce(record)
                    return CompletionOutcome(finishReason: finish, promptTokens: Int(receipt.receipt.promptTokens),
                                             completionTokens: output.count, executor: executor.hex,
                                             requestID: issued.ticket.requestID.hex, receiptID: receipt.id.hex)
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

    /// The draw picked this node: it is gateway and executor at once. The job runs under a ticket
    /// like a routed one, so its receipt is the same and recorded once with both roles.
    private func serveLocally(_ job: InferenceJob, on local: any ExecutorBackend, limits: APILimits,
                              onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome {
        let prepared = try await local.prepare(job, limits: limits)
        let request = try TicketedInference.canonicalRequest(job, prepared)
        let issued = try await node.issueTicket(for: request)
        let generated = try await TicketedInference.generate(job, prepared, under: issued, on: local, key: node.signingKey,
                                                             roles: [.executor, .gateway], unixMillis: { UInt64(clamping: Node.unixMillis()) },
                                                             onDelta: onDelta)
        let record = generated.record
        do throws(ProtocolError) {
            try issued.check(record.receipt, from: node.publicKey, output: record.output, stopSequenceEnd: record.stopSequenceEnd)
        } catch {
            throw .internalError("This node's own receipt does not check (\(error.description)); this is a bug.")
        }
        await node.keep(record)
        await node.announce(record)
        var outcome = generated.output.outcome
        outcome.executor = node.publicKey.hex
        outcome.requestID = issued.ticket.requestID.hex
        outcome.receiptID = record.receiptID.hex
        return outcome
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
