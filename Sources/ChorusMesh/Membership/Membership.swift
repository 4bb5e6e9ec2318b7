import ChorusCrypto

/// Group membership and failure detection for one node: SWIM with the Lifeguard extensions, as a
/// pure state machine (`Specs/membership.md`).
///
/// Every probe interval the node pings one member (round robin over a shuffled list). A member that
/// does not answer in time is probed indirectly through `indirectProbes` relays; if nobody reaches
/// it, it becomes *suspect* and the suspicion is disseminated. A suspect member that hears of it
/// raises its incarnation and disseminates *alive* (refutation); one that stays silent until the
/// suspicion timeout is declared *dead*. Lifeguard makes the detector robust against slow nodes:
/// the local health multiplier (LHM) stretches this node's own probe timeouts when it sees signs of
/// its own slowness (missed nacks, having to refute), relays send nacks so a prober can tell "the
/// target is down" from "I am slow", and the suspicion timeout shrinks with independent confirmations.
///
/// Updates ride on every protocol message and on a small periodic gossip; status changes are also
/// pushed at once. Full-state exchanges run with a random live member (anti-entropy) and a random
/// dead one (so partitions heal by themselves).
///
/// The shell feeds it inputs (`on…`) with the current time and carries out the directives: sending
/// to a member means dialing it if there is no session yet; `scheduleTick(after:)` replaces the one
/// pending tick timer.
public struct Membership: Sendable {
    public typealias MemberID = Ed25519.PublicKey

    public enum Directive: Sendable, Equatable {
        case send(to: MemberID, SWIMMessage)
        /// A member was learned (`old == nil`) or changed status.
        case memberStatusChanged(MemberID, old: MemberStatus?, new: MemberStatus)
        /// Call `onTick` after this delay (replacing any earlier request).
        case scheduleTick(after: Duration)
    }

    /// What this node knows about another member.
    public struct Member: Sendable, Equatable {
        public let id: MemberID
        public internal(set) var address: NetAddress?
        public internal(set) var status: MemberStatus
        public internal(set) var incarnation: UInt64
        /// When this node last changed the member's status.
        public internal(set) var statusSince: MonotonicTime
        /// Dead by its own announcement (it left and closes its sessions itself), not by a failed
        /// suspicion. Cleared when it is alive again.
        public internal(set) var departed = false
    }

    /// Counters the shell exports as metrics.
    public struct Counters: Sendable, Equatable {
        public var probes = 0
        public var probesFailed = 0
        /// Probes whose timeout fired while this node itself was stalled (not held against the target).
        public var probesInconclusive = 0
        public var pingRequestsSent = 0
        public var nacksSent = 0
        public var nacksReceived = 0
        public var suspicionsRaised = 0
        public var deathsDeclared = 0
        public var refutations = 0
        public var messagesSent = 0
        public var stalls = 0
        /// Updates dropped because they raised an incarnation further than a third party may
        /// (`MembershipSettings.maxIncarnationStep`).
        public var implausibleIncarnations = 0
        /// Members relayed by third parties and pinged before admission; admitted once they
        /// answered; refused because the candidate bounds were reached.
        public var candidatesProbed = 0
        public var candidatesAdmitted = 0
        public var candidatesRefused = 0
    }

    struct Probe: Sendable {
        let target: MemberID
        let sequence: UInt64
        let directDeadline: MonotonicTime
        let deadline: MonotonicTime
        var indirect = false
        var relays = 0
        /// Relays that answered nack: each failed to reach the target from its own vantage point.
        var nackers: [MemberID] = []
    }

    /// A ping this node sends on behalf of another member's ping request.
    struct Relay: Sendable {
        let origin: MemberID
        let originSequence: UInt64
        let nackAt: MonotonicTime
        let expiresAt: MonotonicTime
        var nacked = false
    }

    public let localID: MemberID
    public let settings: MembershipSettings
    public internal(set) var address: NetAddress?
    /// This node's incarnation; raised only to refute suspicions about itself.
    public internal(set) var incarnation: UInt64 = 0
    /// Lifeguard's local health multiplier, 0 (healthy) … `maxLocalHealth`; own timeouts × (LHM + 1).
    public internal(set) var localHealth = 0
    public internal(set) var counters = Counters()

