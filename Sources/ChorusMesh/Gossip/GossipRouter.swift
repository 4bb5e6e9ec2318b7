import ChorusCrypto

/// The gossip mesh of one node, as a pure state machine (gossipsub v1.1/v1.2 semantics).
///
/// Per topic it keeps a mesh of about `d` peers that receive full messages eagerly; other
/// subscribed peers learn ids lazily through IHAVE and pull with IWANT. Large payloads trigger
/// IDONTWANT so mesh peers stop sending copies we already have. Own messages are flood-published
/// to every subscribed peer with a good score. Every received message is validated by the
/// application (`validate` directive, answered with `onValidation`) before it is delivered or
/// forwarded, so invalid messages are never relayed; their senders lose score until they are
/// pruned, starved of gossip, ignored and finally disconnected.
public struct GossipRouter: Sendable {
    public typealias PeerID = Ed25519.PublicKey

    public enum Directive: Sendable, Equatable {
        case send(PeerID, GossipRPC)
        /// Ask the application to validate; answer with `onValidation(id:result:now:)`.
        case validate(GossipMessage, from: PeerID)
        /// A valid message, delivered once to the application.
        case deliver(GossipMessage, from: PeerID?)
        /// The peer's score fell below the graylist threshold: disconnect it.
        case disconnect(PeerID, reason: String)
    }

    /// Counters the shell exports as metrics.
    public struct Counters: Sendable, Equatable {
        public var duplicates = 0
        public var firstDeliveries = 0
        public var invalid = 0
        public var ignoredFromGraylisted = 0
        public var iwantRefusedOverLimit = 0
        public var ihaveIgnored = 0
        public var graftsDuringBackoff = 0
        /// IHAVEs whose announced message never came after we asked for it (IWANT) in time.
        public var brokenPromises = 0
        /// Offences reported by the application (`penalize`), e.g. forged peer records.
        public var applicationPenalties = 0
        /// Mesh links this node made lazy (choke sent) and eager again (unchoke sent).
        public var chokes = 0
        public var unchokes = 0
        /// Messages on topics this node does not subscribe to (dropped unread, the sender penalised).
        public var unsubscribedMessages = 0
        /// Subscriptions refused because the peer already announced `maxTopicsPerPeer` topics.
        public var subscriptionsOverLimit = 0
    }

    struct PeerState: Sendable {
        var topics: Set<Topic> = []
        let outbound: Bool
        let host: NetAddress.Host?
        var dontWant: [Bytes32: Int] = [:]   // id -> heartbeat number at which it expires
        var ihaveThisHeartbeat = 0
        var iwantAskedThisHeartbeat = 0
        var retransmissions: [Bytes32: Int] = [:]
    }

    struct Pending: Sendable {
        let message: GossipMessage
        var senders: [PeerID]
    }

    public let settings: GossipSettings
    public private(set) var counters = Counters()
    public private(set) var subscriptions: Set<Topic> = []
    public private(set) var mesh: [Topic: Set<PeerID>] = [:]
    /// Mesh peers whose link is lazy (choked) per topic; always a subset of `mesh`.
    public private(set) var lazy: [Topic: Set<PeerID>] = [:]
    /// Ids accepted since the last heartbeat, announced then to lazy mesh peers.
    private var lazyAnnounce: [Topic: [Bytes32]] = [:]
    public private(set) var scores: [PeerID: PeerScore] = [:]
    var peers: [PeerID: PeerState] = [:]
    private var meshJoined: [Topic: [PeerID: MonotonicTime]] = [:]
    private var backoff: [Topic: [PeerID: MonotonicTime]] = [:]
    private var seen = SeenCache()
    private var cache: MessageCache
    private var pending: [Bytes32: Pending] = [:]
    /// Who sent us each recent message (so we never send it back to them).
    private var receivedFrom: [Bytes32: Set<PeerID>] = [:]
    /// IWANT promises (gossipsub v1.1): for each IHAVE we acted on, one id asked for, who announced
    /// it and by when it must arrive. A peer that announces what it does not deliver is penalised.
    private var promises: [Bytes32: (peer: PeerID, deadline: MonotonicTime)] = [:]
    private var heartbeatCount = 0
    private var lastHeartbeat: MonotonicTime?
    private var rng: SplitMix64

