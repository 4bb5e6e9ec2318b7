import ChorusCrypto
import ChorusInference
import ChorusMesh
import Logging
import Synchronization

/// Inference routing over the mesh (Specs/inference-routing.md), session tag 5. As an executor it
/// runs jobs that gateways send, on this node's worker, streaming text back; as a gateway it keeps
/// the requests it forwarded, feeds their events to the waiting API request, times out executors
/// that stall and tracks their failures (`CircuitBreakers`).
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
    }

    /// What the gateway side hears about a forwarded request.
    enum RemoteEvent: Sendable {
        case delta(CompletionDelta)
        case end(ChorusInference.FinishReason, promptTokens: Int, completionTokens: Int)
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

    private let host: any ServiceHost
    let settings: Settings
    private let local: (any InferenceBackend)?
    private let limits: APILimits
    private let post: @Sendable (@escaping @Sendable (InferenceService) -> Void) -> Void
    private let logger: Logger
    private var served: [ServedKey: CancelFlag] = [:]
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
    }

    init(host: any ServiceHost, settings: Settings = Settings(), local: (any InferenceBackend)?, limits: APILimits = APILimits(),
         logger: Logger, post: @escaping @Sendable (@escaping @Sendable (InferenceService) -> Void) -> Void) {
        self.host = host
        self.settings = settings
        self.local = local
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
        case let .cancel(id): served[ServedKey(peer: peer, id: id)]?.set()
        case let .delta(id, delta): deliver(id, from: peer, .delta(delta), last: false)
        case let .end(id, finish, prompt, completion):
            deliver(id, from: peer, .end(finish, promptTokens: prompt, completionTokens: completion), last: true)
        case let .error(id, error): deliver(id, from: peer, .error(error), last: true)
        }
    }

    func peerDisconnected(_ peer: Ed25519.PublicKey) {
        for (key, flag) in served where key.peer == peer { flag.set() }
        for (id, p) in pending where p.peer == peer { finish(id, with: .lost) }
    }

    func stop() {
        for flag in served.values { flag.set() }
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
        served[key] = flag
        servedPerPeer[peer, default: 0] += 1
        counters.servedForPeers += 1
        let limits = self.limits, post = self.post
        Task {
            let message: InferenceMessage
            do throws(OpenAIError) {
                let outcome = try await local.run(job, limits: limits) { delta in
                    post { $0.send(.delta(id: id, delta), to: peer, orCancel: flag) }
                    return !flag.isSet
                }
                message = .end(id: id, finish: outcome.finishReason, promptTokens: outcome.promptTokens,
                               completionTokens: outcome.completionTokens)
            } catch {
                message = .error(id: id, error)
            }
            post { service in
                if !flag.isSet { service.send(message, to: peer) }
                service.served[key] = nil
                service.servedPerPeer[peer, default: 1] -= 1
                if service.servedPerPeer[peer] == 0 { service.servedPerPeer[peer] = nil }
            }
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

    /// The gateway gave up on `id` (its client went away, or it timed out): tells the executor.
    func cancel(_ id: Bytes32) {
        guard let p = pending[id] else { return }
        send(.cancel(id: id), to: p.peer)
        finish(id, with: nil)
    }

    func executorSucceeded(_ executor: Bytes32) { breakers.succeeded(executor) }

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
            arm(id, after: settings.idleTimeout)
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