    var members: [MemberID: Member] = [:]
    /// Members in a deterministic order (arrival, with swap-removal), for random choices.
    var memberList: [MemberID] = []
    var memberIndex: [MemberID: Int] = [:]
    /// Members not dead, plus this node: the N of the timeout and retransmission formulas.
    var liveCount = 1
    var suspicions: [MemberID: Suspicion] = [:]
    /// Members relayed by a third party, waiting to be heard from first-hand (Membership+Admission).
    var candidates: [MemberID: Candidate] = [:]
    var candidatesByIntroducer: [MemberID: Int] = [:]
    var suspicionDeadlines = SuspicionDeadlines()
    var broadcasts = BroadcastQueue()
    var probeOrder: [MemberID] = []
    var probeCursor = 0
    var probe: Probe?
    var relays: [UInt64: Relay] = [:]
    var nextSequence: UInt64 = 1
    var started = false
    var leaving = false
    var pushPending = false
    var nextProbeAt = MonotonicTime.zero
    var nextGossipAt = MonotonicTime.zero
    var nextPushPullAt = MonotonicTime.zero
    var nextReconnectAt = MonotonicTime.zero
    var announcedTick: MonotonicTime?
    var rng: SplitMix64

    /// - Parameters:
    ///   - knownMembers: members taken as alive at incarnation 0 without any message (a persisted
    ///     member list, or a simulation that starts from a formed cluster). Probing corrects them.
    public init(localID: MemberID, address: NetAddress? = nil, settings: MembershipSettings = .init(),
                seed: UInt64, knownMembers: [(MemberID, NetAddress?)] = []) {
        self.localID = localID
        self.address = address
        self.settings = settings
        self.rng = SplitMix64(seed: seed)
        for (id, address) in knownMembers where id != localID && members[id] == nil {
            insertMember(Member(id: id, address: address, status: .alive, incarnation: 0, statusSince: .zero))
        }
    }

    // MARK: - Queries

    /// Every other member this node knows, in a stable order.
    public var allMembers: [Member] { memberList.compactMap { members[$0] }.sorted { $0.id < $1.id } }

    public func member(_ id: MemberID) -> Member? { members[id] }

    public func status(of id: MemberID) -> MemberStatus? { id == localID ? .alive : members[id]?.status }

    /// Members this node considers alive or suspect (not counting itself).
    public var liveMembers: [MemberID] {
        memberList.filter { members[$0].map { $0.status != .dead } ?? false }.sorted()
    }

    /// The cluster size this node estimates (members not dead, including itself).
    public var clusterSize: Int { liveCount }

    // MARK: - Inputs

    /// Starts the timers. Inputs before `start` start it implicitly.
    public mutating func start(now: MonotonicTime) -> [Directive] {
        var out: [Directive] = []
        ensureStarted(now)
        finish(now, &out)
        return out
    }

    /// Sends this node's full state to `seeds` (bootstrap). The answers carry theirs.
    public mutating func join(seeds: [MemberID], now: MonotonicTime) -> [Directive] {
        var out: [Directive] = []
        ensureStarted(now)
        for seed in seeds where seed != localID {
            send(.init(.sync(members: fullState(), isReply: false)), to: seed, &out)
        }
        finish(now, &out)
        return out
    }

    /// A transport session with `peer` came up (`address`: where it can be dialed, if known). An unknown
    /// or dead peer gets a full-state exchange: this is how a restarted node rejoins and how the two
    /// sides of a healed partition re-merge.
    public mutating func onPeerConnected(_ peer: MemberID, address: NetAddress?, now: MonotonicTime) -> [Directive] {
        var out: [Directive] = []
        ensureStarted(now)
        if let address, members[peer] != nil { members[peer]?.address = address }
        if peer != localID, members[peer].map({ $0.status == .dead }) ?? true {
            send(.init(.sync(members: fullState(), isReply: false)), to: peer, &out)
        }
        finish(now, &out)
        return out
    }

    /// Announces a voluntary departure: the node declares itself dead at its own incarnation, which
    /// every member accepts at once (no suspicion period). The shell stops the node afterwards.
    public mutating func leave(now: MonotonicTime) -> [Directive] {
        var out: [Directive] = []
        ensureStarted(now)
        leaving = true
        enqueue(MemberUpdate(member: localID, status: .dead, incarnation: incarnation, source: localID), urgent: true)
        finish(now, &out)
        return out
    }

