import ChorusCrypto
import ChorusMesh

/// A deterministic discrete-event simulation of N Chorus nodes running the real pure state machines
/// (`Membership`, `GossipRouter`) over a simulated network, on a manual clock.
///
/// Everything random comes from `configuration.seed`, and events run in (time, scheduling order), so a
/// run is a pure function of its configuration and the scenario's calls: a failing seed replays
/// exactly (`traceDigest` fingerprints a run). Faults: loss and latency (`NetworkModel`), partitions,
/// pauses (a paused node processes nothing; its timers and inbox wait until it resumes, and then its
/// timers run before its inbox, as in a libuv loop after SIGCONT), crashes (state lost) and restarts.
///
/// The node "shell" here is minimal and immediate: validation accepts every message at once, and a
/// gossip overlay link (a transport session) goes down when either end's membership declares the
/// other dead and comes back when it sees it alive again (then both memberships get
/// `onPeerConnected`, as a re-dialed session would give them). Link changes reach a paused node's
/// router at once (they stand for kernel-level session state).
///
/// Not thread-safe: one simulation belongs to one test.
public final class Simulation {
    public struct Configuration: Sendable {
        public var nodes: Int
        public var seed: UInt64
        public var network: NetworkModel = .lan
        /// Runs `Membership` on every node when set.
        public var membership: MembershipSettings?
        /// Runs a `GossipRouter` on every node, subscribed to `topic`, when set.
        public var gossip: GossipSettings?
        /// Random overlay: each node opens this many sessions (so ~2× as many per node on average).
        public var gossipOutboundDegree = 8
        public var topic: Topic = "sim"
        /// Nodes that misbehave: their routers' RPCs pass through the adversary before the network.
        public var adversaries: [Int: any GossipAdversary] = [:]

        public init(nodes: Int, seed: UInt64) {
            self.nodes = nodes
            self.seed = seed
        }
    }

    public enum NodeState: Sendable, Equatable {
        case up, paused, crashed
    }

    enum Event {
        case swim(from: Int, to: Int, SWIMMessage)
        case gossip(from: Int, to: Int, GossipRPC)
        case swimTick(node: Int, life: Int, generation: UInt64)
        case heartbeat(node: Int, life: Int)
        case resume(node: Int, life: Int)
        case action(Int)

        var isTimer: Bool {
            switch self {
            case .swimTick, .heartbeat: return true
            default: return false
            }
        }
    }

    public let configuration: Configuration
    public let ids: [Ed25519.PublicKey]
    public private(set) var now = MonotonicTime.zero
    // Per-node state, one array per field (no per-event copies of a node record).
    var states: [NodeState]
    /// Incremented by every crash and restart; timers of an earlier life are ignored.
    var lives: [Int]
    var memberships: [Membership?]
    var routers: [GossipRouter?]
    var tickGenerations: [UInt64]
    /// Events a paused node will process when it resumes.
    var deferred: [[Event]]
    var crashTimes: [[MonotonicTime]]
    var lastResume: [MonotonicTime?]
    var queue = EventQueue<Event>()
    var network: SimulatedNetwork
    var rng: SplitMix64
    let idIndex: [Ed25519.PublicKey: Int]
    var actions: [(Simulation) -> Void] = []
    /// Gossip overlay: neighbors per node, who dialed each edge, and which edges have a session now.
    var neighbors: [[Int]]
    var dialer: [Int: Int] = [:]
    var linkUp: Set<Int> = []
    var recorder: GossipRecorder
    var crashRecords: [CrashDetection] = []

