import ChorusCrypto

/// Dissemination: applying updates (the incarnation rules), refutation, piggybacking, gossip rounds
/// and full-state exchanges.
extension Membership {
    /// Applies one update. `sender` is the node whose message carried it (nil for this node's own
    /// conclusions); `fromSync` says it came in that sender's full state. A death reported that way is
    /// only taken as a suspicion raised by the sender (as memberlist does), so that a node merging the
    /// view of a healed partition's other side lets its own side refute first. A full state is
    /// first-hand only about its sender, so members it introduces are not re-gossiped (a joiner
    /// would otherwise re-broadcast the whole cluster).
    ///
    /// Incarnations are peer-supplied numbers: an update relayed by a third party may raise what this
    /// node knows by at most `maxIncarnationStep` (only the member itself raises its incarnation, one
    /// per refutation), and an accusation about this node may lie at most that far above its own.
    mutating func apply(_ update: MemberUpdate, now: MonotonicTime, sender: MemberID? = nil, fromSync: Bool = false,
                        _ out: inout [Directive]) {
        if update.member == localID {
            applyAboutSelf(update)
            return
        }
        if update.member != sender, sender != nil {
            let known = members[update.member]?.incarnation ?? 0
            guard update.incarnation <= Self.adding(settings.maxIncarnationStep, to: known) else {
                counters.implausibleIncarnations += 1
                return
            }
        }
        var update = update
        if fromSync, let syncPeer = sender {
            if update.status == .dead {
                update.status = .suspect
                update.source = syncPeer
            } else if update.status == .suspect, update.source == nil {
                update.source = syncPeer
            }
        }
        switch update.status {
        case .alive where members[update.member] == nil && sender != nil && sender != update.member:
            // Relayed news of an unknown member: it must answer a ping before it counts.
            if let introducer = sender { addCandidate(update, introducer: introducer, now: now, &out) }
        case .alive: applyAlive(update, now: now, regossipIfNew: !fromSync || sender == update.member, &out)
        case .suspect: applySuspect(update, now: now, &out)
        case .dead: applyDead(update, now: now, &out)
        }
    }

    /// `base + step`, saturating: incarnations come from peers and must never trap.
    static func adding(_ step: UInt64, to base: UInt64) -> UInt64 {
        let (sum, overflow) = base.addingReportingOverflow(step)
        return overflow ? .max : sum
    }

    private mutating func applyAboutSelf(_ update: MemberUpdate) {
        guard update.incarnation <= Self.adding(settings.maxIncarnationStep, to: incarnation) else {
            counters.implausibleIncarnations += 1
            return
        }
        // Refuting moves past the update's incarnation. At the wire's maximum (2^62, never reached
        // honestly) the node stays there rather than announce what peers would refuse to decode.
        let next = min(Self.adding(1, to: update.incarnation), MemberUpdate.maxIncarnation)
        switch update.status {
        case .alive:
            // A higher incarnation of ourselves is from an earlier run of this identity: move past it.
            guard update.incarnation > incarnation else { return }
            incarnation = next
            enqueue(selfAlive, urgent: false)
        case .suspect, .dead:
            guard update.incarnation >= incarnation, !leaving else { return }
            incarnation = next
            counters.refutations += 1
            // Lifeguard: being suspected is a hint that we were slow to answer.
            adjustHealth(+1)
            enqueue(selfAlive, urgent: true)
        }
    }

    private mutating func applyAlive(_ update: MemberUpdate, now: MonotonicTime, regossipIfNew: Bool,
                                     _ out: inout [Directive]) {
        guard let m = members[update.member] else {
            insertMember(Member(id: update.member, address: update.address, status: .alive,
                                incarnation: update.incarnation, statusSince: now))
            out.append(.memberStatusChanged(update.member, old: nil, new: .alive))
            if regossipIfNew { enqueue(update, urgent: false) }
            return
        }
        guard update.incarnation > m.incarnation else { return }
        if let address = update.address { members[update.member]?.address = address }
        setStatus(update.member, .alive, incarnation: update.incarnation, now: now, &out)
        enqueue(update, urgent: m.status != .alive)
    }