    /// Timers: suspicion timeouts, relay nacks, the probe cycle, gossip, anti-entropy.
    public mutating func onTick(now: MonotonicTime) -> [Directive] {
        var out: [Directive] = []
        ensureStarted(now)
        // A tick far behind its deadline means this node was not running: whatever timed out meanwhile
        // may have been answered in the inbox it has not read yet.
        let stalled = announcedTick.map { now > $0 + settings.lateTickTolerance } ?? false
        announcedTick = nil
        if stalled {
            counters.stalls += 1
            adjustHealth(+1)
        }
        expireSuspicions(now: now, stalled: stalled, &out)
        tendCandidates(now: now, &out)
        runRelayTimers(now: now, &out)
        advanceProbe(now: now, stalled: stalled, &out)
        if now >= nextGossipAt, !broadcasts.isEmpty {
            gossipRound(now: now, &out)
        }
        if now >= nextPushPullAt {
            nextPushPullAt = now + settings.pushPullInterval
            if let peer = randomMembers(count: 1, where: { $0.status == .alive }).first {
                send(.init(.sync(members: fullState(), isReply: false)), to: peer, &out)
            }
        }
        if now >= nextReconnectAt {
            nextReconnectAt = now + settings.reconnectInterval
            // liveCount counts this node too: any member beyond it is dead.
            if memberList.count >= liveCount {
                forgetLongDead(now: now)
                if let peer = randomMembers(count: 1, where: { $0.status == .dead }).first {
                    send(.init(.sync(members: fullState(), isReply: false)), to: peer, &out)
                }
            }
        }
        finish(now, &out)
        return out
    }

    /// A message from `sender` (an authenticated session identity).
    public mutating func onMessage(_ message: SWIMMessage, from sender: MemberID, now: MonotonicTime) -> [Directive] {
        var out: [Directive] = []
        ensureStarted(now)
        guard sender != localID else { return [] }
        admitIfCandidate(sender, now: now, &out)
        for update in message.updates { apply(update, now: now, sender: sender, &out) }
        switch message.kind {
        case let .ping(sequence):
            send(SWIMMessage(.ack(sequence: sequence), updates: piggyback(for: sender)), to: sender, &out)
        case let .pingRequest(sequence, target, timeoutMilliseconds):
            handlePingRequest(sequence: sequence, target: target, timeoutMilliseconds: timeoutMilliseconds,
                              from: sender, now: now, &out)
        case let .ack(sequence):
            handleAck(sequence: sequence, from: sender, now: now, &out)
        case let .nack(sequence):
            if var p = probe, p.sequence == sequence, p.indirect, !p.nackers.contains(sender) {
                p.nackers.append(sender)
                counters.nacksReceived += 1
                probe = p
                // Every relay has reported: nothing more to wait for.
                if p.nackers.count == p.relays {
                    probeFailed(p, now: now, &out)
                    probe = nil
                }
            }
        case .gossip:
            break
        case let .sync(state, isReply):
            for update in state { apply(update, now: now, sender: sender, fromSync: true, &out) }
            if !isReply { send(.init(.sync(members: fullState(), isReply: true)), to: sender, &out) }
        }
        finish(now, &out)
        return out
    }

    // MARK: - Shared internals

    mutating func ensureStarted(_ now: MonotonicTime) {
        guard !started else { return }
        started = true
        nextProbeAt = now + jitter(settings.probeInterval)
        nextGossipAt = now
        nextPushPullAt = now + jitter(settings.pushPullInterval)
        nextReconnectAt = now + jitter(settings.reconnectInterval)
    }

    /// Pushes urgent news, then asks for a tick at the earliest deadline if that changed.
    mutating func finish(_ now: MonotonicTime, _ out: inout [Directive]) {
        if pushPending {
            pushPending = false
            gossipRound(now: now, &out)
        }
        let next = nextDeadline(now: now)
        if next != announcedTick {
            announcedTick = next
            out.append(.scheduleTick(after: next.since(now)))
        }
    }

