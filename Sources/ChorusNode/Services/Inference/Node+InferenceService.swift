public import ChorusCrypto
public import ChorusInference
import ChorusMesh
import ChorusProtocol

/// Where inference routing (`InferenceService.swift`) meets the node: session messages of tag 5
/// feed it, lost sessions reach it through the composition, and the gateway side
/// (`MeshInferenceBackend`) asks the node whom to draw (final table, SWIM, sessions, circuits).
extension Node {
    /// The session-message protocol tag of inference routing.
    public static let inferenceTag: UInt8 = InferenceService.tag

    /// Starts serving and routing inference. `local` runs jobs on this node's worker (nil: the
    /// node routes but serves none itself).
    public func attachInference(local: (any InferenceBackend)?, limits: APILimits = APILimits()) {
        attachInference(local: local, limits: limits, settings: .init())
    }

    func attachInference(local: (any InferenceBackend)?, limits: APILimits = APILimits(), settings: InferenceService.Settings) {
        guard inference == nil else { return }
        let loop = self.loop
        inference = InferenceService(host: serviceHost, settings: settings, local: local, limits: limits, logger: logger) { [weak self] body in
            guard let self else { return }
            _ = loop.execute { [weak self] in self?.assumeIsolated { node in node.inference.map(body) } }
        }
        setHandler(for: Self.inferenceTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.inference?.received(bytes, from: peer) }
        }
    }

    /// Who serves a request (Specs/inference-routing.md §2–3).
    public enum ExecutorChoice: Sendable, Equatable {
        case local
        case remote(Ed25519.PublicKey)
        /// No one can: why, for the 503 (or 404 when the model is unknown).
        case none(OpenAIError)
    }

    /// Draws the executor of `requestID`'s attempt from the model's group in the last final table,
    /// skipping `excluded`, members SWIM holds suspect or dead, members without a session to this
    /// node, and open circuits. Before any final table lists the model, a node that runs it serves
    /// its own requests.
    public func chooseExecutor(model: String, requestID: Bytes32, attempt: UInt32, excluding excluded: Set<Bytes32>) -> ExecutorChoice {
        guard let service = inference else { return .none(.overloaded("Inference is not running on this node.")) }
        let me = publicKey.raw
        let group = weights(nil).map { ExecutorDraw.group(model: model, in: $0) } ?? []
        if group.isEmpty {
            if service.servesLocally, configuration.servedModels.contains(model), !excluded.contains(me) { return .local }
            let known = inferenceModels()
            if !known.contains(model) { return .none(.unknownModel(model, available: known)) }
            return .none(.overloaded("No executor of `\(model)` can take the request now; retry shortly."))
        }
        var skip = excluded.union(service.openCircuits())
        for candidate in group where candidate.participant != me {
            let key = Ed25519.PublicKey(candidate.participant)
            let status = membership?.machine.member(key)?.status
            if status == .suspect || status == .dead || manager.establishedPeers[key] == nil { skip.insert(candidate.participant) }
        }
        if !service.servesLocally || !configuration.servedModels.contains(model) { skip.insert(me) }
        guard let drawn = ExecutorDraw.draw(requestID: requestID, attempt: attempt, from: group, excluding: skip) else {
            return .none(.overloaded("All \(group.count) executors of `\(model)` are unreachable, suspect or failing; retry shortly."))
        }
        guard service.admits(drawn) else {
            return .none(.overloaded("The executor drawn for `\(model)` is being probed after failures; retry shortly."))
        }
        return drawn == me ? .local : .remote(Ed25519.PublicKey(drawn))
    }

    /// Models requests may name here: those of the last final table's groups and this node's own.
    public func inferenceModels() -> [String] {
        var models = Set(inference?.servesLocally == true ? configuration.servedModels : [])
        for entry in weights(nil)?.entries ?? [] {
            for m in entry.models where m.accepted && m.pocWeight > 0 { models.insert(m.model) }
        }
        return models.sorted()
    }

    /// Sends a job to `executor`; nil when it cannot be sent now (the caller draws again).
    func forwardInference(_ id: Bytes32, _ job: InferenceJob, to executor: Ed25519.PublicKey) -> AsyncStream<InferenceService.RemoteEvent>? {
        inference?.forward(id, job, to: executor)
    }

    func cancelInference(_ id: Bytes32) { inference?.cancel(id) }

    func executorAnswered(_ executor: Ed25519.PublicKey, ok: Bool) {
        if ok { inference?.executorSucceeded(executor.raw) } else { inference?.executorFailed(executor.raw) }
    }
}

/// What inference routing holds and has done (`chorus status`, metrics, tests).
public struct InferenceReport: Codable, Sendable, Equatable {
    /// Requests this node forwarded and still waits on; jobs it runs for gateways.
    public var pending: Int
    public var served: Int
    public var servedForPeers: Int
    public var refusedBusy: Int
    public var forwarded: Int
    public var executorFailures: Int
    public var malformed: Int
    public var openCircuits: Int
}

extension Node {
    public func inferenceReport() -> InferenceReport? {
        guard let s = inference else { return nil }
        let c = s.counters
        return InferenceReport(pending: s.pendingCount, served: s.servedCount, servedForPeers: c.servedForPeers,
                               refusedBusy: c.refusedBusy, forwarded: c.forwarded, executorFailures: c.executorFailures,
                               malformed: c.malformed, openCircuits: s.openCircuits().count)
    }
}