    /// `dead` marks of nodes that had not crashed.
    public private(set) var falseDeaths: [FalseAccusation] = []
    /// `suspect` marks (one per observer) of nodes that were paused then or in the 3 s before: expected,
    /// they must be refuted in time.
    public private(set) var suspectMarksOfPausedNodes = 0
    /// `suspect` marks of running nodes that had not been paused for 3 s: the detector's noise.
    public private(set) var suspectMarksOfRunningNodes = 0
    public private(set) var eventsProcessed = 0
    public private(set) var swimMessagesSent = 0
    public internal(set) var gossipRPCsSent = 0
    /// A fingerprint of everything that happened; equal for equal seeds and scenarios.
    public internal(set) var traceDigest: UInt64 = 0xCBF2_9CE4_8422_2325

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        let n = configuration.nodes
        let ids = (0..<n).map(Simulation.identity)
        self.ids = ids
        idIndex = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        network = SimulatedNetwork(model: configuration.network, nodes: n, seed: Simulation.derive(configuration.seed, 1, 0))
        rng = SplitMix64(seed: Simulation.derive(configuration.seed, 2, 0))
        states = Array(repeating: .up, count: n)
        lives = Array(repeating: 0, count: n)
        memberships = Array(repeating: nil, count: n)
        routers = Array(repeating: nil, count: n)
        tickGenerations = Array(repeating: 0, count: n)
        deferred = Array(repeating: [], count: n)
        crashTimes = Array(repeating: [], count: n)
        lastResume = Array(repeating: nil, count: n)
        neighbors = Array(repeating: [], count: n)
        recorder = GossipRecorder(nodes: n)
        if let settings = configuration.membership {
            let everyone = ids.map { ($0, NetAddress?.none) }
            for i in 0..<n {
                memberships[i] = Membership(localID: ids[i], settings: settings,
                                                 seed: Simulation.derive(configuration.seed, 3, UInt64(i)), knownMembers: everyone)
                if let ds = memberships[i]?.start(now: now) { applyMembership(ds, at: i) }
            }
        }
        if configuration.gossip != nil { buildOverlay() }
    }

    /// The identity of simulated node `i` (deterministic, independent of the seed).
    public static func identity(_ i: Int) -> Ed25519.PublicKey {
        var g = SplitMix64(seed: UInt64(i) &+ 0x5EED)
        let words = (0..<4).map { _ in g.next() }
        let bytes = words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        return Ed25519.PublicKey(Bytes32(bytes) ?? .zero)
    }

    static func derive(_ seed: UInt64, _ a: UInt64, _ b: UInt64) -> UInt64 {
        var g = SplitMix64(seed: seed ^ (a &* 0x9E37_79B9_7F4A_7C15) ^ (b &* 0xC2B2_AE3D_27D4_EB4F))
        return g.next()
    }

    // MARK: - Queries

    public var nodeCount: Int { states.count }
    public func state(of node: Int) -> NodeState { states[node] }
    public func membership(of node: Int) -> Membership? { memberships[node] }
    public func router(of node: Int) -> GossipRouter? { routers[node] }
    /// Nodes currently running or paused (not crashed).
    public var liveNodes: [Int] { states.indices.filter { states[$0] != .crashed } }
    public var messagesLost: Int { network.lost }

    /// Every crash so far with its detections. Observers that crashed themselves before noticing are
    /// left out, since they can no longer notice.
    public var crashDetections: [CrashDetection] {
        crashRecords.map { record in
            let kept = record.observers.filter { o in
                record.detectedAt[o] != nil || !crashTimes[o].contains { $0 >= record.crashedAt }
            }
            return CrashDetection(node: record.node, crashedAt: record.crashedAt, observers: kept,
                                  detectedAt: record.detectedAt)
        }
    }

    // MARK: - Running

    /// Runs every event up to and including `end`, then sets the clock to `end`.
    public func run(until end: MonotonicTime) {
        while let t = queue.nextTime, t <= end, let (time, event) = queue.pop() {
            now = time
            dispatch(event)
        }
        if end > now { now = end }
    }

    public func run(for duration: Duration) { run(until: now + duration) }

    /// Calls `action` at simulated time `time` (scenario scripting).
    public func schedule(at time: MonotonicTime, _ action: @escaping (Simulation) -> Void) {
        actions.append(action)
        queue.push(.action(actions.count - 1), at: time)
    }

    func dispatch(_ event: Event) {
        eventsProcessed += 1
        switch event {
        case let .swim(from, to, message):
            mix(1, UInt64(from), UInt64(to))
            guard admit(event, at: to) else { return }
            if let ds = memberships[to]?.onMessage(message, from: ids[from], now: now) { applyMembership(ds, at: to) }
        case let .gossip(from, to, rpc):
            mix(2, UInt64(from), UInt64(to))
            guard linkUp.contains(edgeKey(from, to)), admit(event, at: to) else { return }
            for m in rpc.messages { recorder.receivedCopy(m.id, at: to) }
            if let ds = routers[to]?.onRPC(rpc, from: ids[from], now: now) { applyGossip(ds, at: to) }
        case let .swimTick(node, life, generation):
            guard lives[node] == life, tickGenerations[node] == generation, admit(event, at: node) else { return }
            mix(3, UInt64(node), generation)
            if let ds = memberships[node]?.onTick(now: now) { applyMembership(ds, at: node) }
        case let .heartbeat(node, life):
            guard lives[node] == life, admit(event, at: node), let settings = configuration.gossip else { return }
            mix(4, UInt64(node), 0)
            if let ds = routers[node]?.onHeartbeat(now: now) { applyGossip(ds, at: node) }
            queue.push(.heartbeat(node: node, life: life), at: now + settings.heartbeat)
        case let .resume(node, life):
            guard lives[node] == life, states[node] == .paused else { return }
            mix(5, UInt64(node), 0)
            states[node] = .up
            lastResume[node] = now
            let held = deferred[node]
            deferred[node] = []
            // Like a libuv loop after SIGCONT: due timers first, then the inbox.
            for e in held where e.isTimer { dispatch(e) }
            for e in held where !e.isTimer { dispatch(e) }
        case let .action(index):
            mix(6, UInt64(index), 0)
            actions[index](self)
        }
    }

    /// True when `node` runs the event now; a paused node keeps it for later, a crashed one drops it.
    private func admit(_ event: Event, at node: Int) -> Bool {
        switch states[node] {
        case .up: return true
        case .paused:
            deferred[node].append(event)
            return false
        case .crashed: return false
        }
    }

    func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var h = (traceDigest ^ now.nanoseconds) &* prime
        h = (h ^ a) &* prime
        h = (h ^ b) &* prime
        traceDigest = (h ^ c) &* prime
    }

    // MARK: - Faults

    /// The node stops at once and loses its state; messages in flight to it are lost.
    public func crash(_ node: Int) {
        guard states[node] != .crashed else { return }
        mix(7, UInt64(node), 0)
        states[node] = .crashed
        lives[node] += 1
        deferred[node] = []
        crashTimes[node].append(now)
        memberships[node] = nil
        routers[node] = nil
        if configuration.membership != nil {
            // The nodes that must notice: up, and counting the node as a live member. One that
            // (re)joined just now and has not admitted it yet (admission pings it first,
            // Specs/membership.md §1) has nothing to notice.
            let observers = states.indices.filter { o in
                o != node && states[o] != .crashed
                    && memberships[o]?.member(ids[node]).map { $0.status != .dead } == true
            }
            crashRecords.append(CrashDetection(node: node, crashedAt: now, observers: observers, detectedAt: [:]))
        } else {
            // Without membership, sessions to a crashed process close at once (TCP reset).
            for j in neighbors[node] { disconnect(node, j) }
        }
    }

    /// Starts a crashed node again with empty state; it joins through `seeds` and re-opens its
    /// overlay sessions.
    public func restart(_ node: Int, seeds: [Int]) {
        guard states[node] == .crashed else { return }
        mix(8, UInt64(node), 0)
        states[node] = .up
        lives[node] += 1
        tickGenerations[node] = 0
        let life = UInt64(lives[node])
        if let settings = configuration.membership {
            memberships[node] = Membership(localID: ids[node], settings: settings,
                                                seed: Simulation.derive(configuration.seed, 3 + life << 8, UInt64(node)))
            if let ds = memberships[node]?.join(seeds: seeds.map { ids[$0] }, now: now) { applyMembership(ds, at: node) }
        }
        if let settings = configuration.gossip {
            routers[node] = GossipRouter(settings: settings, seed: Simulation.derive(configuration.seed, 4 + life << 8, UInt64(node)))
            for j in neighbors[node] {
                disconnect(node, j)
                connect(node, j, notifyMembership: true)
            }
            if let ds = routers[node]?.subscribe(configuration.topic, now: now) { applyGossip(ds, at: node) }
            queue.push(.heartbeat(node: node, life: lives[node]), at: now + jitter(settings.heartbeat))
        }
    }

    /// The node processes nothing for `duration` (SIGSTOP … SIGCONT).
    public func pause(_ node: Int, for duration: Duration) {
        guard states[node] == .up else { return }
        mix(9, UInt64(node), duration.nanoseconds)
        states[node] = .paused
        queue.push(.resume(node: node, life: lives[node]), at: now + duration)
    }

    /// Splits the network: nodes in different sides cannot reach each other; nodes in no side form
    /// one more side together.
    public func partition(_ sides: [Set<Int>]) {
        mix(10, UInt64(sides.count), 0)
        for i in states.indices {
            network.group[i] = sides.firstIndex { $0.contains(i) } ?? sides.count
        }
    }

    public func heal() {
        mix(11, 0, 0)
        for i in states.indices { network.group[i] = 0 }
    }

    /// A uniformly random part of `d` (random phases for periodic work).
    func jitter(_ d: Duration) -> Duration {
        .nanoseconds(Int64(Double(d.nanoseconds) * Double(rng.next() >> 11) / Double(1 << 53)))
    }

    // MARK: - Membership shell

    func applyMembership(_ directives: [Membership.Directive], at node: Int) {
        for d in directives {
            switch d {
            case let .send(to, message):
                guard let j = idIndex[to] else { continue }
                swimMessagesSent += 1
                if let at = network.arrival(from: node, to: j, now: now) { queue.push(.swim(from: node, to: j, message), at: at) }
            case let .memberStatusChanged(id, old, new):
                guard let j = idIndex[id] else { continue }
                recordStatus(observer: node, member: j, new: new)
                guard configuration.gossip != nil, dialer[edgeKey(node, j)] != nil else { continue }
                if new == .dead {
                    disconnect(node, j)
                } else if new == .alive, old == .dead {
                    connect(node, j, notifyMembership: true)
                }
            case let .scheduleTick(after):
                tickGenerations[node] += 1
                queue.push(.swimTick(node: node, life: lives[node], generation: tickGenerations[node]),
                           at: now + after)
            }
        }
    }

    private func recordStatus(observer: Int, member: Int, new: MemberStatus) {
        mix(12, UInt64(observer << 32 | member), UInt64(new.rawValue))
        guard new != .alive else { return }
        let latest = crashRecords.lastIndex { $0.node == member }
        if new == .dead, let c = latest, crashRecords[c].detectedAt[observer] == nil,
           states[member] == .crashed || crashRecords[c].observers.contains(observer) {
            // Also counts a late detection of the previous life of a node that restarted meanwhile.
            crashRecords[c].detectedAt[observer] = now
            return
        }
        guard states[member] != .crashed else { return }
        if new == .dead {
            falseDeaths.append(FalseAccusation(observer: observer, member: member, at: now))
        } else if states[member] == .paused || lastResume[member].map({ now.since($0) <= .seconds(3) }) == true {
            suspectMarksOfPausedNodes += 1
        } else {
            suspectMarksOfRunningNodes += 1
        }
    }
}
