import ChorusCrypto
import ChorusMesh

/// The gossip side of the simulated shell: overlay sessions, heartbeats, publishing, validation and
/// the propagation metrics.
extension Simulation {
    func edgeKey(_ a: Int, _ b: Int) -> Int { Swift.min(a, b) * states.count + Swift.max(a, b) }

    /// A random overlay where every node dials `gossipOutboundDegree` others; every session opens at
    /// time zero, every node subscribes to the topic, and heartbeats start at random phases.
    func buildOverlay() {
        guard let settings = configuration.gossip else { return }
        let n = states.count
        let degree = Swift.min(configuration.gossipOutboundDegree, n - 1)
        for i in 0..<n {
            routers[i] = GossipRouter(settings: settings, seed: Simulation.derive(configuration.seed, 4, UInt64(i)))
            var opened = 0, tries = 0
            while opened < degree, tries < 20 * degree {
                tries += 1
                let j = Int(rng.next() % UInt64(n))
                let key = edgeKey(i, j)
                guard j != i, dialer[key] == nil else { continue }
                dialer[key] = i
                neighbors[i].append(j)
                neighbors[j].append(i)
                opened += 1
            }
        }
        for i in 0..<n {
            for j in neighbors[i] where j > i { connect(i, j, notifyMembership: false) }
        }
        for i in 0..<n {
            if let ds = routers[i]?.subscribe(configuration.topic, now: now) { applyGossip(ds, at: i) }
            queue.push(.heartbeat(node: i, life: 0), at: now + jitter(settings.heartbeat))
        }
    }

    /// Opens the session `a`–`b` if both ends run and it is down.
    func connect(_ a: Int, _ b: Int, notifyMembership: Bool) {
        let key = edgeKey(a, b)
        guard let first = dialer[key], states[a] != .crashed, states[b] != .crashed,
              linkUp.insert(key).inserted else { return }
        mix(13, UInt64(key), 1)
        for (x, y) in [(a, b), (b, a)] {
            if let ds = routers[x]?.onPeerConnected(ids[y], outbound: first == x, address: nil, now: now) {
                applyGossip(ds, at: x)
            }
            if notifyMembership, let ds = memberships[x]?.onPeerConnected(ids[y], address: nil, now: now) {
                applyMembership(ds, at: x)
            }
        }
    }

    func disconnect(_ a: Int, _ b: Int) {
        guard linkUp.remove(edgeKey(a, b)) != nil else { return }
        mix(13, UInt64(edgeKey(a, b)), 0)
        routers[a]?.onPeerDisconnected(ids[b], now: now)
        routers[b]?.onPeerDisconnected(ids[a], now: now)
    }

    func applyGossip(_ directives: [GossipRouter.Directive], at node: Int) {
        var pending = directives
        var i = 0
        while i < pending.count {
            switch pending[i] {
            case let .send(peer, honest):
                if let j = idIndex[peer], linkUp.contains(edgeKey(node, j)),
                   let rpc = configuration.adversaries[node].map({ $0.outgoing(honest, from: node, to: j) }) ?? honest {
                    gossipRPCsSent += 1
                    if let at = network.arrival(from: node, to: j, now: now) { queue.push(.gossip(from: node, to: j, rpc), at: at) }
                }
            case let .validate(message, _):
                if let more = routers[node]?.onValidation(id: message.id, result: .accept, now: now) { pending += more }
            case let .deliver(message, _):
                mix(14, UInt64(node), UInt64(recorder.index[message.id] ?? 0))
                recorder.delivered(message.id, at: node, now: now)
            case let .disconnect(peer, _):
                if let j = idIndex[peer] { disconnect(node, j) }
            }
            i += 1
        }
    }

    /// Publishes `payload` from `node`; returns the message's index in the metrics (nil when the node is
    /// not running).
    @discardableResult
    public func publish(from node: Int, payload: [UInt8]) -> Int? {
        guard states[node] == .up, routers[node] != nil else { return nil }
        let message = GossipMessage(topic: configuration.topic, payload: payload)
        let index = recorder.published(message.id, by: node, at: now)
        mix(15, UInt64(node), UInt64(index))
        if let ds = routers[node]?.publish(message, now: now).directives { applyGossip(ds, at: node) }
        return index
    }

    /// A `bytes`-long payload that is unique per simulation and `tag`.
    public func payload(bytes: Int, tag: Int) -> [UInt8] {
        var g = SplitMix64(seed: Simulation.derive(configuration.seed, 5, UInt64(bitPattern: Int64(tag))))
        var out = [UInt8]()
        out.reserveCapacity(bytes + 8)
        while out.count < bytes {
            let w = g.next()
            for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> (8 * k))) }
        }
        return Array(out.prefix(bytes))
    }

    public var publishedCount: Int { recorder.messageCount }

    /// The node that published message `index`.
    public func publisherOf(_ index: Int) -> Int { recorder.publisher[index] }

    /// When `node` delivered published message `index`, if it did.
    public func deliveryTime(message index: Int, node: Int) -> MonotonicTime? {
        recorder.deliveryTime(message: index, node: node)
    }

    /// Propagation of `messages` to `receivers(m)` (default: every node but the publisher). A delivery
    /// later than `deadline` after the publish counts as late.
    public func propagation(messages: Range<Int>, deadline: Duration,
                            receivers: ((Int) -> [Int])? = nil) -> PropagationSummary {
        var latencies: [Double] = []
        var expected = 0, delivered = 0, lateOrMissing = 0
        var duplicates: [Int] = []
        for m in messages {
            let publisher = recorder.publisher[m]
            let published = recorder.publishedAt[m]
            let targets = receivers?(m) ?? states.indices.filter { $0 != publisher }
            for node in targets where node != publisher {
                expected += 1
                let copies = recorder.copies(message: m, node: node)
                if copies > 0 { duplicates.append(copies - 1) }
                guard let at = recorder.deliveryTime(message: m, node: node) else {
                    lateOrMissing += 1
                    continue
                }
                delivered += 1
                let latency = at.since(published)
                latencies.append(Double(latency.nanoseconds) / 1e6)
                if latency > deadline { lateOrMissing += 1 }
            }
        }
        return PropagationSummary(
            messages: messages.count, latencyMs: Percentiles(latencies),
            completeness: expected == 0 ? 1 : Double(delivered) / Double(expected), lateOrMissing: lateOrMissing,
            duplicatesPerNodeMean: duplicates.isEmpty ? 0 : Double(duplicates.reduce(0, +)) / Double(duplicates.count),
            duplicatesPerNodeMax: duplicates.max() ?? 0)
    }
}
