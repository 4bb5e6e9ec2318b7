import ChorusCrypto
@testable import ChorusMesh

/// Test double: a few `Membership` instances on a manual clock, joined by links with a fixed latency.
/// `drop` decides per message whether a link loses it; crashed nodes neither receive nor tick.
/// Events run in (time, sequence) order, so a run is a pure function of its inputs.
struct MembershipClusterForTests {
    struct Change: Equatable {
        let at: MonotonicTime
        let observer: Int
        let member: Int
        let old: MemberStatus?
        let new: MemberStatus
    }

    private struct InFlight {
        let at: MonotonicTime
        let order: Int
        let from: Int
        let to: Int
        let message: SWIMMessage
    }

    var nodes: [Membership]
    let ids: [Ed25519.PublicKey]
    var now = MonotonicTime.zero
    var latency: Duration = .milliseconds(10)
    var drop: (_ from: Int, _ to: Int, _ message: SWIMMessage) -> Bool = { _, _, _ in false }
    /// Random loss on every link, drawn from the cluster's seeded generator.
    var lossRate = 0.0
    private var rng: SplitMix64
    var crashed: Set<Int> = []
    var changes: [Change] = []
    /// Every directive emitted, as text, in order (for determinism checks).
    var trace: [String] = []
    var sent = 0
    private var tickAt: [MonotonicTime?]
    private var inflight: [InFlight] = []
    private var order = 0

    static func identity(_ i: Int) -> Ed25519.PublicKey {
        var bytes = [UInt8](repeating: 0x5A, count: 32)
        bytes[0] = UInt8(i & 0xff)
        bytes[1] = UInt8(i >> 8)
        return Ed25519.PublicKey(Bytes32(bytes)!)
    }

    /// `n` nodes that all know each other (alive at incarnation 0), started at time zero.
    /// `n` nodes that all know each other (alive at incarnation 0), started at time zero. `loners` know
    /// nobody and nobody knows them (they can `join`).
    init(nodes n: Int, seed: UInt64, settings: MembershipSettings = .init(), loners: Set<Int> = []) {
        let ids = (0..<n).map(Self.identity)
        self.ids = ids
        rng = SplitMix64(seed: seed ^ 0xC1A5)
        let known = ids.indices.filter { !loners.contains($0) }.map { (ids[$0], NetAddress?.none) }
        nodes = (0..<n).map { i in
            Membership(localID: ids[i], settings: settings, seed: seed &+ UInt64(i),
                       knownMembers: loners.contains(i) ? [] : known)
        }
        tickAt = Array(repeating: nil, count: n)
        for i in 0..<n { handle(i, nodes[i].start(now: now)) }
    }

    func index(of id: Ed25519.PublicKey) -> Int { ids.firstIndex(of: id) ?? -1 }

    /// What node `observer` believes about node `member`.
    func status(_ member: Int, at observer: Int) -> MemberStatus? { nodes[observer].status(of: ids[member]) }

    /// Injects a message as if `from` had sent it now.
    mutating func deliver(_ message: SWIMMessage, from: Int, to: Int) {
        handle(to, nodes[to].onMessage(message, from: ids[from], now: now))
    }

    mutating func run(for duration: Duration) {
        let end = now + duration
        while true {
            let nextTick = tickAt.enumerated().compactMap { i, t in crashed.contains(i) ? nil : t.map { ($0, i) } }
                .min { ($0.0, $0.1) < ($1.0, $1.1) }
            let nextMessage = inflight.indices.min { (inflight[$0].at, inflight[$0].order) < (inflight[$1].at, inflight[$1].order) }
            let messageTime = nextMessage.map { inflight[$0].at }
            let tickTime = nextTick?.0
            guard let t = [messageTime, tickTime].compactMap({ $0 }).min(), t <= end else { break }
            now = t
            if let m = nextMessage, inflight[m].at == t {
                let f = inflight.remove(at: m)
                if !crashed.contains(f.to) { handle(f.to, nodes[f.to].onMessage(f.message, from: ids[f.from], now: now)) }
            } else if let (_, i) = nextTick {
                tickAt[i] = nil
                handle(i, nodes[i].onTick(now: now))
            }
        }
        now = end
    }

    private mutating func handle(_ node: Int, _ directives: [Membership.Directive]) {
        for d in directives {
            trace.append("\(now.nanoseconds) \(node) \(d)")
            switch d {
            case let .send(to, message):
                sent += 1
                let target = index(of: to)
                guard target >= 0, !crashed.contains(node), !drop(node, target, message) else { continue }
                if lossRate > 0, Double(rng.next() >> 11) / Double(1 << 53) < lossRate { continue }
                order += 1
                inflight.append(InFlight(at: now + latency, order: order, from: node, to: target, message: message))
            case let .memberStatusChanged(id, old, new):
                changes.append(Change(at: now, observer: node, member: index(of: id), old: old, new: new))
            case let .scheduleTick(after):
                tickAt[node] = now + after
            }
        }
    }
}