    public init(settings: GossipSettings = .init(), seed: UInt64) {
        self.settings = settings
        self.cache = MessageCache(historyLength: settings.historyLength, gossipWindows: settings.historyGossip)
        self.rng = SplitMix64(seed: seed)
    }

    // MARK: - Queries

    public func score(_ peer: PeerID) -> Double { scores[peer]?.value(settings.score) ?? 0 }
    public var connectedPeers: [PeerID] { peers.keys.sorted() }
    public func topics(of peer: PeerID) -> Set<Topic> { peers[peer]?.topics ?? [] }
    public func hasSeen(_ id: Bytes32) -> Bool { seen.contains(id) }

    /// How many entries peers have made the router hold, by kind: what the resource bounds of
    /// Specs/gossip.md §2 limit, and what the hostile-peer tests measure.
    public var footprint: (seen: Int, receivedFrom: Int, pendingSenders: Int, peerTopics: Int, backoffTopics: Int) {
        (seen.count, receivedFrom.count, pending.values.reduce(0) { $0 + $1.senders.count },
         peers.values.reduce(0) { $0 + $1.topics.count }, backoff.count)
    }

    /// An offence seen by the application rather than the router (a forged peer record, say): a
    /// proof of malice, not noise, so the behaviour penalty (P7) jumps past the threshold at once;
    /// the peer is pruned now, and disconnected if it goes on.
    public mutating func penalize(_ peer: PeerID) -> [Directive] {
        guard peers[peer] != nil else { return [] }
        counters.applicationPenalties += 1
        let current = scores[peer]?.behaviourPenalty ?? 0
        scores[peer, default: PeerScore()].behaviourPenalty = max(current, settings.score.behaviourPenaltyThreshold) + 1
        return graylistCheck([peer])
    }

    /// Restores scores persisted from an earlier run (so a restart does not forgive misbehaviour).
    public mutating func restoreScores(_ saved: [PeerID: PeerScore]) {
        for (peer, score) in saved { scores[peer] = score }
    }

    // MARK: - Peers and subscriptions

    public mutating func onPeerConnected(_ peer: PeerID, outbound: Bool, address: NetAddress?, now: MonotonicTime) -> [Directive] {
        peers[peer] = PeerState(outbound: outbound, host: address?.host)
        if scores[peer] == nil { scores[peer] = PeerScore() }
        updateColocation()
        guard !subscriptions.isEmpty else { return [] }
        var hello = GossipRPC()
        hello.subscribe = subscriptions.sorted()
        return [.send(peer, hello)]
    }

    public mutating func onPeerDisconnected(_ peer: PeerID, now: MonotonicTime) {
        peers[peer] = nil
        for topic in mesh.keys { leaveMesh(peer, topic: topic, now: now) }
        updateColocation()
    }

    /// Subscribes this node to `topic` and grafts at once (no cold-start wait for the heartbeat).
    public mutating func subscribe(_ topic: Topic, now: MonotonicTime) -> [Directive] {
        guard subscriptions.insert(topic).inserted else { return [] }
        mesh[topic] = mesh[topic] ?? []
        var directives: [Directive] = []
        let chosen = Set(selectPeers(topic: topic, count: settings.d, excluding: [], now: now))
        for peer in peers.keys.sorted() {
            var rpc = GossipRPC()
            rpc.subscribe = [topic]
            if chosen.contains(peer) {
                rpc.graft = [topic]
                joinMesh(peer, topic: topic, now: now)
            }
            directives.append(.send(peer, rpc))
        }
        return directives
    }

    public mutating func unsubscribe(_ topic: Topic, now: MonotonicTime) -> [Directive] {
        guard subscriptions.remove(topic) != nil else { return [] }
        let members = mesh.removeValue(forKey: topic) ?? []
        lazy[topic] = nil
        lazyAnnounce[topic] = nil
        var directives: [Directive] = []
        for peer in peers.keys.sorted() {
            var rpc = GossipRPC()
            rpc.unsubscribe = [topic]
            if members.contains(peer) { rpc.prune = [(topic, UInt32(settings.pruneBackoff.components.seconds))] }
            directives.append(.send(peer, rpc))
        }
        for peer in members { leaveMesh(peer, topic: topic, now: now, alreadyRemoved: true) }
        return directives
    }

