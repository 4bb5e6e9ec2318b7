import ChorusCrypto

/// Failure detection: the probe cycle (direct ping, indirect ping through relays, suspicion),
/// relaying for others with Lifeguard's nacks, and suspicion timeouts.
extension Membership {
    mutating func advanceProbe(now: MonotonicTime, stalled: Bool, _ out: inout [Directive]) {
        if var p = probe {
            if stalled && now >= p.directDeadline {
                // Our own timer fired late: the silence may be ours, not the target's.
                counters.probesInconclusive += 1
                probe = nil
            } else if now >= p.deadline {
                probeFailed(p, now: now, &out)
                probe = nil
            } else if !p.indirect, now >= p.directDeadline {
                p.indirect = true
                // Relays get one ping timeout (enough for a round trip to the target), at most the rest
                // of the probe interval; their nacks then come early enough to conclude before it ends.
                let window = min(p.deadline.since(now), scaled(settings.pingTimeout))
                let ms = UInt32(clamping: window.nanoseconds / 1_000_000)
                let relays = randomMembers(count: settings.indirectProbes) { $0.status == .alive && $0.id != p.target }
                for relay in relays {
                    let request = SWIMMessage.Kind.pingRequest(sequence: p.sequence, target: p.target, timeoutMilliseconds: ms)
                    send(SWIMMessage(request, updates: piggyback(for: relay)), to: relay, &out)
                }
                counters.pingRequestsSent += relays.count
                p.relays = relays.count
                probe = p
            }
        }
        if probe == nil, now >= nextProbeAt {
            startProbe(now: now, &out)
        }
    }

    private mutating func startProbe(now: MonotonicTime, _ out: inout [Directive]) {
        let interval = scaled(settings.probeInterval)
        nextProbeAt = now + interval
        guard let target = nextProbeTarget() else { return }
        let sequence = nextSequence
        nextSequence += 1
        probe = Probe(target: target, sequence: sequence,
                      directDeadline: now + scaled(settings.pingTimeout), deadline: now + interval)
        counters.probes += 1
        var message = SWIMMessage(.ping(sequence: sequence))
        message.updates = piggyback(for: target)
        send(message, to: target, &out)
    }

    /// Round robin over a shuffled list of members that are not dead; reshuffled every round.
    private mutating func nextProbeTarget() -> MemberID? {
        for _ in 0..<2 {
            while probeCursor < probeOrder.count {
                let id = probeOrder[probeCursor]
                probeCursor += 1
                if let m = members[id], m.status != .dead { return id }
            }
            probeOrder = memberList.filter { members[$0]?.status != .dead }
            probeOrder.shuffle(using: &rng)
            probeCursor = 0
        }
        return nil
    }

    mutating func probeFailed(_ p: Probe, now: MonotonicTime, _ out: inout [Directive]) {
        counters.probesFailed += 1
        // Lifeguard: relays that did not even nack suggest that we are the slow one; with no relay to
        // compare against, any failed probe counts against our own health.
        adjustHealth(p.relays > 0 ? p.relays - p.nackers.count : 1)
        guard let m = members[p.target], m.status != .dead else { return }
        apply(MemberUpdate(member: p.target, status: .suspect, incarnation: m.incarnation, source: localID),
              now: now, &out)
        // Each nack is an independent failure to reach the target: it confirms our suspicion (locally;
        // the relays did not accuse anyone, so nothing is gossiped in their name).
        for relay in p.nackers { _ = suspicions[p.target]?.confirm(relay) }
        trackSuspicion(p.target)
    }

    mutating func handleAck(sequence: UInt64, from sender: MemberID, now: MonotonicTime, _ out: inout [Directive]) {
        if let p = probe, p.sequence == sequence {
            probe = nil
            adjustHealth(-1)
            return
        }
        if let relay = relays.removeValue(forKey: sequence) {
            var message = SWIMMessage(.ack(sequence: relay.originSequence))
            message.updates = piggyback(for: relay.origin)
            send(message, to: relay.origin, &out)
        }
    }

    mutating func handlePingRequest(sequence: UInt64, target: MemberID, timeoutMilliseconds: UInt32,
                                    from origin: MemberID, now: MonotonicTime, _ out: inout [Directive]) {
        guard target != localID else {
            // Asked to probe ourselves: answer directly as the ack the relay would forward.
            send(SWIMMessage(.ack(sequence: sequence), updates: piggyback(for: origin)), to: origin, &out)
            return
        }
        let window = Duration.milliseconds(Int64(timeoutMilliseconds))
        let own = nextSequence
        nextSequence += 1
        relays[own] = Relay(origin: origin, originSequence: sequence,
                            nackAt: now + window * settings.nackFraction, expiresAt: now + window)
        var message = SWIMMessage(.ping(sequence: own))
        message.updates = piggyback(for: target)
        send(message, to: target, &out)
    }

    mutating func runRelayTimers(now: MonotonicTime, _ out: inout [Directive]) {
        guard !relays.isEmpty else { return }
        for sequence in relays.keys.sorted() {
            guard var relay = relays[sequence] else { continue }
            if now >= relay.expiresAt {
                relays[sequence] = nil
            } else if !relay.nacked, now >= relay.nackAt {
                relay.nacked = true
                relays[sequence] = relay
                counters.nacksSent += 1
                var message = SWIMMessage(.nack(sequence: relay.originSequence))
                message.updates = piggyback(for: relay.origin)
                send(message, to: relay.origin, &out)
            }
        }
    }

    mutating func expireSuspicions(now: MonotonicTime, stalled: Bool, _ out: inout [Directive]) {
        while let time = earliestSuspicionDeadline(), time <= now, let (_, id) = suspicionDeadlines.top {
            suspicionDeadlines.popTop()
            guard let m = members[id], m.status == .suspect else {
                suspicions[id] = nil
                continue
            }
            if stalled {
                // Read the inbox first: a refutation may be waiting in it.
                suspicions[id]?.deferredUntil = now + settings.pingTimeout
                trackSuspicion(id)
                continue
            }
            counters.deathsDeclared += 1
            apply(MemberUpdate(member: id, status: .dead, incarnation: m.incarnation, source: localID), now: now, &out)
        }
    }
}
