import ChorusCrypto
import Testing
@testable import ChorusMesh

private typealias Cluster = MembershipClusterForTests

private func id(_ i: Int) -> Ed25519.PublicKey { Cluster.identity(i) }

private func sends(_ ds: [Membership.Directive]) -> [(Ed25519.PublicKey, SWIMMessage)] {
    ds.compactMap { if case let .send(to, m) = $0 { return (to, m) } else { return nil } }
}

@Suite struct MembershipTests {
    // MARK: - Probing

    @Test func pingIsAnsweredWithAckOfTheSameSequence() {
        var m = Membership(localID: id(0), seed: 1, knownMembers: [(id(1), nil)])
        let out = sends(m.onMessage(SWIMMessage(.ping(sequence: 42)), from: id(1), now: .seconds(1)))
        #expect(out.count == 1)
        #expect(out.first?.0 == id(1))
        #expect(out.first?.1.kind == .ack(sequence: 42))
    }

    @Test func healthyClusterProbesWithoutSuspicion() {
        var c = Cluster(nodes: 5, seed: 1)
        c.run(for: .seconds(20))
        #expect(c.changes.isEmpty)
        for node in c.nodes {
            // 20 s at one probe per 500 ms, give or take the random start.
            #expect(node.counters.probes >= 38)
            #expect(node.counters.probesFailed == 0)
            #expect(node.counters.pingRequestsSent == 0)
            #expect(node.localHealth == 0)
        }
    }

    @Test func indirectProbeSucceedsWhenTheDirectLinkLosesEverything() {
        var c = Cluster(nodes: 5, seed: 2)
        c.drop = { from, to, _ in Set([from, to]) == [0, 1] }
        c.run(for: .seconds(30))
        #expect(c.nodes[0].counters.pingRequestsSent > 0)
        #expect(c.nodes[1].counters.pingRequestsSent > 0)
        #expect(c.nodes[0].counters.probesFailed == 0)
        #expect(c.nodes[1].counters.probesFailed == 0)
        #expect(c.changes.isEmpty)
        #expect(c.nodes[0].localHealth == 0)
    }

