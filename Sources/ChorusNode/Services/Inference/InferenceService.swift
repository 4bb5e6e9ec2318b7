import ChorusCrypto
import ChorusInference
import ChorusMesh
import ChorusProtocol
import Logging
import Synchronization

/// Inference routing over the mesh (Specs/inference-routing.md), session tag 5. As an executor it
/// prepares the jobs gateways send, waits for the gateway's ticket, generates on this node's worker
/// from the tape the ticket seeds, streams text back and ends with a signed receipt; as a gateway
/// it keeps the requests it forwarded, feeds their events to the waiting API request, times out
/// executors that stall and tracks their failures (`CircuitBreakers`).
///
/// Lives on the node's loop like every service; the jobs themselves run in tasks off the loop and
/// post their results back through `post`.
final class InferenceService {
    static let tag: UInt8 = 5

    struct Settings: Equatable {
        /// Jobs run for one gateway at once, and for all gateways (the worker serializes them anyway;
        /// the bound keeps queued work and its memory finite).
        var maxServedPerPeer = 4
        var maxServed = 16
        /// Requests this node forwards and waits on at once.
        var maxPending = 256
        /// An executor that sends nothing for this long after the request, or between two pieces,
        /// is given up on (the request is cancelled there and redrawn if nothing reached the user).
        var firstEventTimeout: Duration = .seconds(30)
        var idleTimeout: Duration = .seconds(60)
        /// A job prepared for a gateway that sends no ticket within this is dropped.
        var ticketTimeout: Duration = .seconds(30)
        /// Checks (re-runs of announced inferences) running or waiting at once; announcements
        /// beyond are dropped and counted (a flood of them must not queue worker time without end).
        var maxPendingChecks = 8
        /// The check rate and the flip test (Specs/inference.md §6-7).
        var checkParameters = InferenceCheckParameters.defaults
    }

    /// What the executor side needs from the node: its identity (it signs receipts), the network
    /// (tickets name it), the beacon of an epoch (nil when its final table is unknown here; read
    /// on the loop), the wall clock in Unix ms (receipts carry times), and where records go.
    struct Context {
        var key: Ed25519.SigningKey
        var networkID: String
        var beacon: (UInt64) -> Bytes32?
        var unixMillis: @Sendable () -> UInt64
        var record: (InferenceRecord) -> Void
        /// Whether this node runs `model` (only those inferences it can re-run, on `local`).
        var runs: (String) -> Bool
    }

    /// What the gateway side hears about a forwarded request.
    enum RemoteEvent: Sendable {
        /// The executor's canonical form of the job: the gateway signs a ticket over it.
        case prepared(InferenceRequest)
        case delta(CompletionDelta)
        case end(ChorusInference.FinishReason, receipt: SignedInferenceReceipt, output: [UInt32], stopSequenceEnd: UInt32?)
        case error(OpenAIError)
        /// The session with the executor ended.
        case lost
        /// The executor sent nothing within the timeout.
        case timedOut
    }

    private struct Pending {
        let peer: Ed25519.PublicKey
        let events: AsyncStream<RemoteEvent>.Continuation
        let timer: any ServiceTimer
    }

    private struct ServedKey: Hashable {
        let peer: Ed25519.PublicKey
        let id: Bytes32
    }

    /// A job run for a gateway: its cancel flag and, until the ticket comes, where it goes.
    private struct Served {
        let flag: CancelFlag
        var awaiting: AwaitingTicket?
    }

    /// A prepared job's canonical request, where its ticket goes, and the timer that gives up on it.
    private struct AwaitingTicket {
        let request: InferenceRequest
        let tickets: AsyncStream<Result<IssuedTicket, OpenAIError>>.Continuation
        let timer: any ServiceTimer
    }

    private let host: any ServiceHost
    let settings: Settings
    private let local: (any ExecutorBackend)?
    private let context: Context
    private let limits: APILimits
    private let post: @Sendable (@escaping @Sendable (InferenceService) -> Void) -> Void
    private let logger: Logger
    private var served: [ServedKey: Served] = [:]
    /// Receipts being checked here (at most `maxPendingChecks`).
    private var checking: Set<Bytes32> = []
    private var servedPerPeer: [Ed25519.PublicKey: Int] = [:]
    private var pending: [Bytes32: Pending] = [:]
    private(set) var breakers = CircuitBreakers()
    private(set) var counters = Counters()

