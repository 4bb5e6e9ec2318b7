import ChorusCrypto
@testable import ChorusMesh

/// Test double: N gossip routers joined by instant, lossless in-memory links, driven by a manual
/// clock. Messages are validated by `validator` (default: accept everything that does not start
/// with the byte 0xBA, which marks "invalid" in these tests).
struct GossipNetworkForTests {
    var routers: [GossipRouter]
    let ids: [Ed25519.PublicKey]
    var now = MonotonicTime.zero
    var delivered: [[Bytes32: Int]]
    var links: Set<[Int]> = []
    var disconnects: [(Int, Int)] = []
    var validator: (GossipMessage) -> ValidationResult = { $0.payload.first == 0xBA ? .reject : .accept }
    private var queue: [(from: Int, directive: GossipRouter.Directive)] = []

    init(nodes: Int, degree: Int, seed: UInt64, settings: GossipSettings = .init()) {
        ids = (0..<nodes).map { i in
            var seedBytes = [UInt8](repeating: 0, count: 32)
            seedBytes[0] = UInt8(i & 0xff); seedBytes[1] = UInt8(i >> 8); seedBytes[2] = 0x77
            return try! Ed25519.SigningKey(seed: SecretBytes(seedBytes)).publicKey
        }
        routers = (0..<nodes).map { GossipRouter(settings: settings, seed: seed &+ UInt64($0)) }
        delivered = Array(repeating: [:], count: nodes)
        var rng = SplitMix64(seed: seed)
        for i in 0..<nodes {
            var tries = 0
            while links.filter({ $0.contains(i) }).count < degree && tries < 100 {
                tries += 1
                let j = Int(rng.next() % UInt64(nodes))
                if j != i { connect(i, j) }
            }
        }
    }

    mutating func connect(_ a: Int, _ b: Int) {
        guard links.insert([min(a, b), max(a, b)]).inserted else { return }
        let da = routers[a].onPeerConnected(ids[b], outbound: true, address: nil, now: now)
        let db = routers[b].onPeerConnected(ids[a], outbound: false, address: nil, now: now)
        enqueue(a, da); enqueue(b, db)
        run()
    }

    func index(of id: Ed25519.PublicKey) -> Int { ids.firstIndex(of: id)! }

    mutating func subscribeAll(_ topic: Topic) {
        for i in routers.indices { enqueue(i, routers[i].subscribe(topic, now: now)) }
        run()
    }

    mutating func publish(from i: Int, topic: Topic, payload: [UInt8]) -> GossipMessage {
        let m = GossipMessage(topic: topic, payload: payload)
        enqueue(i, routers[i].publish(m, now: now).directives)
        run()
        return m
    }

    mutating func heartbeat(_ times: Int = 1) {
        for _ in 0..<times {
            now = now + routers[0].settings.heartbeat
            for i in routers.indices { enqueue(i, routers[i].onHeartbeat(now: now)) }
            run()
        }
    }

    mutating func enqueue(_ from: Int, _ ds: [GossipRouter.Directive]) {
        queue += ds.map { (from, $0) }
    }

    /// Delivers every queued directive, and everything they cause, until quiet.
    mutating func run() {
        while !queue.isEmpty {
            let (from, d) = queue.removeFirst()
            switch d {
            case let .send(peer, rpc):
                let to = index(of: peer)
                guard links.contains([min(from, to), max(from, to)]) else { continue }
                enqueue(to, routers[to].onRPC(rpc, from: ids[from], now: now))
            case let .validate(message, _):
                enqueue(from, routers[from].onValidation(id: message.id, result: validator(message), now: now))
            case let .deliver(message, _):
                delivered[from][message.id, default: 0] += 1
            case let .disconnect(peer, _):
                let other = index(of: peer)
                disconnects.append((from, other))
                links.remove([min(from, other), max(from, other)])
                routers[from].onPeerDisconnected(peer, now: now)
                routers[other].onPeerDisconnected(ids[from], now: now)
            }
        }
    }

    func deliveredCount(_ id: Bytes32) -> Int { delivered.filter { $0[id] != nil }.count }
}