    @Test func silentMemberIsSuspectedThenDeclaredDeadWithinTheSuspicionBounds() throws {
        var c = Cluster(nodes: 5, seed: 3)
        c.crashed = [4]
        c.run(for: .seconds(30))
        let firstSuspect = try #require(c.changes.first { $0.member == 4 && $0.new == .suspect })
        let firstDead = try #require(c.changes.first { $0.member == 4 && $0.new == .dead })
        // N = 5: min = max(2 s, 2 s × log10 5) = 2 s, max = 12 s.
        let suspicion = firstDead.at.since(firstSuspect.at)
        #expect(suspicion >= .seconds(2))
        #expect(suspicion <= .seconds(12))
        for observer in 0..<4 { #expect(c.status(4, at: observer) == .dead) }
        // Nobody else was accused.
        #expect(c.changes.allSatisfy { $0.member == 4 })
    }

    @Test func suspicionTimeoutFallsWithIndependentConfirmations() {
        let settings = MembershipSettings()
        var s = Suspicion(start: .zero, origin: id(0), clusterSize: 100, settings: settings)
        #expect(s.minTimeout == .seconds(4))
        #expect(s.maxTimeout == .seconds(24))
        #expect(s.timeout == .seconds(24))
        var accepted: [Bool] = []
        var timeouts: [Double] = []
        for source in [0, 1, 1, 2, 3, 4] {  // the origin does not confirm itself, nobody counts twice
            accepted.append(s.confirm(id(source)))
            timeouts.append(Double(s.timeout.nanoseconds) / 1e9)
        }
        #expect(accepted == [false, true, false, true, true, false])  // three are enough
        let expected = [24, 14, 14, 8.150, 4, 4]
        #expect(zip(timeouts, expected).allSatisfy { abs($0 - $1) < 0.001 }, "\(timeouts)")
        // Small clusters: the floor applies and there is nobody to confirm.
        let small = Suspicion(start: .zero, origin: id(0), clusterSize: 2, settings: settings)
        #expect(small.minTimeout == .seconds(2))
        #expect(small.timeout == .seconds(2))
    }

    // MARK: - Refutation and incarnations

    @Test func suspectedMemberRefutesWithAHigherIncarnation() {
        var c = Cluster(nodes: 4, seed: 4)
        c.run(for: .seconds(1))
        // Node 0 hears that node 1 is suspect (as if node 2 had failed to probe it).
        c.deliver(SWIMMessage(.gossip, updates: [MemberUpdate(member: id(1), status: .suspect, incarnation: 0, source: id(2))]),
                  from: 2, to: 0)
        #expect(c.status(1, at: 0) == .suspect)
        // Node 0 pushes the suspicion at once; node 1 refutes on receipt.
        c.run(for: .milliseconds(50))
        #expect(c.nodes[1].incarnation == 1)
        #expect(c.nodes[1].counters.refutations == 1)
        #expect(c.nodes[1].localHealth == 1)  // being suspected counts against our own health
        c.run(for: .seconds(3))
        for observer in [0, 2, 3] {
            #expect(c.status(1, at: observer) == .alive)
            #expect(c.nodes[observer].member(id(1))?.incarnation == 1)
        }
        #expect(!c.changes.contains { $0.new == .dead })
    }

    @Test func updatesFollowTheIncarnationOrder() {
        var m = Membership(localID: id(0), seed: 5, knownMembers: [(id(1), nil), (id(2), nil)])
        func hear(_ status: MemberStatus, _ incarnation: UInt64) {
            let u = MemberUpdate(member: id(1), status: status, incarnation: incarnation, source: id(2))
            _ = m.onMessage(SWIMMessage(.gossip, updates: [u]), from: id(2), now: .seconds(1))
        }
        hear(.suspect, 0)
        #expect(m.status(of: id(1)) == .suspect)
        hear(.alive, 0)  // same incarnation: the suspicion stands
        #expect(m.status(of: id(1)) == .suspect)
        hear(.alive, 1)  // refuted
        #expect(m.status(of: id(1)) == .alive)
        hear(.suspect, 0)  // stale
        #expect(m.status(of: id(1)) == .alive)
        hear(.dead, 1)  // dead beats alive at the same incarnation
        #expect(m.status(of: id(1)) == .dead)
        hear(.alive, 1)
        hear(.suspect, 5)
        #expect(m.status(of: id(1)) == .dead)
        hear(.alive, 2)  // only a higher incarnation brings it back
        #expect(m.status(of: id(1)) == .alive)
        #expect(m.member(id(1))?.incarnation == 2)
    }

    @Test func deathAboutItselfIsRefutedAndALeaveIsNot() {
        var m = Membership(localID: id(0), seed: 6, knownMembers: [(id(1), nil)])
        let out = m.onMessage(SWIMMessage(.gossip, updates: [MemberUpdate(member: id(0), status: .dead, incarnation: 3, source: id(1))]),
                              from: id(1), now: .seconds(1))
        #expect(m.incarnation == 4)
        // The refutation is pushed at once.
        #expect(sends(out).contains { $0.1.updates.contains(MemberUpdate(member: id(0), status: .alive, incarnation: 4)) })
        _ = m.leave(now: .seconds(2))
        _ = m.onMessage(SWIMMessage(.gossip, updates: [MemberUpdate(member: id(0), status: .dead, incarnation: 4, source: id(1))]),
                        from: id(1), now: .seconds(3))
        #expect(m.incarnation == 4)
    }

    /// The datagram that once crashed a network: `suspect(B, 2^64 − 1)` from a throwaway key made B
    /// trap on `incarnation + 1`, and the others' gossip crashed it again after every restart.
    @Test func forgedHugeIncarnationsNeitherTrapNorSilenceAMember() {
        let attacker = id(9)
        var b = Membership(localID: id(1), seed: 11, knownMembers: [(id(0), nil)])
        for incarnation in [UInt64.max, UInt64.max - 1, MemberUpdate.maxIncarnation, 1 << 40] {
            for status in [MemberStatus.suspect, .dead, .alive] {
                let u = MemberUpdate(member: id(1), status: status, incarnation: incarnation, source: attacker)
                _ = b.onMessage(SWIMMessage(.gossip, updates: [u]), from: attacker, now: .seconds(1))
            }
        }
        #expect(b.incarnation == 0)
        #expect(b.counters.refutations == 0)
        #expect(b.counters.implausibleIncarnations == 12)
        // A third party hearing the same about B keeps B alive at the incarnation it knows.
        var c = Membership(localID: id(2), seed: 12, knownMembers: [(id(1), nil)])
        for status in [MemberStatus.alive, .suspect, .dead] {
            let u = MemberUpdate(member: id(1), status: status, incarnation: .max, source: attacker)
            _ = c.onMessage(SWIMMessage(.gossip, updates: [u]), from: attacker, now: .seconds(1))
        }
        #expect(c.status(of: id(1)) == .alive)
        #expect(c.member(id(1))?.incarnation == 0)
        // Nor can it introduce a member at an incarnation that member could not refute past.
        let invented = MemberUpdate(member: id(5), status: .alive, incarnation: 1 << 61)
        _ = c.onMessage(SWIMMessage(.sync(members: [invented], isReply: true)), from: attacker, now: .seconds(2))
        #expect(c.member(id(5)) == nil)
        #expect(c.counters.implausibleIncarnations == 4)
    }

    @Test func accusationsWithinTheStepAreRefutedAndFirstHandAliveMayJump() {
        var b = Membership(localID: id(1), seed: 13, knownMembers: [(id(0), nil)])
        // A restarted identity hears its old incarnation: it refutes past it.
        let old = MemberUpdate(member: id(1), status: .suspect, incarnation: 57, source: id(0))
        _ = b.onMessage(SWIMMessage(.gossip, updates: [old]), from: id(0), now: .seconds(1))
        #expect(b.incarnation == 58)
        // Step by step, refutations stay below the wire maximum: no overflow at the top either.
        var top = Membership(localID: id(1), seed: 14, knownMembers: [(id(0), nil)])
        top.incarnation = MemberUpdate.maxIncarnation - 1
        let atMax = MemberUpdate(member: id(1), status: .dead, incarnation: MemberUpdate.maxIncarnation, source: id(0))
        _ = top.onMessage(SWIMMessage(.gossip, updates: [atMax]), from: id(0), now: .seconds(1))
        #expect(top.incarnation == MemberUpdate.maxIncarnation)
        // A member's own alive may carry any incarnation up to the maximum (it only binds itself).
        var c = Membership(localID: id(2), seed: 15, knownMembers: [(id(1), nil)])
        let own = MemberUpdate(member: id(1), status: .alive, incarnation: 5_000)
        _ = c.onMessage(SWIMMessage(.gossip, updates: [own]), from: id(1), now: .seconds(1))
        #expect(c.member(id(1))?.incarnation == 5_000)
        // Relayed, its next refutation (+1) is within the step.
        let relayed = MemberUpdate(member: id(1), status: .alive, incarnation: 5_001)
        _ = c.onMessage(SWIMMessage(.gossip, updates: [relayed]), from: id(0), now: .seconds(2))
        #expect(c.member(id(1))?.incarnation == 5_001)
        #expect(c.counters.implausibleIncarnations == 0)
    }

    /// Relayed members are candidates until they answer: 5,000 invented ones in one full state leave
    /// at most `maxCandidatesPerIntroducer` waiting, none admitted; a real one that answers is.
    @Test func relayedMembersArePingedAndAdmittedOnlyWhenTheyAnswer() {
        var m = Membership(localID: id(0), seed: 16, knownMembers: [(id(1), nil)])
        let invented = (0..<5_000).map { k in
            MemberUpdate(member: Ed25519.SigningKey.generate().publicKey, status: .alive, incarnation: UInt64(k % 3))
        }
        let real = MemberUpdate(member: id(2), status: .alive, incarnation: 4)
        let out = m.onMessage(SWIMMessage(.sync(members: [real] + invented, isReply: true)), from: id(1), now: .seconds(1))
        #expect(m.candidateCount == m.settings.maxCandidatesPerIntroducer)
        #expect(m.counters.candidatesRefused == 5_001 - m.settings.maxCandidatesPerIntroducer)
        #expect(m.member(id(2)) == nil)
        // Each candidate got one bare ping.
        let pings = sends(out).filter { if case .ping = $0.1.kind { return $0.1.updates.isEmpty } else { return false } }
        #expect(pings.count == m.settings.maxCandidatesPerIntroducer)
        // The real member answers (any datagram it signed): admitted at the relayed incarnation.
        _ = m.onMessage(SWIMMessage(.ack(sequence: 1)), from: id(2), now: .seconds(1.5))
        #expect(m.member(id(2))?.status == .alive && m.member(id(2))?.incarnation == 4)
        // The rest never answer: pinged again, then forgotten.
        _ = m.onTick(now: .seconds(2))
        _ = m.onTick(now: .seconds(7))
        #expect(m.candidateCount == 0)
        #expect(m.allMembers.count == 2)
    }

    @Test func leavingMemberIsDeadEverywhereWithoutSuspicion() {
        var c = Cluster(nodes: 5, seed: 7)
        c.run(for: .seconds(1))
        let out = c.nodes[2].leave(now: c.now)
        for (to, message) in sends(out) { c.deliver(message, from: 2, to: c.index(of: to)) }
        c.crashed = [2]
        c.run(for: .seconds(2))
        for observer in [0, 1, 3, 4] { #expect(c.status(2, at: observer) == .dead) }
        #expect(!c.changes.contains { $0.member == 2 && $0.new == .suspect })
    }

    // MARK: - Lifeguard

    @Test func localHealthRisesWhileAcksAndNacksAreLostAndRecoversAfterwards() {
        var c = Cluster(nodes: 6, seed: 8)
        // Node 0 receives nothing: every probe of its own fails and no relay's nack reaches it.
        c.drop = { _, to, _ in to == 0 }
        c.run(for: .seconds(10))
        #expect(c.nodes[0].localHealth == c.nodes[0].settings.maxLocalHealth)
        #expect(c.nodes[0].counters.probesFailed > 0)
        // Its probe interval is now 9×: far fewer probes than a healthy node.
        let before = c.nodes[0].counters.probes
        let healthyBefore = c.nodes[1].counters.probes
        c.run(for: .seconds(9))
        #expect(c.nodes[0].counters.probes - before <= 3)
        #expect(c.nodes[1].counters.probes - healthyBefore >= 15)
        // Link repaired: successful probes bring the multiplier back down.
        c.drop = { _, _, _ in false }
        c.run(for: .seconds(90))
        #expect(c.nodes[0].localHealth == 0)
    }

    @Test func healthyRelaysNackSoTheProberKeepsItsHealth() {
        var c = Cluster(nodes: 6, seed: 9)
        c.crashed = [5]
        c.run(for: .seconds(10))
        // Probes of the crashed node failed, but the relays answered nack: no sign of own slowness.
        let failed = c.nodes[0..<5].map(\.counters.probesFailed).reduce(0, +)
        #expect(failed > 0)
        #expect(c.nodes[0..<5].map(\.counters.nacksReceived).reduce(0, +) >= failed * 3)
        #expect(c.nodes[0..<5].allSatisfy { $0.localHealth == 0 })
    }

    @Test func relaysNacksConfirmTheSuspicionSoTheMinimumTimeoutApplies() throws {
        var c = Cluster(nodes: 6, seed: 14)
        c.crashed = [5]
        c.run(for: .seconds(20))
        // The first accuser's three relays all answered nack: three confirmations at once, so its
        // suspicion lasts exactly the minimum, max(2 s, 2 s × log10 6) = 2 s, instead of up to 12 s.
        let suspect = try #require(c.changes.first { $0.member == 5 && $0.new == .suspect })
        let dead = try #require(c.changes.first { $0.member == 5 && $0.new == .dead && $0.observer == suspect.observer })
        #expect(dead.at.since(suspect.at) == .seconds(2))
        #expect(c.nodes[suspect.observer].counters.deathsDeclared == 1)
    }

    @Test func timeoutsThatFireWhileTheNodeWasStalledAccuseNobody() {
        var m = Membership(localID: id(0), seed: 10, knownMembers: [(id(1), nil), (id(2), nil)])
        var out = m.start(now: .zero)
        // Run until the first ping goes out, then stall for 3 s (the ack is "in the inbox").
        var now = MonotonicTime.zero
        while sends(out).isEmpty {
            guard case let .scheduleTick(after)? = out.last else { Issue.record("no tick scheduled"); return }
            now = now + after
            out = m.onTick(now: now)
        }
        let stalledOut = m.onTick(now: now + .seconds(3))
        #expect(m.counters.probesInconclusive == 1)
        #expect(m.counters.stalls == 1)
        #expect(m.localHealth == 1)
        #expect(!stalledOut.contains { if case .memberStatusChanged = $0 { return true }; return false })
    }

    // MARK: - Joining, anti-entropy, partitions

    @Test func newNodeJoinsThroughOneSeedAndEveryoneLearnsIt() {
        var c = Cluster(nodes: 6, seed: 11, loners: [5])
        let out = c.nodes[5].join(seeds: [id(0)], now: c.now)
        for (to, message) in sends(out) { c.deliver(message, from: 5, to: c.index(of: to)) }
        c.run(for: .seconds(3))
        for observer in 0..<5 { #expect(c.status(5, at: observer) == .alive) }
        #expect(c.nodes[5].liveMembers.count == 5)
    }

    @Test func partitionedHalvesDeclareEachOtherDeadAndReMergeAfterHealing() {
        var c = Cluster(nodes: 8, seed: 12)
        let left: Set<Int> = [0, 1, 2, 3]
        c.drop = { from, to, _ in left.contains(from) != left.contains(to) }
        c.run(for: .seconds(60))
        for observer in 0..<8 {
            for member in 0..<8 where member != observer {
                #expect(c.status(member, at: observer) == (left.contains(member) == left.contains(observer) ? .alive : .dead))
            }
        }
        c.drop = { _, _, _ in false }
        c.run(for: .seconds(30))
        for observer in 0..<8 {
            #expect(c.nodes[observer].liveMembers.count == 7, "node \(observer) sees \(c.nodes[observer].liveMembers.count)")
        }
    }

    // MARK: - Determinism

    @Test func sameSeedGivesTheSameDirectives() {
        func trace(seed: UInt64) -> [String] {
            var c = Cluster(nodes: 7, seed: seed)
            c.lossRate = 0.05
            c.crashed = [6]
            c.run(for: .seconds(20))
            return c.trace
        }
        let a = trace(seed: 13), b = trace(seed: 13)
        #expect(a.count > 1000)
        #expect(a == b)
        #expect(a != trace(seed: 14))
    }
}