    // MARK: - Publishing

    /// Publishes an own message: flood to every subscribed peer above the publish threshold.
    /// Returns the directives and how many peers the message was queued to (0 means nobody yet).
    public mutating func publish(_ message: GossipMessage, now: MonotonicTime) -> (directives: [Directive], peers: Int) {
        guard seen.insert(message.id, expires: now + settings.seenTTL) else { return ([], 0) }
        cache.put(message)
        var directives: [Directive] = []
        var count = 0
        for (peer, state) in peers.sorted(by: { $0.key < $1.key })
        where state.topics.contains(message.topic) && score(peer) >= settings.score.publishThreshold {
            var rpc = GossipRPC()
            rpc.messages = [message]
            directives.append(.send(peer, rpc))
            count += 1
        }
        return (directives, count)
    }

    // MARK: - Receiving

    public mutating func onRPC(_ rpc: GossipRPC, from peer: PeerID, now: MonotonicTime) -> [Directive] {
        guard peers[peer] != nil else { return [] }
        if score(peer) < settings.score.graylistThreshold {
            counters.ignoredFromGraylisted += 1
            return []
        }
        var directives: [Directive] = []
        var reply = GossipRPC()
        handleSubscriptions(rpc, from: peer, now: now, reply: &reply)
        for id in rpc.idontwant { noteDontWant(id, from: peer) }
        for topic in rpc.graft { handleGraft(topic, from: peer, now: now, reply: &reply) }
        for (topic, backoffSeconds) in rpc.prune where mesh[topic]?.contains(peer) == true || subscriptions.contains(topic) {
            leaveMesh(peer, topic: topic, now: now)
            let requested = Duration.seconds(Int64(min(backoffSeconds, 3600)))
            backoff[topic, default: [:]][peer] = now + max(requested, settings.pruneBackoff)
        }
        for topic in rpc.choke where mesh[topic]?.contains(peer) == true {
            guard lazy[topic, default: []].insert(peer).inserted else { continue }
            for other in reopenEagerLinks(topic, sparing: peer) {
                var rpc = GossipRPC()
                rpc.unchoke = [topic]
                directives.append(.send(other, rpc))
            }
        }
        for topic in rpc.unchoke { lazy[topic]?.remove(peer) }
        for (topic, ids) in rpc.ihave { handleIHave(topic, ids, from: peer, now: now, reply: &reply) }
        for id in rpc.iwant { handleIWant(id, from: peer, reply: &reply) }
        for message in rpc.messages { directives += handleMessage(message, from: peer, now: now, reply: &reply) }
        if !reply.isEmpty { directives.insert(.send(peer, reply), at: 0) }
        // Penalties from this RPC (floods of subscriptions, unsubscribed topics) take effect at once.
        if !directives.contains(where: { if case .disconnect = $0 { true } else { false } }) {
            directives += graylistCheck([peer])
        }
        return directives
    }

    /// The application's verdict on a message announced with `validate`.
    public mutating func onValidation(id: Bytes32, result: ValidationResult, now: MonotonicTime) -> [Directive] {
        guard let p = pending.removeValue(forKey: id) else { return [] }
        let source = p.senders.first
        switch result {
        case .reject:
            counters.invalid += 1
            for sender in p.senders { scores[sender]?.topics[p.message.topic, default: .init()].invalidMessages += 1 }
            return graylistCheck(p.senders)
        case .ignore:
            return []
        case .accept:
            cache.put(p.message)
            if let source {
                counters.firstDeliveries += 1
                scores[source]?.topics[p.message.topic, default: .init()].firstDeliveries += 1
            }
            var directives: [Directive] = [.deliver(p.message, from: source)]
            let exclude = receivedFrom[id] ?? []
            let lazyPeers = settings.choking ? lazy[p.message.topic] ?? [] : []
            for peer in (mesh[p.message.topic] ?? []).sorted() where !exclude.contains(peer) {
                if lazyPeers.contains(peer) || peers[peer]?.dontWant[id] != nil { continue }
                var rpc = GossipRPC()
                rpc.messages = [p.message]
                directives.append(.send(peer, rpc))
            }
            if !lazyPeers.isEmpty { lazyAnnounce[p.message.topic, default: []].append(id) }
            return directives
        }
    }

