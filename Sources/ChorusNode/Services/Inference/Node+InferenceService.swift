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
    public func attachInference(local: (any ExecutorBackend)?, limits: APILimits = APILimits()) {
        attachInference(local: local, limits: limits, settings: .init())
    }

    func attachInference(local: (any ExecutorBackend)?, limits: APILimits = APILimits(), settings: InferenceService.Settings) {
        guard inference == nil else { return }
        let loop = self.loop
        if let statements {
            do { inferenceRecords = try InferenceRecordStore(environment: statements.environment, writer: statements.writer) } catch {
                logger.error("inference records cannot be kept", metadata: ["error": "\(error)"])
            }
        }
        let context = InferenceService.Context(
            key: signingKey, networkID: inferenceNetworkID,
            beacon: { [unowned self] epoch in self.assumeIsolated { $0.beacon(epoch: epoch) } },
            unixMillis: { UInt64(clamping: Node.unixMillis()) },
            record: { [unowned self] record in self.assumeIsolated { $0.keep(record) } },
            runs: { [unowned self] model in self.assumeIsolated { $0.configuration.servedModels.contains(model) } })
        inference = InferenceService(host: serviceHost, settings: settings, local: local, context: context, limits: limits,
                                     logger: logger) { [weak self] body in
            guard let self else { return }
            _ = loop.execute { [weak self] in self?.assumeIsolated { node in node.inference.map(body) } }
        }
        setHandler(for: Self.inferenceTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.inference?.received(bytes, from: peer) }
        }
    }

    /// The network tickets name: the epoch engine's, else the mesh's.
    var inferenceNetworkID: String { epochs?.engine.parameters.networkID ?? configuration.networkID }

    /// The beacon of a ticket's `epoch`, nil when this node will not take it: epoch 0 (no beacon,
    /// a predictable tape) only while it has no final table itself, otherwise its last final epoch
    /// or the one before (a gateway one table behind), so a gateway cannot pick an old or empty
    /// beacon to choose its tape.
    func beacon(epoch: UInt64) -> Bytes32? {
        let last = epochs?.finalTables.keys.max()
        if epoch == 0 { return last == nil ? TicketedInference.beacon(of: nil) : nil }
        guard let last, epoch + 1 >= last, let table = epochs?.finalTables[epoch]?.table else { return nil }
        return TicketedInference.beacon(of: table)
    }

    /// Signs a ticket over `request` as its gateway (Specs/inference.md §2): the epoch is the last
    /// final one (whose table routed the request), the nonce random.
    func issueTicket(for request: InferenceRequest) throws(OpenAIError) -> IssuedTicket {
        let epoch = epochs?.finalTables.keys.max() ?? 0
        guard let beacon = beacon(epoch: epoch) else { throw .internalError("The beacon of epoch \(epoch) cannot be derived.") }
        do {
            let ticket = try InferenceTicket(networkID: inferenceNetworkID, epoch: epoch, gateway: publicKey,
                                             nonce: UInt64.random(in: .min ... .max), issuedAtMs: UInt64(clamping: Self.unixMillis()),
                                             requestDigest: request.digest)
            return IssuedTicket(request: request, ticket: ticket, signature: try ticket.sign(with: signingKey), beacon: beacon)
        } catch {
            throw .internalError("The gateway could not sign a ticket: \(error.description)")
        }
    }

    func sendTicket(_ id: Bytes32, _ issued: IssuedTicket) { inference?.sendTicket(id, issued) }

    /// Keeps an inference this node took part in; one served by this node for its own API is
    /// recorded once with both roles.
    func keep(_ record: InferenceRecord) {
        inferenceRecords?.save(record)
    }

    /// An executor's receipt failed the gateway's check: a forged or mismatched receipt. Its
    /// circuit breaker has counted the failure; this says why, and the counter shows it.
    func receiptRefused(_ receipt: SignedInferenceReceipt, from executor: Ed25519.PublicKey, reason: String) {
        inference?.receiptRefused()
        logger.warning("refused an executor's receipt", metadata: ["executor": "\(executor.hex.prefix(16))", "receipt": "\(receipt.id.hex.prefix(16))",
                                                                  "reason": "\(reason)"])
    }

    /// Tells the model's group (members of the last final table's group with a session here)
    /// about an inference this gateway checked, so they may re-run it (Specs/inference.md §6).
    func announce(_ record: InferenceRecord) {
        guard inference != nil, let table = weights(nil) else { return }
        let members = ExecutorDraw.group(model: record.request.model, in: table).map { Ed25519.PublicKey($0.participant) }
        announce(record, to: members)
    }

    /// Announces `record` to those of `members` this node has a session with.
    func announce(_ record: InferenceRecord, to members: [Ed25519.PublicKey]) {
        inference?.announce(record, to: members.filter { manager.establishedPeers[$0] != nil })
    }

    /// `inferences`: the newest records (at most `limit`), of `epoch`'s tickets when given.
    public func inferences(epoch: UInt64?, limit: Int) -> [InferenceRecord] {
        (try? inferenceRecords?.recent(limit: limit, epoch: epoch)) ?? []
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
    /// Receipts from executors that failed this gateway's check.
    public var receiptsRefused: Int
    /// Announcements sent to group members; checks this node ran and how many failed; announcements
    /// it did not take, and those that did not check out.
    public var announced: Int
    public var checksRun: Int
    public var checksFailed: Int
    public var announcementsDropped: Int
    public var announcementsInvalid: Int
}

extension Node {
    public func inferenceReport() -> InferenceReport? {
        guard let s = inference else { return nil }
        let c = s.counters
        return InferenceReport(pending: s.pendingCount, served: s.servedCount, servedForPeers: c.servedForPeers,
                               refusedBusy: c.refusedBusy, forwarded: c.forwarded, executorFailures: c.executorFailures,
                               malformed: c.malformed, openCircuits: s.openCircuits().count, receiptsRefused: c.receiptsRefused,
                               announced: c.announced, checksRun: c.checksRun, checksFailed: c.checksFailed,
                               announcementsDropped: c.announcementsDropped, announcementsInvalid: c.announcementsInvalid)
    }
}