    private mutating func applySuspect(_ update: MemberUpdate, now: MonotonicTime, _ out: inout [Directive]) {
        guard let m = members[update.member], m.status != .dead, update.incarnation >= m.incarnation else { return }
        let source = update.source ?? update.member
        if m.status == .suspect {
            if update.incarnation > m.incarnation { members[update.member]?.incarnation = update.incarnation }
            // Another node's independent suspicion: shortens the timeout, and others should count it too.
            if suspicions[update.member]?.confirm(source) == true {
                trackSuspicion(update.member)
                enqueue(MemberUpdate(member: update.member, status: .suspect,
                                     incarnation: update.incarnation, source: source), urgent: false)
            }
            return
        }
        if source == localID { counters.suspicionsRaised += 1 }
        setStatus(update.member, .suspect, incarnation: update.incarnation, now: now, &out)
        suspicions[update.member] = Suspicion(start: now, origin: source, clusterSize: liveCount, settings: settings)
        trackSuspicion(update.member)
        enqueue(MemberUpdate(member: update.member, status: .suspect, incarnation: update.incarnation, source: source),
                urgent: true)
    }

    private mutating func applyDead(_ update: MemberUpdate, now: MonotonicTime, _ out: inout [Directive]) {
        guard let m = members[update.member], m.status != .dead, update.incarnation >= m.incarnation else { return }
        members[update.member]?.departed = update.source == update.member
        setStatus(update.member, .dead, incarnation: update.incarnation, now: now, &out)
        enqueue(update, urgent: true)
    }

    var selfAlive: MemberUpdate {
        MemberUpdate(member: localID, status: .alive, incarnation: incarnation, address: address)
    }

    mutating func enqueue(_ update: MemberUpdate, urgent: Bool) {
        broadcasts.enqueue(update)
        if urgent { pushPending = true }
    }

    /// ⌈λ · ln(N + 1)⌉ transmissions per node. Every node then receives about that many copies, so it
    /// misses all of them with probability ≈ e^(−limit): ~10⁻⁶ per node at N = 100 with λ = 3.
    /// (memberlist's λ · ⌈log10(N + 1)⌉ steps from 8 to 12 at N = 99; at 97 live members it left about
    /// one node in 2,500 to its own, longer suspicion timeout.)
    var retransmitLimit: Int {
        let limit = settings.retransmitMultiplier * DeterministicMath.log(Double(liveCount + 1))
        return max(1, Int(limit.rounded(.up)))
    }

    /// Updates to attach to a message for `recipient`. A suspect recipient always gets its own
    /// suspicion first (Lifeguard's buddy system), so it can refute at once.
    mutating func piggyback(for recipient: MemberID) -> [MemberUpdate] {
        guard let m = members[recipient], m.status == .suspect else {
            return broadcasts.take(max: settings.maxUpdatesPerMessage, limit: retransmitLimit)
        }
        let buddy = MemberUpdate(member: recipient, status: .suspect, incarnation: m.incarnation,
                                 source: suspicions[recipient]?.origin ?? localID)
        let taken = broadcasts.take(max: settings.maxUpdatesPerMessage - 1, limit: retransmitLimit)
        return [buddy] + taken.filter { $0.member != recipient || $0.status != .suspect }
    }

    /// Sends pending updates to `gossipFanout` random members (live, or dead only recently, so that a
    /// falsely declared member hears about it).
    mutating func gossipRound(now: MonotonicTime, _ out: inout [Directive]) {
        nextGossipAt = now + settings.gossipInterval
        guard !broadcasts.isEmpty else { return }
        let recentDeath = settings.gossipToTheDead
        let targets = randomMembers(count: settings.gossipFanout) { m in
            m.status != .dead || now.since(m.statusSince) < recentDeath
        }
        for target in targets {
            let updates = piggyback(for: target)
            guard !updates.isEmpty else { break }
            send(SWIMMessage(.gossip, updates: updates), to: target, &out)
        }
    }

    /// This node's whole view, itself included, for a full-state exchange.
    func fullState() -> [MemberUpdate] {
        var state = [leaving ? MemberUpdate(member: localID, status: .dead, incarnation: incarnation, source: localID)
                             : selfAlive]
        for id in memberList {
            guard let m = members[id] else { continue }
            state.append(MemberUpdate(member: id, status: m.status, incarnation: m.incarnation, address: m.address,
                                      source: m.status == .alive ? nil : (suspicions[id]?.origin ?? localID)))
        }
        return state
    }
}