    // MARK: - Heartbeat

    /// Mesh maintenance, lazy gossip, cache shifting and score decay; call every `settings.heartbeat`.
    public mutating func onHeartbeat(now: MonotonicTime) -> [Directive] {
        heartbeatCount += 1
        let elapsed = lastHeartbeat.map { now.since($0) } ?? .zero
        lastHeartbeat = now
        var directives: [Directive] = []
        var outgoing: [PeerID: GossipRPC] = [:]

        // Scores: time in mesh, decay.
        let seconds = Double(elapsed.nanoseconds) / 1e9
        for (topic, members) in mesh {
            for peer in members { scores[peer]?.topics[topic, default: .init()].meshSeconds += seconds }
        }
        for peer in scores.keys { scores[peer]?.decay(settings.score) }

        for topic in subscriptions.sorted() {
            var members = mesh[topic] ?? []
            // Drop peers with negative scores.
            for peer in members.sorted() where score(peer) < 0 {
                members.remove(peer)
                outgoing[peer, default: .init()].prune.append((topic, pruneBackoffSeconds))
                setBackoff(peer, topic: topic, now: now)
            }
            // Too few: graft.
            if members.count < settings.dLow {
                for peer in selectPeers(topic: topic, count: settings.d - members.count, excluding: members, now: now) {
                    members.insert(peer)
                    outgoing[peer, default: .init()].graft.append(topic)
                }
            }
            // Too many: keep the best dScore, keep dOut outbound, fill the rest at random.
            if members.count > settings.dHigh {
                let ranked = members.sorted { (score($0), $0) > (score($1), $1) }
                var keep = Set(ranked.prefix(settings.dScore))
                var rest = ranked.dropFirst(settings.dScore).shuffled(using: &rng)
                let outboundKept = keep.filter { peers[$0]?.outbound == true }.count
                if outboundKept < settings.dOut {
                    let extra = rest.filter { peers[$0]?.outbound == true }.prefix(settings.dOut - outboundKept)
                    keep.formUnion(extra)
                    rest.removeAll { extra.contains($0) }
                }
                for peer in rest.prefix(max(0, settings.d - keep.count)) { keep.insert(peer) }
                for peer in members.subtracting(keep).sorted() {
                    outgoing[peer, default: .init()].prune.append((topic, pruneBackoffSeconds))
                    setBackoff(peer, topic: topic, now: now)
                }
                members = keep
            }
            let previous = mesh[topic] ?? []
            mesh[topic] = members
            for peer in members.subtracting(previous) { meshJoined[topic, default: [:]][peer] = now }
            for peer in previous.subtracting(members) { meshJoined[topic]?[peer] = nil }
            if settings.choking { lazyPush(topic, members: members, outgoing: &outgoing) }

            // Lazy gossip to dLazy non-mesh peers.
            let ids = Array(cache.gossipIDs(topic: topic).prefix(settings.maxIHaveAdvertised))
            if !ids.isEmpty {
                let targets = peers.filter { peer, state in
                    state.topics.contains(topic) && !members.contains(peer) && score(peer) >= settings.score.gossipThreshold
                }.map(\.key).sorted().shuffled(using: &rng).prefix(settings.dLazy)
                for peer in targets { outgoing[peer, default: .init()].ihave.append((topic, ids)) }
            }
        }

        for (peer, rpc) in outgoing.sorted(by: { $0.key < $1.key }) { directives.append(.send(peer, rpc)) }

        cache.shift()
        seen.expire(now: now)
        for peer in peers.keys {
            peers[peer]?.ihaveThisHeartbeat = 0
            peers[peer]?.iwantAskedThisHeartbeat = 0
            let hb = heartbeatCount
            if let kept = peers[peer]?.dontWant.filter({ $0.value > hb }) { peers[peer]?.dontWant = kept }
            if heartbeatCount % settings.historyLength == 0 { peers[peer]?.retransmissions = [:] }
        }
        receivedFrom = receivedFrom.filter { seen.contains($0.key) }
        for (id, promise) in promises.sorted(by: { $0.key < $1.key }) where promise.deadline <= now {
            promises[id] = nil
            counters.brokenPromises += 1
            scores[promise.peer]?.behaviourPenalty += 1
        }
        for (topic, entries) in backoff { backoff[topic] = entries.filter { $0.value > now } }
        directives += graylistCheck(peers.keys.sorted())
        return directives
    }