    struct Counters: Equatable {
        var servedForPeers = 0
        var refusedBusy = 0
        var forwarded = 0
        var executorFailures = 0
        var malformed = 0
        var receiptsRefused = 0
        var announced = 0
        /// Announced inferences this node re-ran, and those whose verdict was invalid.
        var checksRun = 0
        var checksFailed = 0
        /// Announcements not taken: over the bound, for a model not run here, not drawn, or not
        /// checking out (`announcementsInvalid`).
        var announcementsDropped = 0
        var announcementsInvalid = 0
    }

    init(host: any ServiceHost, settings: Settings = Settings(), local: (any ExecutorBackend)?, context: Context, limits: APILimits = APILimits(),
         logger: Logger, post: @escaping @Sendable (@escaping @Sendable (InferenceService) -> Void) -> Void) {
        self.host = host
        self.settings = settings
        self.local = local
        self.context = context
        self.limits = limits
        self.logger = logger
        self.post = post
    }

    var servesLocally: Bool { local != nil }

    // MARK: - Messages

    func received(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        let message: InferenceMessage
        do {
            message = try InferenceMessage.decode(bytes, limits: limits)
        } catch {
            counters.malformed += 1
            host.disconnect(peer, because: "malformed inference message: \(error)")
            return
        }
        switch message {
        case let .request(id, job): serve(id, job, for: peer)
        case let .ticket(id, ticket, signature): ticketArrived(id, ticket, signature, from: peer)
        case let .cancel(id): cancelServed(ServedKey(peer: peer, id: id))
        case let .prepared(id, request): deliver(id, from: peer, .prepared(request), last: false)
        case let .delta(id, delta): deliver(id, from: peer, .delta(delta), last: false)
        case let .end(id, finish, receipt, output, stopEnd):
            deliver(id, from: peer, .end(finish, receipt: receipt, output: output, stopSequenceEnd: stopEnd), last: true)
        case let .error(id, error): deliver(id, from: peer, .error(error), last: true)
        case let .announce(id, record): announced(id, record, from: peer)
        }
    }

    func peerDisconnected(_ peer: Ed25519.PublicKey) {
        for key in served.keys where key.peer == peer { cancelServed(key) }
        for (id, p) in pending where p.peer == peer { finish(id, with: .lost) }
    }

    func stop() {
        for key in Array(served.keys) { cancelServed(key) }
        for id in Array(pending.keys) { finish(id, with: .lost) }
    }

    // MARK: - Executor side

    private func serve(_ id: Bytes32, _ job: InferenceJob, for peer: Ed25519.PublicKey) {
        let key = ServedKey(peer: peer, id: id)
        guard served[key] == nil else { return }  // a repeated request id is ignored
        guard let local else {
            send(.error(id: id, .overloaded("This node runs no model for inference.")), to: peer)
            return
        }
        guard served.count < settings.maxServed, servedPerPeer[peer, default: 0] < settings.maxServedPerPeer else {
            counters.refusedBusy += 1
            send(.error(id: id, .overloaded("This executor is serving its limit of requests; draw another.")), to: peer)
            return
        }
        let flag = CancelFlag()
        let ticketStream = AsyncStream<Result<IssuedTicket, OpenAIError>>.makeStream()
        let tickets = ticketStream.stream, ticketContinuation = ticketStream.continuation
        served[key] = Served(flag: flag, awaiting: nil)
        servedPerPeer[peer, default: 0] += 1
        counters.servedForPeers += 1
        let limits = self.limits, post = self.post, signing = context.key, unixMillis = context.unixMillis
        let awaitTicket: @Sendable (InferenceRequest) -> Void = { request in
            post { $0.awaitTicket(key, request: request, tickets: ticketContinuation) }
        }
        // Bound to a local first: see `announced`.
        let run = Self.execute
        Task {
            let result = await run(id, job, local, limits, signing, unixMillis, tickets, flag, peer, post, awaitTicket)
            post { service in service.finishServed(key, result.message, result.record) }
        }
    }

    private func finishServed(_ key: ServedKey, _ message: InferenceMessage, _ record: InferenceRecord?) {
        guard let job = served.removeValue(forKey: key) else { return }
        if !job.flag.isSet { send(message, to: key.peer) }
        if let record { context.record(record) }
        job.awaiting?.timer.close()
        servedPerPeer[key.peer, default: 1] -= 1
        if servedPerPeer[key.peer] == 0 { servedPerPeer[key.peer] = nil }
    }

