import ChorusCrypto
import ChorusMesh
import ChorusWire
import Logging

/// Gossip (Specs/gossip.md): the pure `GossipRouter` fed with session messages of protocol tag 1,
/// its heartbeat, and its directives carried out through the host. Every gossiped payload is a
/// signed statement of this network; validating a message *is* ingesting it (the intake decodes,
/// verifies, admits and stores it, `StatementIntake.validate`), so an invalid statement is never
/// forwarded and its sender is penalised by the router's score.
///
/// The service also keeps what the CLI asks about (`GossipJournal`: deliveries and traces). Its
/// times are Unix nanoseconds from an injected clock (`unixNanos`), as the router's are the host's
/// monotonic ones: the service reads no clock itself. Peer scores go to the composition every
/// `scoreSavingHeartbeats` heartbeats and at stop (`NodeEvent.gossipScores`), to be remembered
/// across restarts.
final class GossipService {
    /// The session-message protocol tag of gossip RPCs (Specs/transport.md §4).
    static let tag: UInt8 = 1
    /// Scores are handed on to be saved every 15 heartbeats (~10 s at the default 0.7 s) and at stop.
    static let scoreSavingHeartbeats = 15
    /// Bytes of a gossip payload kept for an own statement's header and signature: a body may
    /// take the rest.
    static let statementOverhead = 512
    /// Topic names: 1 to 64 bytes of `[a-z0-9/._-]`.
    static let topicAlphabet = Set("abcdefghijklmnopqrstuvwxyz0123456789/._-".utf8)

    static func isValidTopic(_ topic: String) -> Bool {
        (1...GossipRPC.maxTopicLength).contains(topic.utf8.count) && topic.utf8.allSatisfy { topicAlphabet.contains($0) }
    }

    private unowned let host: any ServiceHost
    private let intake: StatementIntake
    /// The wall clock in Unix nanoseconds: journal times and the floor of own statements' `seq`.
    private let unixNanos: () -> UInt64
    /// The largest gossip RPC a peer may send (the session's message limit).
    private let maxMessageSize: Int
    private let logger: Logger
    /// The pure router (read for the node's status and `meshStatus`).
    private(set) var router: GossipRouter
    private var journal = GossipJournal()
    /// The last `seq` used for an own statement (they rise strictly, also across restarts).
    private var lastSeq: UInt64 = 0
    private(set) var heartbeats = 0
    private let timer: any ServiceTimer
    private var isRunning = false

    /// - Parameters:
    ///   - settings: the router's; its payload limit is lowered to fit `maxMessageSize` with room
    ///     for the RPC around it.
    ///   - seed: seeds the router's peer sampling.
    ///   - intake: where gossiped statements are verified and taken.
    ///   - unixNanos: the wall clock, in Unix nanoseconds.
    init(host: any ServiceHost, settings: GossipSettings, maxMessageSize: Int, seed: UInt64, intake: StatementIntake,
         unixNanos: @escaping () -> UInt64, logger: Logger) {
        var settings = settings
        settings.maxPayload = min(settings.maxPayload, maxMessageSize - 1024)
        self.host = host
        self.router = GossipRouter(settings: settings, seed: seed)
        self.intake = intake
        self.unixNanos = unixNanos
        self.maxMessageSize = maxMessageSize
        self.logger = logger
        self.timer = host.makeTimer()
    }

    /// Joins the meshes of `topics` (invalid names are skipped) and starts the heartbeat.
    func start(topics: [Topic]) {
        guard !isRunning else { return }
        isRunning = true
        for topic in topics where Self.isValidTopic(topic) {
            perform(router.subscribe(topic, now: host.now()))
        }
        let interval = router.settings.heartbeat
        timer.schedule(after: interval, repeatingEvery: interval) { [weak self] in self?.heartbeat() }
    }

    /// Stops the heartbeat and hands the scores on to be saved one last time.
    func stop() {
        timer.close()
        guard isRunning else { return }
        isRunning = false
        host.emit(.gossipScores(router.scores))
    }

    // MARK: - Inputs

    /// A session came up. Loopback peers (devnets, the lab's relays) share one "IP" without being
    /// colocated: they get no colocation penalty, as they get no per-group connection limit either.
    func peerConnected(_ peer: Ed25519.PublicKey, outbound: Bool, remote: NetAddress?) {
        let address = remote.flatMap { $0.isLoopback ? nil : $0 }
        perform(router.onPeerConnected(peer, outbound: outbound, address: address, now: host.now()))
    }

    /// The session ended; the next heartbeats refill the mesh slots it held.
    func peerDisconnected(_ peer: Ed25519.PublicKey) {
        router.onPeerDisconnected(peer, now: host.now())
    }

    /// A gossip RPC from `peer`; a malformed one closes its session.
    func received(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        let rpc: GossipRPC
        do { rpc = try GossipRPC(decoding: bytes, maxPayload: maxMessageSize) } catch {
            host.disconnect(peer, because: "malformed gossip RPC: \(error)")
            return
        }
        let time = unixNanos()
        for message in rpc.messages { journal.received(message.id, from: peer, at: time) }
        perform(router.onRPC(rpc, from: peer, now: host.now()))
    }