    // MARK: - Internals

    private var pruneBackoffSeconds: UInt32 { UInt32(settings.pruneBackoff.components.seconds) }

    private mutating func handleMessage(_ message: GossipMessage, from peer: PeerID, now: MonotonicTime,
                                        reply: inout GossipRPC) -> [Directive] {
        // A correct peer forwards only on topics we announced: anything else is dropped before it
        // costs a cache entry (a flood of unique messages on an unsubscribed topic once grew the
        // seen cache without bound), and counts as misbehaviour (P7).
        guard subscriptions.contains(message.topic) else {
            counters.unsubscribedMessages += 1
            scores[peer]?.behaviourPenalty += 1
            return []
        }
        receivedFrom[message.id, default: []].insert(peer)
        promises[message.id] = nil
        if message.payload.count > settings.maxPayload {
            counters.invalid += 1
            scores[peer]?.topics[message.topic, default: .init()].invalidMessages += 1
            return graylistCheck([peer])
        }
        if var p = pending[message.id] {
            counters.duplicates += 1
            // Each sender once: 64 copies of one message per RPC must not grow the list.
            if !p.senders.contains(peer) {
                p.senders.append(peer)
                pending[message.id] = p
            }
            noteRedundantCopy(message.topic, from: peer, reply: &reply)
            return []
        }
        guard seen.insert(message.id, expires: now + settings.seenTTL) else {
            counters.duplicates += 1
            noteRedundantCopy(message.topic, from: peer, reply: &reply)
            return []
        }
        var directives: [Directive] = []
        if message.payload.count >= settings.idontwantThreshold {
            let lazyPeers = settings.choking ? lazy[message.topic] ?? [] : []
            for other in (mesh[message.topic] ?? []).sorted() where other != peer && !lazyPeers.contains(other) {
                var rpc = GossipRPC()
                rpc.idontwant = [message.id]
                directives.append(.send(other, rpc))
            }
        }
        pending[message.id] = Pending(message: message, senders: [peer])
        directives.append(.validate(message, from: peer))
        return directives
    }

    private mutating func handleSubscriptions(_ rpc: GossipRPC, from peer: PeerID, now: MonotonicTime, reply: inout GossipRPC) {
        for topic in rpc.unsubscribe {
            peers[peer]?.topics.remove(topic)
            leaveMesh(peer, topic: topic, now: now)
        }
        for topic in rpc.subscribe {
            guard let known = peers[peer]?.topics else { return }
            if known.contains(topic) { continue }
            // What a peer can make the router remember is bounded: at most `maxTopicsPerPeer` topics.
            guard known.count < settings.maxTopicsPerPeer else {
                counters.subscriptionsOverLimit += 1
                scores[peer]?.behaviourPenalty += 1
                continue
            }
            peers[peer]?.topics.insert(topic)
            // Graft at once when our mesh for this topic is short (avoids the cold-start race).
            if subscriptions.contains(topic), (mesh[topic]?.count ?? 0) < settings.dLow,
               !inBackoff(peer, topic: topic, now: now), score(peer) >= 0 {
                joinMesh(peer, topic: topic, now: now)
                reply.graft.append(topic)
            }
        }
    }

