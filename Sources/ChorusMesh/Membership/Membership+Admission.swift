/// Admission: a member is taken in only on its own word. An `alive` update about an unknown member
/// that arrives first-hand (in a datagram that member signed) adds it at once; one relayed by a third
/// party only makes it a *candidate*, which this node pings directly and admits when any datagram
/// signed by the candidate arrives. Invented keys never answer, so one datagram listing 5,000 of them
/// no longer fills every node's view (and, spread on, hides real crashes behind them).
///
/// What a peer can make the node hold is bounded: at most `maxCandidates` candidates, at most
/// `maxCandidatesPerIntroducer` introduced by one source, each forgotten after `candidateTimeout`
/// (Specs/membership.md §1, admission).
extension Membership {
    /// A member learned from a third party and not yet heard from itself.
    struct Candidate: Sendable, Equatable {
        let address: NetAddress?
        let incarnation: UInt64
        let introducer: MemberID
        let since: MonotonicTime
        var lastPing: MonotonicTime
        var pings = 1
    }

    /// Pings to a candidate at most (one lost datagram must not hide a member until the next
    /// full-state exchange), one per probe interval.
    static let candidatePings = 3

    /// Where to send to `id`: a member's or a candidate's address.
    public func address(of id: MemberID) -> NetAddress? {
        members[id]?.address ?? candidates[id]?.address
    }

    /// Candidates waiting for their own datagram (introspection and tests).
    public var candidateCount: Int { candidates.count }

    /// Records `update` (alive, about an unknown member, relayed by `introducer`) as a candidate and
    /// pings it, unless the bounds are reached.
    mutating func addCandidate(_ update: MemberUpdate, introducer: MemberID, now: MonotonicTime, _ out: inout [Directive]) {
        guard candidates[update.member] == nil else { return }
        guard candidates.count < settings.maxCandidates,
              candidatesByIntroducer[introducer, default: 0] < settings.maxCandidatesPerIntroducer else {
            counters.candidatesRefused += 1
            return
        }
        candidates[update.member] = Candidate(address: update.address, incarnation: update.incarnation,
                                              introducer: introducer, since: now, lastPing: now)
        candidatesByIntroducer[introducer, default: 0] += 1
        counters.candidatesProbed += 1
        // A bare ping: nothing piggybacked to an address nobody has vouched for yet.
        send(SWIMMessage(.ping(sequence: nextSequence)), to: update.member, &out)
        nextSequence += 1
    }

    /// A datagram signed by `sender` arrived: a candidate proved its identity and is admitted.
    mutating func admitIfCandidate(_ sender: MemberID, now: MonotonicTime, _ out: inout [Directive]) {
        guard let c = removeCandidate(sender), members[sender] == nil else { return }
        counters.candidatesAdmitted += 1
        insertMember(Member(id: sender, address: c.address, status: .alive, incarnation: c.incarnation, statusSince: now))
        out.append(.memberStatusChanged(sender, old: nil, new: .alive))
        enqueue(MemberUpdate(member: sender, status: .alive, incarnation: c.incarnation, address: c.address), urgent: false)
    }

    /// Pings candidates again (up to `candidatePings` times, a probe interval apart) and forgets
    /// those that did not answer within `candidateTimeout`.
    mutating func tendCandidates(now: MonotonicTime, _ out: inout [Directive]) {
        for id in candidates.keys.sorted() {
            guard var c = candidates[id] else { continue }
            if now.since(c.since) >= settings.candidateTimeout {
                removeCandidate(id)
            } else if c.pings < Self.candidatePings, now.since(c.lastPing) >= settings.probeInterval {
                c.pings += 1
                c.lastPing = now
                candidates[id] = c
                send(SWIMMessage(.ping(sequence: nextSequence)), to: id, &out)
                nextSequence += 1
            }
        }
    }

    @discardableResult
    private mutating func removeCandidate(_ id: MemberID) -> Candidate? {
        guard let c = candidates.removeValue(forKey: id) else { return nil }
        let left = candidatesByIntroducer[c.introducer, default: 1] - 1
        candidatesByIntroducer[c.introducer] = left > 0 ? left : nil
        return c
    }
}