    /// Scores from an earlier run (so a restart does not forgive misbehaviour).
    func restoreScores(_ saved: [Ed25519.PublicKey: PeerScore]) {
        router.restoreScores(saved)
    }

    /// An offence seen outside gossip (a forged peer record): the peer's behaviour penalty passes
    /// the threshold at once (`GossipRouter.penalize`).
    func penalize(_ peer: Ed25519.PublicKey) {
        perform(router.penalize(peer))
    }

    private func heartbeat() {
        perform(router.onHeartbeat(now: host.now()))
        heartbeats += 1
        if heartbeats % Self.scoreSavingHeartbeats == 0 { host.emit(.gossipScores(router.scores)) }
    }

    // MARK: - Publishing

    /// The largest body an own statement may carry.
    var maxBody: Int { router.settings.maxPayload - Self.statementOverhead }

    /// The `seq` of the next own statement: above the last one, and at least the wall clock in
    /// Unix nanoseconds, so it keeps rising across restarts.
    func nextSeq() -> UInt64 {
        lastSeq = max(lastSeq + 1, unixNanos())
        return lastSeq
    }

    /// Gossips an own signed statement on `topic`: journaled as delivered (with no sender) and
    /// flooded to the topic's peers ahead of forwarded traffic (`SendPriority.publish`). Returns
    /// how many peers it was queued to (0: nobody yet; the heartbeat's IHAVE announces it later).
    @discardableResult
    func publish(_ statement: SignedStatement, on topic: Topic) -> Int {
        let message = GossipMessage(topic: topic, payload: statement.encoded)
        let time = unixNanos()
        journal.received(message.id, from: nil, at: time)
        journal.delivered(message, from: nil, at: time)
        let (directives, peers) = router.publish(message, now: host.now())
        logger.debug("published", metadata: ["topic": "\(topic)", "id": "\(message.id.hex.prefix(16))", "peers": "\(peers)"])
        perform(directives, ownMessage: message.id)
        return peers
    }

    /// Joins `topic`'s mesh (grafting at once).
    func subscribe(_ topic: Topic) {
        perform(router.subscribe(topic, now: host.now()))
    }

    // MARK: - Directives

    /// Carries out the router's directives (send priorities: `priority(of:ownMessage:)`).
    func perform(_ directives: [GossipRouter.Directive], ownMessage: Bytes32? = nil) {
        for directive in directives {
            switch directive {
            case let .send(peer, rpc):
                host.send(rpc.encoded(), tag: Self.tag, to: peer, priority: Self.priority(of: rpc, ownMessage: ownMessage))
            case let .validate(message, from):
                // Verified off the loop by the intake; the router waits for the verdict.
                intake.validate(message.payload, from: from) { [weak self] result in
                    guard let self else { return }
                    perform(router.onValidation(id: message.id, result: result, now: host.now()))
                }
            case let .deliver(message, from):
                journal.delivered(message, from: from, at: unixNanos())
            case let .disconnect(peer, reason):
                host.disconnect(peer, because: "gossip: \(reason)")
            }
        }
    }

    /// The send queue of an RPC: one carrying this node's own message (`ownMessage`) at `.publish`,
    /// other payloads at `.forward`, subscriptions, GRAFT, PRUNE and choking at `.control`, and
    /// gossip alone (IHAVE, IWANT, IDONTWANT) at `.lazy`, the first dropped.
    static func priority(of rpc: GossipRPC, ownMessage: Bytes32?) -> SendPriority {
        if let ownMessage, rpc.messages.contains(where: { $0.id == ownMessage }) { return .publish }
        if !rpc.messages.isEmpty { return .forward }
        if rpc.subscribe.isEmpty && rpc.unsubscribe.isEmpty && rpc.graft.isEmpty && rpc.prune.isEmpty
            && rpc.choke.isEmpty && rpc.unchoke.isEmpty {
            return .lazy
        }
        return .control
    }

    // MARK: - Introspection

    func messages(topic: Topic, since: Int, limit: Int) -> [DeliveredMessage] {
        journal.messages(topic: topic, since: since, limit: limit)
    }

    func trace(_ id: Bytes32) -> [MessageReceipt]? { journal.trace(id) }

    func meshStatus() -> MeshStatus {
        let topics = router.subscriptions.sorted().map { topic in
            MeshStatus.TopicMesh(topic: topic, peers: (router.mesh[topic] ?? []).map(\.hex).sorted())
        }
        let scores = router.connectedPeers.map { MeshStatus.PeerScoreEntry(publicKey: $0.hex, score: router.score($0)) }
        let c = router.counters
        return MeshStatus(topics: topics, scores: scores, counters: .init(
            duplicates: c.duplicates, firstDeliveries: c.firstDeliveries, invalid: c.invalid,
            ignoredFromGraylisted: c.ignoredFromGraylisted, iwantRefusedOverLimit: c.iwantRefusedOverLimit,
            ihaveIgnored: c.ihaveIgnored, graftsDuringBackoff: c.graftsDuringBackoff))
    }
}

@available(*, unavailable, message: "GossipService is confined to its host's executor")
extension GossipService: Sendable {}