    private mutating func handleGraft(_ topic: Topic, from peer: PeerID, now: MonotonicTime, reply: inout GossipRPC) {
        guard subscriptions.contains(topic) else {
            reply.prune.append((topic, pruneBackoffSeconds))
            return
        }
        if mesh[topic]?.contains(peer) == true { return }
        if inBackoff(peer, topic: topic, now: now) {
            counters.graftsDuringBackoff += 1
            scores[peer]?.behaviourPenalty += 1
            reply.prune.append((topic, pruneBackoffSeconds))
            setBackoff(peer, topic: topic, now: now)
            return
        }
        if score(peer) < 0 {
            reply.prune.append((topic, pruneBackoffSeconds))
            return
        }
        // A full mesh refuses inbound grafters (as go-libp2p does), so meshes do not overshoot and
        // churn; outbound peers are always taken, keeping the dOut quota reachable.
        if (mesh[topic]?.count ?? 0) >= settings.dHigh && peers[peer]?.outbound != true {
            reply.prune.append((topic, pruneBackoffSeconds))
            setBackoff(peer, topic: topic, now: now)
            return
        }
        joinMesh(peer, topic: topic, now: now)
    }

    private mutating func handleIHave(_ topic: Topic, _ ids: [Bytes32], from peer: PeerID, now: MonotonicTime, reply: inout GossipRPC) {
        guard var state = peers[peer] else { return }
        guard subscriptions.contains(topic), score(peer) >= settings.score.gossipThreshold,
              state.ihaveThisHeartbeat < settings.maxIHaveMessages else {
            counters.ihaveIgnored += 1
            return
        }
        state.ihaveThisHeartbeat += 1
        var wanted: [Bytes32] = []
        for id in ids where !seen.contains(id) && pending[id] == nil && !reply.iwant.contains(id) {
            guard state.iwantAskedThisHeartbeat < settings.maxIHaveLength else { break }
            state.iwantAskedThisHeartbeat += 1
            reply.iwant.append(id)
            wanted.append(id)
        }
        peers[peer] = state
        // Track one of the asked ids, chosen at random so the announcer cannot tell which one it
        // must deliver to escape the penalty.
        if !wanted.isEmpty {
            let tracked = wanted[Int(rng.next() % UInt64(wanted.count))]
            if promises[tracked] == nil { promises[tracked] = (peer, now + settings.iwantFollowupTime) }
        }
        let wantedAny = !wanted.isEmpty
        // A lazy link announced what the eager ones did not bring: it is a better path, make it eager.
        if wantedAny, settings.choking, lazy[topic]?.remove(peer) != nil {
            reply.unchoke.append(topic)
            counters.unchokes += 1
        }
    }

    private mutating func handleIWant(_ id: Bytes32, from peer: PeerID, reply: inout GossipRPC) {
        guard let message = cache.get(id), var state = peers[peer] else { return }
        let sent = state.retransmissions[id, default: 0]
        guard sent < settings.gossipRetransmission else {
            // Asking for one message again and again is an IWANT flood: refuse and penalise (P7).
            counters.iwantRefusedOverLimit += 1
            scores[peer]?.behaviourPenalty += 1
            return
        }
        state.retransmissions[id] = sent + 1
        peers[peer] = state
        reply.messages.append(message)
    }

    private mutating func noteDontWant(_ id: Bytes32, from peer: PeerID) {
        guard var state = peers[peer], state.dontWant.count < settings.maxIDontWantPerPeer else { return }
        state.dontWant[id] = heartbeatCount + settings.idontwantHeartbeats
        peers[peer] = state
    }

    private func inBackoff(_ peer: PeerID, topic: Topic, now: MonotonicTime) -> Bool {
        (backoff[topic]?[peer]).map { $0 > now } ?? false
    }

    private mutating func setBackoff(_ peer: PeerID, topic: Topic, now: MonotonicTime) {
        backoff[topic, default: [:]][peer] = now + settings.pruneBackoff
    }

    private mutating func joinMesh(_ peer: PeerID, topic: Topic, now: MonotonicTime) {
        mesh[topic, default: []].insert(peer)
        meshJoined[topic, default: [:]][peer] = now
    }

    private mutating func leaveMesh(_ peer: PeerID, topic: Topic, now: MonotonicTime, alreadyRemoved: Bool = false) {
        if !alreadyRemoved { mesh[topic]?.remove(peer) }
        meshJoined[topic]?[peer] = nil
        lazy[topic]?.remove(peer)
    }