    /// The executor's side of one request, off the loop: prepare, hand the canonical request to
    /// the gateway (`awaitTicket`), wait for its ticket, generate from the tape it seeds while
    /// streaming deltas, and sign the receipt. Returns the last message and the record to keep.
    private static func execute(
        _ id: Bytes32, _ job: InferenceJob, on local: any ExecutorBackend, limits: APILimits, key: Ed25519.SigningKey,
        unixMillis: @escaping @Sendable () -> UInt64, tickets: AsyncStream<Result<IssuedTicket, OpenAIError>>, flag: CancelFlag,
        peer: Ed25519.PublicKey, onLoop: @escaping @Sendable (@escaping @Sendable (InferenceService) -> Void) -> Void,
        awaitTicket: @Sendable (InferenceRequest) -> Void
    ) async -> (message: InferenceMessage, record: InferenceRecord?) {
        do throws(OpenAIError) {
            let prepared = try await local.prepare(job, limits: limits)
            let request = try TicketedInference.canonicalRequest(job, prepared)
            awaitTicket(request)
            var iterator = tickets.makeAsyncIterator()
            guard let arrival = await iterator.next() else {
                throw .overloaded("The gateway sent no ticket for the prepared request; it was dropped.")
            }
            let issued = try arrival.get()
            let generated = try await TicketedInference.generate(job, prepared, under: issued, on: local, key: key, roles: .executor,
                                                                 unixMillis: unixMillis) { delta in
                onLoop { $0.send(.delta(id: id, delta), to: peer, orCancel: flag) }
                return !flag.isSet
            }
            let record = generated.record
            return (.end(id: id, finish: generated.output.outcome.finishReason, receipt: record.receipt, output: record.output,
                         stopSequenceEnd: record.stopSequenceEnd), record)
        } catch {
            return (.error(id: id, error), nil)
        }
    }

    /// The job is prepared: tells the gateway its canonical request and waits (bounded) for the ticket.
    private func awaitTicket(_ key: ServedKey, request: InferenceRequest,
                             tickets: AsyncStream<Result<IssuedTicket, OpenAIError>>.Continuation) {
        guard served[key] != nil, !(served[key]!.flag.isSet) else {
            tickets.finish()
            return
        }
        let timer = host.makeTimer()
        served[key]!.awaiting = AwaitingTicket(request: request, tickets: tickets, timer: timer)
        timer.schedule(after: settings.ticketTimeout, repeatingEvery: nil) { [weak self] in
            guard let self, let awaiting = served[key]?.awaiting else { return }
            served[key]!.awaiting = nil
            awaiting.tickets.finish()
            awaiting.timer.close()
        }
        send(.prepared(id: key.id, request), to: key.peer)
    }

    /// A gateway's ticket for a job it asked for: checked here (its gateway, network, request
    /// digest and signature; the epoch's beacon known) before the job may generate.
    private func ticketArrived(_ id: Bytes32, _ ticket: InferenceTicket, _ signature: Ed25519.Signature, from peer: Ed25519.PublicKey) {
        let key = ServedKey(peer: peer, id: id)
        guard let awaiting = served[key]?.awaiting else { return }  // none asked for (or already given): ignored
        served[key]!.awaiting = nil
        awaiting.timer.close()
        let result: Result<IssuedTicket, OpenAIError>
        if ticket.gateway != peer || ticket.networkID != context.networkID || ticket.requestDigest != awaiting.request.digest {
            result = .failure(.invalid(nil, "The ticket does not match the request (gateway, network or request digest differ)."))
        } else if (try? ticket.verify(signature)) == nil {
            result = .failure(.invalid(nil, "The ticket's signature is not the gateway's."))
        } else if let beacon = context.beacon(ticket.epoch) {
            result = .success(IssuedTicket(request: awaiting.request, ticket: ticket, signature: signature, beacon: beacon))
        } else {
            result = .failure(.overloaded("This executor does not know epoch \(ticket.epoch)'s final table (its beacon seeds the tape); draw another."))
        }
        awaiting.tickets.yield(result)
        awaiting.tickets.finish()
    }

    private func cancelServed(_ key: ServedKey) {
        guard let job = served[key] else { return }
        job.flag.set()
        if let awaiting = job.awaiting {
            served[key]!.awaiting = nil
            awaiting.timer.close()
            awaiting.tickets.finish()
        }
    }

