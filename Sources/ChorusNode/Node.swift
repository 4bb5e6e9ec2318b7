import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusStore
import ChorusWire
import CoreMetrics
import Foundation
import Logging

/// The node shell: runs the pure connection rules (`ConnectionManager`) on one libuv loop, carries
/// out their directives with real sockets, and owns every peer link.
///
/// The actor's executor *is* the loop (`unownedExecutor`), so its methods run on the loop thread
/// and can use loop-confined objects (listeners, connections, timers) directly; loop callbacks
/// re-enter it with `assumeIsolated`. Other threads simply `await` its methods.
///
/// Lifecycle: `init`, then `start()` (listen, load remembered peers, begin dialing), optionally
/// `startControlServer(path:)`, and finally `stop()` (tells peers, closes everything), after which
/// the owner shuts the loop down.
public actor Node {
    /// The loop this node runs on; the owner shuts it down after `stop()`.
    public nonisolated let loop: EventLoop
    /// This node's identity.
    public nonisolated let publicKey: Ed25519.PublicKey
    public nonisolated let configuration: NodeConfiguration
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    let signingKey: Ed25519.SigningKey
    /// The Noise static key of this run; the identity proof binds it to `signingKey`.
    let noiseStatic: X25519.PrivateKey
    let peerStore: PeerStore?
    let logger: Logger
    var manager: ConnectionManager
    var links: [PeerLink.ID: PeerLink] = [:]
    var listeners: [TCPListener] = []
    var tickTimer: LoopTimer?
    var controlServer: UnixListener?
    var counters = NodeCounters()
    var handlers: [UInt8: @Sendable (Ed25519.PublicKey, ArraySlice<UInt8>) -> Void] = [:]
    var pingWaiters: [PingKey: PingWaiter] = [:]
    /// The address announced in handshakes, once listening.
    var advertisedAddress: String?
    /// Peers found on another network file (Node+NetworkCheck.swift), by key.
    var networkMismatches: [Ed25519.PublicKey: NetworkMismatchInfo] = [:]
    /// This node's network claim, computed once when epochs are attached (the digest encodes
    /// every genesis participant: too much to redo for each handshake).
    var networkClaim: NetworkParametersClaim?
    var isRunning = false
    /// Gossip (Services/Gossip): the router, its heartbeat, what the CLI can ask about, and the
    /// `seq` of own statements.
    let gossipSeed: UInt64
    private(set) lazy var gossip = makeGossip()
    /// Where gossiped statements are ingested (validation is ingestion); nil verifies only.
    let statements: StatementStore?
    /// The policy statements are validated against when there is no store.
    let statementPolicy: StatementPolicy
    /// Discovery (Services/Discovery): the address book, peer exchange and signed peer records.
    let addressStore: AddressBookStore?
    let discoverySeed: UInt64
    private(set) lazy var discovery = makeDiscovery()
    /// Epochs (Node+Epochs.swift): nil until `attachEpochs`.
    var epochs: EpochState?
    var epochTimer: LoopTimer?
    /// PoC (Node+PoC.swift, Node+Proofs.swift, Node+Validation.swift): nil without a worker.
    var poc: PoCState?
    /// Anti-entropy (Services/Sync); nil until started or without a store.
    var sync: SyncService?
    /// Where statements from peers are verified (off the loop), admitted and stored (Services/Intake).
    private(set) lazy var intake = StatementIntake(
        host: serviceHost, store: statements, policy: statementPolicy, localIdentity: publicKey,
        epochBound: { [unowned self] in assumeIsolated { $0.latestAcceptedEpoch() } },
        isBudgeted: { [unowned self] author in assumeIsolated { $0.isBudgeted(author) } })
    let startedAt = ContinuousClock.now
    /// SWIM failure detection (Services/Membership); nil until started or without a UDP socket.
    var membership: MembershipService?
    /// Inference routing (Services/Inference); nil until `attachInference`.
    var inference: InferenceService?
    /// Inferences served or routed here (nil without a store).
    var inferenceRecords: InferenceRecordStore?
    /// The UDP sockets membership sends and receives on, one per listen address.
    var udpSockets: [UDPSocket] = []
    /// What services call to reach sessions, sockets and timers.
    /// Metrics (Metrics/): handles from the factory given to `init`, and the loop-lag probe that
    /// `/healthz` reads without entering the actor.
    let metrics: NodeMetrics
    public nonisolated let loopLag: LoopLagProbe
    private(set) lazy var serviceHost = LoopServiceHost(
        node: self, pool: VerificationPool(threads: configuration.verificationThreads ?? ProcessInfo.processInfo.activeProcessorCount))

    /// How often the connection rules get a tick (handshake deadlines, re-dials, keepalive).
    static let tickInterval: Duration = .milliseconds(100)

    /// - Parameters:
    ///   - peerStore: where dialable peers and gossip scores are remembered; nil keeps them in memory only.
    ///   - statements: where gossiped and synced statements are ingested; nil verifies without storing
    ///     (and disables anti-entropy).
    ///   - addressStore: where the address book is saved; nil keeps it in memory only.
    ///   - seed: seeds the jitter and sampling of the pure state machines; random by default.
    ///   - metrics: where the node's metrics go (ChorusAdmin's Prometheus factory); nil discards them.
    public init(configuration: NodeConfiguration, signingKey: Ed25519.SigningKey, peerStore: PeerStore?,
                statements: StatementStore? = nil, addressBook addressStore: AddressBookStore? = nil,
                loop: EventLoop, logger: Logger,
                seed: UInt64 = UInt64.random(in: .min ... .max), metrics: (any MetricsFactory)? = nil) {
        self.loop = loop
        self.configuration = configuration
        self.signingKey = signingKey
        self.publicKey = signingKey.publicKey
        self.noiseStatic = X25519.PrivateKey.generate()
        self.peerStore = peerStore
        var logger = logger
        logger[metadataKey: "node"] = "\(signingKey.publicKey.hex.prefix(8))"
        self.logger = logger
        self.manager = ConnectionManager(localIdentity: signingKey.publicKey, settings: configuration.connections, seed: seed)
        self.gossipSeed = seed ^ 0x9e37_79b9_7f4a_7c15
        self.statements = statements
        self.addressStore = addressStore
        self.discoverySeed = seed ^ 0x5851_f42d_4c95_7f2d
        self.statementPolicy = statements?.policy ?? StatementPolicy(networkID: configuration.networkID, allowedTypes: nil)
        self.metrics = NodeMetrics(factory: metrics ?? NOOPMetricsHandler.instance)
        self.loopLag = LoopLagProbe(factory: metrics ?? NOOPMetricsHandler.instance)
    }

    // MARK: - Lifecycle

    /// Listens on the configured addresses, adds remembered peers and seeds as dial candidates, and
    /// starts the periodic tick. Remembered peers are loaded from the store here, before the first
    /// dial, so a node restarted without seeds reconnects at once.
    public func start() throws(NodeError) {
        guard !isRunning else { return }
        var seeds: [(NetAddress, Ed25519.PublicKey?)] = []
        for seed in configuration.seeds {
            do { seeds.append((try NetAddress(parsing: seed), nil)) } catch { throw .invalidAddress(seed, error.description) }
        }
        for text in configuration.listen {
            let address: SocketAddress
            do { address = try SocketAddress(parsing: text) } catch { throw .invalidAddress(text, error.description) }
            do {
                let listener = try TCPListener(bindingTo: address, on: loop) { [weak self] connection in
                    self?.enter(carrying: connection) { $0.accepted($1) }
                }
                listeners.append(listener)
                logger.info("listening", metadata: ["address": "\(listener.localAddress)"])
            } catch {
                listeners.forEach { $0.close() }
                listeners = []
                throw .listenFailed(text, error.description)
            }
        }
        advertisedAddress = configuration.advertise ?? listeners.first.flatMap { listener in
            let host = listener.localAddress.host
            return host == "0.0.0.0" || host == "::" ? nil : listener.localAddress.description
        }
        startDiscovery()
        var candidates: [(NetAddress, Ed25519.PublicKey?)] = []
        if let peerStore {
            do {
                let (peers, skipped) = try loadPeers(peerStore)
                if skipped > 0 { logger.warning("skipped unreadable remembered peers", metadata: ["count": "\(skipped)"]) }
                for peer in peers {
                    if let address = try? NetAddress(parsing: peer.address) { candidates.append((address, peer.identity)) }
                }
                logger.info("loaded remembered peers", metadata: ["count": "\(peers.count)"])
                gossip.restoreScores(try loadScores(peerStore))
            } catch {
                logger.error("cannot read remembered peers; continuing with seeds only", metadata: ["error": "\(error)"])
            }
        }
        candidates += seeds
        manager.addCandidates(candidates)
        dialAnchors()
        discovery.learnDialable(candidates)
        isRunning = true
        let timer = LoopTimer(on: loop)
        timer.schedule(after: .zero, repeatingEvery: Self.tickInterval) { [weak self] in
            self?.assumeIsolated { $0.tick() }
        }
        tickTimer = timer
        metrics.startProbe(loopLag, on: loop)
        startGossip()
        startSync()
        startMembership()
    }

    /// Enters the actor from a loop callback with a loop-confined value (a connection, a link). The
    /// value never leaves the loop thread, which `LoopBound` checks; the box only tells the compiler so.
    nonisolated func enter<Value>(carrying value: Value, _ body: @Sendable (isolated Node, Value) -> Void) {
        let box = LoopBound(value, loop: loop)
        assumeIsolated { body($0, box.value) }
    }

    private nonisolated func loadScores(_ store: PeerStore) throws(StoreError) -> [Ed25519.PublicKey: PeerScore] {
        try store.loadScores()
    }

    /// `PeerStore.load` reads LMDB synchronously; this runs on the loop thread before any I/O is served.
    private nonisolated func loadPeers(_ store: PeerStore) throws(StoreError) -> (peers: [KnownPeer], skipped: Int) {
        try store.load()
    }

    /// Closes every session (telling each peer why), the listeners and the control socket. Call
    /// before shutting the loop down; close messages queued here leave at the end of this loop turn.
    public func stop() {
        guard isRunning else { return }
        isRunning = false
        tickTimer?.close()
        tickTimer = nil
        metrics.stopProbe(loopLag)
        stopGossip()
        stopDiscovery()
        stopSync()
        inference?.stop()
        inference = nil
        epochTimer?.close()
        epochTimer = nil
        if poc != nil {
            for task in poc!.generations.values { task.cancel() }
            poc!.healthTimer?.close()
            poc!.healthTimer = nil
        }
        statements?.flush()
        stopMembership()
        serviceHost.shutdown()
        listeners.forEach { $0.close() }
        listeners = []
        controlServer?.close()
        controlServer = nil
        for link in links.values.sorted(by: { $0.id < $1.id }) { link.close(.shuttingDown) }
        for key in Array(pingWaiters.keys) { finishPing(key, with: .failure(.notRunning)) }
        logger.info("stopped")
    }

    // MARK: - Application messages

    /// Registers the handler for application messages whose first byte is `tag` (for example the
    /// gossip router's). It runs on the loop; it receives the sender and the bytes after the tag.
    public func setHandler(for tag: UInt8, _ handler: @escaping @Sendable (Ed25519.PublicKey, ArraySlice<UInt8>) -> Void) {
        handlers[tag] = handler
    }

    /// Queues `payload` under protocol `tag` for `peer`. Returns false when there is no session with
    /// the peer or its queue for `priority` is full (the drop is counted).
    @discardableResult
    public func send(_ payload: [UInt8], tag: UInt8, to peer: Ed25519.PublicKey, priority: SendPriority = .forward) -> Bool {
        guard let id = manager.establishedPeers[peer], let link = links[id] else { return false }
        var message = [UInt8]()
        message.reserveCapacity(payload.count + 1)
        message.append(tag)
        message.append(contentsOf: payload)
        let queued = link.send(message, priority: priority)
        if queued { counters.messagesSent += 1 } else { counters.sendDrops += 1 }
        return queued
    }

    /// Stops or resumes reading from `peer`'s session (back-pressure while its statements wait for
    /// verification; TCP flow control then slows the peer down).
    func setReading(from peer: Ed25519.PublicKey, _ on: Bool) {
        guard let id = manager.establishedPeers[peer], let link = links[id] else { return }
        if on { link.connection.startReading() } else { link.connection.stopReading() }
    }

    /// The identities of every established session.
    public var connectedPeers: [Ed25519.PublicKey] { manager.establishedPeers.keys.sorted() }

    /// Adds addresses to dial (as from a seed list or peer exchange).
    public func addPeers(_ addresses: [String]) throws(NodeError) {
        var parsed: [(NetAddress, Ed25519.PublicKey?)] = []
        for text in addresses {
            do { parsed.append((try NetAddress(parsing: text), nil)) } catch { throw .invalidAddress(text, error.description) }
        }
        manager.addCandidates(parsed)
    }

    // MARK: - Ping

    struct PingKey: Hashable {
        let link: PeerLink.ID
        let nonce: UInt64
    }

    struct PingWaiter {
        let continuation: CheckedContinuation<Result<Duration, NodeError>, Never>
        let timer: LoopTimer
        let peer: Ed25519.PublicKey
    }

    /// Pings `peer` over its session and returns the round-trip time.
    public func ping(_ peer: Ed25519.PublicKey, timeout: Duration = .seconds(5)) async throws(NodeError) -> Duration {
        guard let id = manager.establishedPeers[peer], let link = links[id], let nonce = link.ping() else {
            throw .notConnected(peer.hex)
        }
        let key = PingKey(link: id, nonce: nonce)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Duration, NodeError>, Never>) in
            self.assumeIsolated { node in
                let timer = LoopTimer(on: node.loop)
                node.pingWaiters[key] = PingWaiter(continuation: continuation, timer: timer, peer: peer)
                timer.schedule(after: timeout) { [weak node] in
                    node?.assumeIsolated { $0.finishPing(key, with: .failure(.pingTimedOut(peer.hex, timeout))) }
                }
            }
        }
        return try result.get()
    }

    func finishPing(_ key: PingKey, with result: Result<Duration, NodeError>) {
        guard let waiter = pingWaiters.removeValue(forKey: key) else { return }
        waiter.timer.close()
        waiter.continuation.resume(returning: result)
    }

    // MARK: - Introspection

    public func status() -> NodeStatus {
        NodeStatus(
            publicKey: publicKey.hex, networkID: configuration.networkID,
            listenAddresses: listeners.map { $0.localAddress.description }, advertisedAddress: advertisedAddress,
            peerCount: manager.establishedPeers.count,
            inbound: established(.inbound), outbound: established(.outbound),
            connecting: manager.connections.count - manager.establishedPeers.count,
            knownAddresses: manager.knownAddresses.count,
            uptimeSeconds: Self.seconds(startedAt.duration(to: .now)), counters: currentCounters,
            meshPeers: gossip.router.mesh.values.reduce(0) { $0 + $1.count }, delivered: gossip.router.counters.firstDeliveries,
            duplicates: gossip.router.counters.duplicates, invalid: gossip.router.counters.invalid, role: peerRole, poc: pocStatus(),
            members: membershipCounts(), networkMismatches: networkMismatchList, inference: inferenceReport())
    }

    public func peers() -> [PeerInfo] {
        manager.establishedPeers.sorted { $0.key < $1.key }.compactMap { identity, id -> PeerInfo? in
            guard let link = links[id] else { return nil }
            return PeerInfo(
                publicKey: identity.hex,
                address: link.connection.peerAddress?.description ?? "unknown",
                advertisedAddress: link.remote?.listenAddress,
                direction: link.direction.rawValue,
                rttMilliseconds: link.rtt.map { Self.seconds($0) * 1000 },
                connectedSeconds: link.establishedAt.map { Self.seconds($0.duration(to: .now)) } ?? 0,
                bytesSent: link.statistics.bytesSent, bytesReceived: link.statistics.bytesReceived,
                messagesSent: link.statistics.messagesSent, messagesReceived: link.statistics.messagesReceived,
                queuedMessages: link.queuedMessages, drops: link.drops.values.reduce(0, +),
                unsentBytes: link.connection.writeQueueSize, pongsWithheld: link.statistics.pongsWithheld)
        }
    }

    /// Connection and intake counters (closes by reason, handshakes, drops, refused statements).
    public var currentCounters: NodeCounters {
        var all = counters
        all.futureStatements = intake.counters.futureStatements
        all.overBudget = intake.counters.overBudget
        all.verificationRefused = intake.counters.refusedByPool + intake.counters.unreadableStore
        discovery.counters.add(to: &all)
        return all
    }

    private func established(_ direction: ConnectionManager.Direction) -> Int {
        manager.establishedPeers.values.filter { links[$0]?.direction == direction }.count
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// The pure layer's clock: monotonic nanoseconds since this node started.
    func now() -> MonotonicTime { monotonicNow() }

    /// `now()` for callers off the actor (the service host); `startedAt` never changes.
    nonisolated func monotonicNow() -> MonotonicTime {
        MonotonicTime(nanoseconds: startedAt.duration(to: .now).nanoseconds)
    }
}