    /// Up to `count` peers subscribed to `topic`, not excluded, not in backoff, with score ≥ 0.
    private mutating func selectPeers(topic: Topic, count: Int, excluding: Set<PeerID>, now: MonotonicTime) -> [PeerID] {
        guard count > 0 else { return [] }
        let eligible = peers.filter { peer, state in
            state.topics.contains(topic) && !excluding.contains(peer) && !inBackoff(peer, topic: topic, now: now) && score(peer) >= 0
        }.map(\.key).sorted()
        return Array(eligible.shuffled(using: &rng).prefix(count))
    }

    private mutating func updateColocation() {
        var perHost: [NetAddress.Host: Int] = [:]
        for state in peers.values { if let h = state.host { perHost[h, default: 0] += 1 } }
        for (peer, state) in peers {
            scores[peer]?.colocatedPeers = state.host.map { perHost[$0, default: 1] - 1 } ?? 0
        }
    }

    // MARK: - Choking

    /// A payload we already had arrived from `peer`: make the link lazy while enough others stay eager.
    private mutating func noteRedundantCopy(_ topic: Topic, from peer: PeerID, reply: inout GossipRPC) {
        guard settings.choking, mesh[topic]?.contains(peer) == true, !reply.choke.contains(topic) else { return }
        if lazy[topic]?.contains(peer) == true {
            // It still pushes over a link we made lazy (our choke crossed its unchoke): say it again.
            reply.choke.append(topic)
            return
        }
        guard (mesh[topic]?.count ?? 0) - (lazy[topic]?.count ?? 0) > settings.eagerPeers else { return }
        lazy[topic, default: []].insert(peer)
        reply.choke.append(topic)
        counters.chokes += 1
    }

    /// Makes random lazy mesh links eager until at least `eagerPeersLow` are; returns the peers to tell.
    /// `sparing` (the peer that just choked us) is not asked back at once.
    private mutating func reopenEagerLinks(_ topic: Topic, sparing: PeerID? = nil) -> [PeerID] {
        let meshCount = mesh[topic]?.count ?? 0
        var lazyPeers = lazy[topic] ?? []
        let missing = min(settings.eagerPeersLow, meshCount) - (meshCount - lazyPeers.count)
        guard missing > 0 else { return [] }
        let candidates = lazyPeers.filter { $0 != sparing }.sorted()
        let chosen = Array(candidates.shuffled(using: &rng).prefix(missing))
        for peer in chosen { lazyPeers.remove(peer) }
        lazy[topic] = lazyPeers
        counters.unchokes += chosen.count
        return chosen
    }

    /// Heartbeat part of choking: keeps the lazy set inside the mesh and enough links eager, and
    /// announces the ids accepted since the last heartbeat to lazy mesh peers that may lack them.
    private mutating func lazyPush(_ topic: Topic, members: Set<PeerID>, outgoing: inout [PeerID: GossipRPC]) {
        lazy[topic] = (lazy[topic] ?? []).intersection(members)
        for peer in reopenEagerLinks(topic) { outgoing[peer, default: .init()].unchoke.append(topic) }
        let ids = lazyAnnounce.removeValue(forKey: topic) ?? []
        guard !ids.isEmpty else { return }
        for peer in (lazy[topic] ?? []).sorted() {
            let fresh = ids.filter { peers[peer]?.dontWant[$0] == nil && receivedFrom[$0]?.contains(peer) != true }
            guard !fresh.isEmpty else { continue }
            outgoing[peer, default: .init()].ihave.append((topic, Array(fresh.prefix(settings.maxIHaveAdvertised))))
        }
    }

    /// Disconnects candidates below the graylist threshold, and those whose (decayed) invalid messages
    /// reached `invalidMessagesToDisconnect`, whatever their other terms: first deliveries and mesh
    /// time must not buy an attacker a fifth invalid message.
    private mutating func graylistCheck(_ candidates: [PeerID]) -> [Directive] {
        candidates.compactMap { peer in
            guard peers[peer] != nil else { return nil }
            let invalid = scores[peer]?.topics.values.reduce(0) { $0 + $1.invalidMessages } ?? 0
            if invalid >= settings.score.invalidMessagesToDisconnect {
                return .disconnect(peer, reason: "\(Int(invalid.rounded())) invalid messages")
            }
            guard score(peer) < settings.score.graylistThreshold else { return nil }
            return .disconnect(peer, reason: "gossip score \(Int(score(peer))) below graylist threshold")
        }
    }
}