    /// A piece of output for a gateway; a gateway whose queue is full (or gone) stops the job.
    private func send(_ message: InferenceMessage, to peer: Ed25519.PublicKey, orCancel flag: CancelFlag) {
        guard !flag.isSet else { return }
        if !host.send(message.encoded(), tag: Self.tag, to: peer, priority: .control) { flag.set() }
    }

    @discardableResult
    private func send(_ message: InferenceMessage, to peer: Ed25519.PublicKey) -> Bool {
        host.send(message.encoded(), tag: Self.tag, to: peer, priority: .control)
    }

    // MARK: - Gateway side

    /// Sends `job` to `peer` and returns its events, or nil when it cannot be sent (no session, a
    /// full queue, too many requests waiting).
    func forward(_ id: Bytes32, _ job: InferenceJob, to peer: Ed25519.PublicKey) -> AsyncStream<RemoteEvent>? {
        guard pending[id] == nil, pending.count < settings.maxPending else { return nil }
        let (events, continuation) = AsyncStream<RemoteEvent>.makeStream()
        guard send(.request(id: id, job: job), to: peer) else { return nil }
        let timer = host.makeTimer()
        pending[id] = Pending(peer: peer, events: continuation, timer: timer)
        arm(id, after: settings.firstEventTimeout)
        counters.forwarded += 1
        return events
    }

    // MARK: - Checks (Specs/inference.md §6-7)

    /// Tells `members` of the model's group (not the executor, not this node) about an inference
    /// this gateway checked, so each can decide privately whether to re-run it.
    func announce(_ record: InferenceRecord, to members: [Ed25519.PublicKey]) {
        let bytes = InferenceMessage.announce(id: record.receiptID, record).encoded()
        for member in members where member != record.receipt.receipt.executor && member != context.key.publicKey {
            if host.send(bytes, tag: Self.tag, to: member, priority: .forward) { counters.announced += 1 }
        }
    }

    /// An inference a gateway announced: taken when this node runs its model, has room, the
    /// receipt checks against its ticket (§5.1) and this node's private draw (§6) says so; then
    /// re-run off the loop and the verdict recorded.
    private func announced(_ id: Bytes32, _ record: InferenceRecord, from peer: Ed25519.PublicKey) {
        let receipt = record.receipt.receipt
        guard id == record.receiptID, let local, context.runs(receipt.model), checking.count < settings.maxPendingChecks,
              !checking.contains(id), receipt.executor != context.key.publicKey else {
            counters.announcementsDropped += 1
            return
        }
        guard let beacon = context.beacon(record.ticket.epoch),
              (try? IssuedTicket(request: record.request, ticket: record.ticket, signature: record.gatewaySignature, beacon: beacon)
                .check(record.receipt, from: receipt.executor, output: record.output, stopSequenceEnd: record.stopSequenceEnd)) != nil else {
            counters.announcementsInvalid += 1
            logger.warning("an announced inference does not check", metadata: ["gateway": "\(peer.hex.prefix(16))", "receipt": "\(id.hex.prefix(16))"])
            return
        }
        let rate = InferenceCheckSampler.rate(traffic: 0, parameters: settings.checkParameters)
        guard InferenceCheckSampler.decide(key: context.key, networkID: context.networkID, receipt: receipt, rate: rate).checks else {
            counters.announcementsDropped += 1
            return
        }
        checking.insert(id)
        let parameters = settings.checkParameters, post = self.post, unixMillis = context.unixMillis
        // Bound to a local first: calling the static method by `Self.` inside the task trips the
        // compiler's region-based isolation checker (Swift 6.3, "pattern ... does not understand").
        let recheck = Self.recheck
        Task {
            let outcome = await recheck(record, local, parameters)
            post { service in service.checked(record, outcome, at: unixMillis()) }
        }
    }