    mutating func nextDeadline(now: MonotonicTime) -> MonotonicTime {
        var next = nextPushPullAt
        next = min(next, nextReconnectAt)
        if let p = probe {
            next = min(next, p.indirect ? p.deadline : p.directDeadline)
        } else {
            next = min(next, nextProbeAt)
        }
        if !broadcasts.isEmpty { next = min(next, nextGossipAt) }
        if let earliest = earliestSuspicionDeadline() { next = min(next, earliest) }
        for r in relays.values { next = min(next, r.nacked ? r.expiresAt : r.nackAt) }
        return max(next, now)
    }

    mutating func send(_ message: SWIMMessage, to peer: MemberID, _ out: inout [Directive]) {
        counters.messagesSent += 1
        out.append(.send(to: peer, message))
    }

    /// `d` × (LHM + 1): Lifeguard stretches the node's own timeouts while it looks unhealthy.
    func scaled(_ d: Duration) -> Duration { d * (localHealth + 1) }

    mutating func adjustHealth(_ delta: Int) {
        localHealth = min(max(localHealth + delta, 0), settings.maxLocalHealth)
    }

    /// A uniformly random fraction of `d`, to spread periodic work of many nodes over time.
    mutating func jitter(_ d: Duration) -> Duration {
        .nanoseconds(Int64(Double(d.nanoseconds) * Double(rng.next() >> 11) / Double(1 << 53)))
    }

    /// Up to `count` distinct random members matching `predicate` (sampling, so O(count) when most
    /// members match, as memberlist's kRandomNodes).
    mutating func randomMembers(count: Int, where predicate: (Member) -> Bool) -> [MemberID] {
        guard count > 0, !memberList.isEmpty else { return [] }
        var chosen: [MemberID] = []
        var tries = 0
        while chosen.count < count, tries < 3 * memberList.count + 3 * count {
            tries += 1
            let id = memberList[Int(rng.next() % UInt64(memberList.count))]
            if let m = members[id], predicate(m), !chosen.contains(id) { chosen.append(id) }
        }
        return chosen
    }

    /// Records the current deadline of `id`'s suspicion (after it started or changed).
    mutating func trackSuspicion(_ id: MemberID) {
        if let s = suspicions[id] { suspicionDeadlines.push(s.deadline, id) }
    }

    /// The earliest deadline of a running suspicion, dropping heap entries that no longer match one.
    mutating func earliestSuspicionDeadline() -> MonotonicTime? {
        while let (time, id) = suspicionDeadlines.top {
            if suspicions[id]?.deadline == time { return time }
            suspicionDeadlines.popTop()
        }
        return nil
    }

    mutating func insertMember(_ m: Member) {
        members[m.id] = m
        memberIndex[m.id] = memberList.count
        memberList.append(m.id)
        if m.status != .dead { liveCount += 1 }
        // A new member joins the probe rotation at a random point of the remaining round.
        let remaining = probeOrder.count - probeCursor
        let position = probeCursor + (remaining > 0 ? Int(rng.next() % UInt64(remaining + 1)) : 0)
        probeOrder.insert(m.id, at: min(position, probeOrder.count))
    }

    mutating func removeMember(_ id: MemberID) {
        guard let m = members.removeValue(forKey: id), let index = memberIndex.removeValue(forKey: id) else { return }
        if m.status != .dead { liveCount -= 1 }
        let last = memberList.removeLast()
        if last != id {
            memberList[index] = last
            memberIndex[last] = index
        }
        suspicions[id] = nil
    }

    /// Sets a member's status, keeping the live count, and reports the change.
    mutating func setStatus(_ id: MemberID, _ status: MemberStatus, incarnation: UInt64, now: MonotonicTime,
                            _ out: inout [Directive]) {
        guard var m = members[id] else { return }
        let old = m.status
        m.incarnation = incarnation
        if status != .dead { m.departed = false }
        if old != status {
            m.status = status
            m.statusSince = now
            if old == .dead { liveCount += 1 }
            if status == .dead { liveCount -= 1 }
        }
        members[id] = m
        if status != .suspect { suspicions[id] = nil }
        if old != status { out.append(.memberStatusChanged(id, old: old, new: status)) }
    }

    private mutating func forgetLongDead(now: MonotonicTime) {
        let expired = memberList.filter { id in
            members[id].map { $0.status == .dead && now.since($0.statusSince) >= settings.deadMemberRetention } ?? false
        }
        for id in expired { removeMember(id) }
    }
}