    /// Re-runs `record` on `local` teacher-forced with the receipt's seed and counts flips.
    private static func recheck(_ record: InferenceRecord, on local: any ExecutorBackend,
                                parameters: InferenceCheckParameters) async -> Result<InferenceRecord.Check, OpenAIError> {
        let request = record.request
        var sampling = InferenceJob(model: request.model, input: .text(""))
        sampling = TicketedInference.canonicalJob(sampling, request)
        if request.isGreedy { sampling.temperature = 0 }
        let clock = ContinuousClock(), start = clock.now
        let output = record.output.map(Int.init)
        do throws(OpenAIError) {
            let choices = try await local.recompute(model: request.model, promptTokens: request.promptTokens.map(Int.init), outputTokens: output,
                                                    sampling: sampling, tapeSeed: request.isGreedy ? nil : record.receipt.receipt.seed)
            guard choices.count == output.count else { throw .internalError("the worker re-ran \(choices.count) of \(output.count) positions") }
            let flips = zip(choices, output).filter { $0.token != $1 }
            let outOfSet = flips.filter { $0.0.margin == nil }.count
            return .success(InferenceRecord.Check(
                positions: UInt32(output.count), flips: UInt32(flips.count), outOfSet: UInt32(outOfSet),
                valid: FlipTest.passes(flips: flips.count, positions: output.count, parameters: parameters),
                durationMs: UInt32(clamping: start.duration(to: clock.now).nanoseconds / 1_000_000)))
        } catch {
            return .failure(error)
        }
    }

    private func checked(_ record: InferenceRecord, _ outcome: Result<InferenceRecord.Check, OpenAIError>, at now: UInt64) {
        checking.remove(record.receiptID)
        switch outcome {
        case let .success(check):
            counters.checksRun += 1
            if !check.valid { counters.checksFailed += 1 }
            var kept = record
            kept.roles = .validator
            kept.check = check
            kept.recordedAtMs = now
            context.record(kept)
            logger.info("checked an inference", metadata: [
                "receipt": "\(record.receiptID.hex.prefix(16))", "executor": "\(record.receipt.receipt.executor.hex.prefix(16))",
                "flips": "\(check.flips)", "positions": "\(check.positions)", "verdict": "\(check.valid ? "valid" : "invalid")"])
        case let .failure(error):
            logger.warning("could not check an inference", metadata: ["receipt": "\(record.receiptID.hex.prefix(16))", "error": "\(error.message)"])
        }
    }

    /// Sends the ticket the gateway signed for the executor's prepared request.
    func sendTicket(_ id: Bytes32, _ issued: IssuedTicket) {
        guard let p = pending[id] else { return }
        send(.ticket(id: id, issued.ticket, signature: issued.signature), to: p.peer)
    }

    /// The gateway gave up on `id` (its client went away, or it timed out): tells the executor.
    func cancel(_ id: Bytes32) {
        guard let p = pending[id] else { return }
        send(.cancel(id: id), to: p.peer)
        finish(id, with: nil)
    }

    func executorSucceeded(_ executor: Bytes32) { breakers.succeeded(executor) }

    func receiptRefused() { counters.receiptsRefused += 1 }

    func executorFailed(_ executor: Bytes32) {
        counters.executorFailures += 1
        breakers.failed(executor, now: host.now())
    }

    func admits(_ executor: Bytes32) -> Bool { breakers.admits(executor, now: host.now()) }

    func openCircuits() -> Set<Bytes32> { breakers.open(now: host.now()) }

    private func deliver(_ id: Bytes32, from peer: Ed25519.PublicKey, _ event: RemoteEvent, last: Bool) {
        // Events for requests this node did not send to that peer are dropped: a late answer after
        // a cancel is normal, and nothing else can be forged into another executor's request.
        guard let p = pending[id], p.peer == peer else { return }
        if last {
            finish(id, with: event)
        } else {
            p.events.yield(event)
            // After the canonical request the first text is still to come.
            if case .prepared = event { arm(id, after: settings.firstEventTimeout) } else { arm(id, after: settings.idleTimeout) }
        }
    }

    private func arm(_ id: Bytes32, after delay: Duration) {
        pending[id]?.timer.schedule(after: delay, repeatingEvery: nil) { [weak self] in
            guard let self, let p = pending[id] else { return }
            send(.cancel(id: id), to: p.peer)
            finish(id, with: .timedOut)
        }
    }

    private func finish(_ id: Bytes32, with event: RemoteEvent?) {
        guard let p = pending.removeValue(forKey: id) else { return }
        p.timer.close()
        if let event { p.events.yield(event) }
        p.events.finish()
    }

    var pendingCount: Int { pending.count }
    var servedCount: Int { served.count }
}

/// Set when a served job must stop: its gateway cancelled, went away, or cannot take more output.
/// Read by the job's task at each token, set on the loop.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
