import ChorusCrypto
import Testing
@testable import ChorusMesh

private func identity(_ n: UInt8) -> Ed25519.PublicKey {
    try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: n, count: 32))).publicKey
}

private func addr(_ s: String) -> NetAddress { try! NetAddress(parsing: s) }

private func dials(_ ds: [ConnectionManager.Directive]) -> [(ConnectionManager.ConnectionID, NetAddress)] {
    ds.compactMap { if case let .dial(id, a) = $0 { return (id, a) } else { return nil } }
}

@Suite struct ConnectionManagerTests {
    let me = identity(1)

    @Test func dialsUpToTheOutboundTargetAndNoMore() {
        var m = ConnectionManager(localIdentity: me, seed: 7)
        m.addCandidates((1...20).map { (addr("10.0.\($0).1:4000"), nil) })
        let first = dials(m.onTick(now: .zero))
        #expect(first.count == 8)
        #expect(Set(first.map(\.1)).count == 8)
        #expect(dials(m.onTick(now: .seconds(1))).isEmpty)
    }

    @Test func inboundLimitsPerGroupAndTotal() {
        var settings = ConnectionSettings()
        settings.inboundLimit = 5
        var m = ConnectionManager(localIdentity: me, settings: settings, seed: 1)
        var refused: [CloseReason] = []
        var peer: UInt8 = 10
        // Accepted connections complete their handshake: the total limit counts sessions.
        func arrive(_ address: String) {
            let (id, ds) = m.onInbound(from: addr(address), now: .zero)
            if case let .close(_, r) = ds.first! { refused.append(r); return }
            peer += 1
            _ = m.onHandshakeComplete(id, identity: identity(peer), advertised: nil, now: .zero)
        }
        for i in 1...4 { arrive("203.0.113.\(i):5000") }
        #expect(refused == [.groupLimit])  // the fourth from one /24
        for i in 1...3 { arrive("198.51.\(i).7:5000") }
        #expect(refused == [.groupLimit, .inboundLimit])  // 3 + 2 accepted, then full
        #expect(m.count(.inbound) == 5)
    }

    /// 500 half-open connections once filled every inbound slot and a fresh honest handshake was
    /// refused meanwhile. Handshakes are bounded apart from sessions, and a newcomer evicts the
    /// longest-running one, so the honest handshake always starts and completes.
    @Test func halfOpenConnectionsCannotKeepAnHonestHandshakeOut() {
        var m = ConnectionManager(localIdentity: me, seed: 2)
        var evicted = 0
        for k in 0..<500 {
            let (_, ds) = m.onInbound(from: addr("127.0.0.1:\(10_000 + k)"), now: .seconds(Double(k) / 1000))
            evicted += ds.filter { if case .close(_, .handshakeTimeout) = $0 { true } else { false } }.count
            #expect(ds.last.map { if case .startHandshake = $0 { true } else { false } } == true)
        }
        #expect(m.count(.inbound) == m.settings.maxInboundHandshakes)
        #expect(evicted == 500 - m.settings.maxInboundHandshakes)
        let (honest, ds) = m.onInbound(from: addr("127.0.0.1:9999"), now: .seconds(0.6))
        #expect(ds.contains(.startHandshake(honest)))
        let done = m.onHandshakeComplete(honest, identity: identity(99), advertised: nil, now: .seconds(0.601))
        #expect(done.contains(.peerConnected(honest, identity(99), .inbound)))
    }

    @Test func loopbackIsExemptFromTheGroupRule() {
        var m = ConnectionManager(localIdentity: me, seed: 1)
        for port in 1...10 {
            let (_, ds) = m.onInbound(from: addr("127.0.0.1:\(port)"), now: .zero)
            guard case .startHandshake = ds.first! else { Issue.record("refused loopback inbound #\(port)"); return }
        }
    }

    @Test func handshakeTimeoutClosesAndBacksOff() {
        var m = ConnectionManager(localIdentity: me, seed: 3)
        m.addCandidates([(addr("10.1.1.1:4000"), nil)])
        let (id, _) = dials(m.onTick(now: .zero))[0]
        _ = m.onDialConnected(id, now: .zero)
        let ds = m.onTick(now: .seconds(5.01))
        #expect(ds.contains(.close(id, .handshakeTimeout)))
        // Backoff: not re-dialed immediately, but within redialBase * 1.5.
        #expect(dials(ds).isEmpty)
        #expect(dials(m.onTick(now: .seconds(5.01 + 0.376))).count == 1)
    }

    @Test func simultaneousDialsKeepTheConnectionInitiatedByTheLowerKey() {
        let peer = identity(2)
        var a = ConnectionManager(localIdentity: me, seed: 1)
        var b = ConnectionManager(localIdentity: peer, seed: 2)
        a.addCandidates([(addr("10.0.0.2:4000"), peer)])
        b.addCandidates([(addr("10.0.0.1:4000"), me)])
        let (aOut, _) = dials(a.onTick(now: .zero))[0]
        let (bOut, _) = dials(b.onTick(now: .zero))[0]
        let (aIn, _) = a.onInbound(from: addr("10.0.0.2:50000"), now: .zero)
        let (bIn, _) = b.onInbound(from: addr("10.0.0.1:50001"), now: .zero)
        _ = a.onDialConnected(aOut, now: .zero)
        _ = b.onDialConnected(bOut, now: .zero)
        // a's outbound pairs with b's inbound, and vice versa; completions arrive in different orders.
        let a1 = a.onHandshakeComplete(aOut, identity: peer, advertised: nil, now: .zero)
        let a2 = a.onHandshakeComplete(aIn, identity: peer, advertised: nil, now: .zero)
        let b1 = b.onHandshakeComplete(bIn, identity: me, advertised: nil, now: .zero)
        let b2 = b.onHandshakeComplete(bOut, identity: me, advertised: nil, now: .zero)
        let lower = min(me, peer)
        // Connection "A dials B" survives iff A holds the lower key.
        let keepAOut = lower == me
        #expect(a.establishedPeers[peer] == (keepAOut ? aOut : aIn))
        #expect(b.establishedPeers[me] == (keepAOut ? bIn : bOut))
        #expect((a1 + a2 + b1 + b2).filter { if case .close(_, .duplicateSession) = $0 { return true }; return false }.count == 2)
    }

    @Test func lostOutboundSessionIsRedialedQuickly() {
        let peer = identity(9)
        var m = ConnectionManager(localIdentity: me, seed: 5)
        m.addCandidates([(addr("10.9.9.9:4000"), peer)])
        let (id, a) = dials(m.onTick(now: .zero))[0]
        _ = m.onDialConnected(id, now: .zero)
        let up = m.onHandshakeComplete(id, identity: peer, advertised: nil, now: .zero)
        #expect(up.contains(.rememberAddress(peer, a)))
        let down = m.onClosed(id, reason: .peerClosed, now: .seconds(10))
        #expect(down.contains(.peerDisconnected(id, peer, .peerClosed)))
        #expect(dials(m.onTick(now: .seconds(10.4))).count == 1)
    }

    @Test func aDeadMemberIsClosedThenRedialedWithBackoffAndAtOnceWhenAlive() {
        let peer = identity(9)
        var m = ConnectionManager(localIdentity: me, seed: 5)
        m.addCandidates([(addr("10.9.9.9:4000"), peer)])
        let (id, _) = dials(m.onTick(now: .zero))[0]
        _ = m.onDialConnected(id, now: .zero)
        _ = m.onHandshakeComplete(id, identity: peer, advertised: nil, now: .zero)
        let dead = m.onMemberDead(peer, now: .seconds(1))
        #expect(dead.contains(.close(id, .memberDead)))
        #expect(dead.contains(.peerDisconnected(id, peer, .memberDead)))
        #expect(m.isDeadMember(peer))
        // Like any lost session: not redialed before its backoff.
        #expect(dials(m.onTick(now: .seconds(1))).isEmpty)
        // Alive again, at a new address: dialed at once, there and at the old one.
        let alive = m.onMemberAlive(peer, address: addr("10.9.9.10:4000"), now: .seconds(1.01))
        #expect(Set(dials(alive).map(\.1)) == [addr("10.9.9.9:4000"), addr("10.9.9.10:4000")])
        #expect(!m.isDeadMember(peer))
        // A second "alive" (a suspicion refuted, say) changes nothing.
        #expect(m.onMemberAlive(peer, address: nil, now: .seconds(1.02)).isEmpty)
    }

    @Test func aDeadMemberStaysDialableSoAFalseVerdictHeals() {
        let peer = identity(9)
        var m = ConnectionManager(localIdentity: me, seed: 5)
        m.addCandidates([(addr("10.9.9.9:4000"), peer)])
        #expect(dials(m.onMemberDead(peer, now: .zero)).map(\.1) == [addr("10.9.9.9:4000")])
    }

    /// After a partition the slots of the members that were dead are taken by others: a returning
    /// member is dialed beyond the target, up to `returningMemberSlots`, so the halves reconnect.
    @Test func returningMembersGetSlotsBeyondTheTarget() {
        var settings = ConnectionSettings()
        settings.outboundTarget = 2
        settings.returningMemberSlots = 1
        var m = ConnectionManager(localIdentity: me, settings: settings, seed: 3)
        let gone = identity(20), alsoGone = identity(21)
        _ = m.onMemberDead(gone, now: .zero)
        _ = m.onMemberDead(alsoGone, now: .zero)
        m.addCandidates([(addr("10.1.0.1:4000"), identity(10)), (addr("10.1.0.2:4000"), identity(11)),
                         (addr("10.2.0.1:4000"), gone), (addr("10.2.0.2:4000"), alsoGone)])
        // The two slots go to live peers.
        for (id, a) in dials(m.onTick(now: .zero)) {
            _ = m.onDialConnected(id, now: .zero)
            _ = m.onHandshakeComplete(id, identity: a == addr("10.1.0.1:4000") ? identity(10) : identity(11), advertised: nil, now: .zero)
        }
        #expect(m.count(.outbound) == 2)
        let back = dials(m.onMemberAlive(gone, address: nil, now: .seconds(1)))
        #expect(back.map(\.1) == [addr("10.2.0.1:4000")], "one slot beyond the target")
        #expect(dials(m.onMemberAlive(alsoGone, address: nil, now: .seconds(1))).isEmpty, "no more than returningMemberSlots")
    }

    @Test func deadMembersAreBoundedOldestVerdictFirst() {
        var m = ConnectionManager(localIdentity: me, seed: 5)
        let count = ConnectionManager.maxDeadMembers + 10
        for n in 0..<count {
            var seed = [UInt8](repeating: 0, count: 32)
            seed[0] = UInt8(n & 0xff); seed[1] = UInt8(n >> 8); seed[2] = 0xdd
            let key = try! Ed25519.SigningKey(seed: SecretBytes(seed)).publicKey
            _ = m.onMemberDead(key, now: .seconds(Double(n)))
            if n == 0 { #expect(m.isDeadMember(key)) }
            if n == count - 1 { #expect(m.isDeadMember(key)) }
        }
        var first = [UInt8](repeating: 0, count: 32)
        first[2] = 0xdd
        #expect(!m.isDeadMember(try! Ed25519.SigningKey(seed: SecretBytes(first)).publicKey))
    }

    @Test func misbehaviourBansIdentityAndHostUntilExpiry() {
        let peer = identity(4)
        var m = ConnectionManager(localIdentity: me, seed: 5)
        let (id, _) = m.onInbound(from: addr("192.0.2.8:1234"), now: .zero)
        _ = m.onHandshakeComplete(id, identity: peer, advertised: addr("192.0.2.8:4000"), now: .zero)
        let ds = m.onMisbehaviour(id, reason: .protocolViolation("bad frame"), now: .zero)
        #expect(ds.contains(.close(id, .protocolViolation("bad frame"))))
        #expect(m.isBanned(peer, now: .seconds(599)))
        let (_, again) = m.onInbound(from: addr("192.0.2.8:1235"), now: .seconds(10))
        #expect(again.first.map { if case .close(_, .banned) = $0 { return true }; return false } == true)
        #expect(!m.isBanned(peer, now: .seconds(601)))
    }

    @Test func selfConnectionIsClosedAndNeverRedialed() {
        var m = ConnectionManager(localIdentity: me, seed: 5)
        m.addCandidates([(addr("10.2.2.2:4000"), nil)])
        let (id, _) = dials(m.onTick(now: .zero))[0]
        let ds = m.onHandshakeComplete(id, identity: me, advertised: nil, now: .zero)
        #expect(ds == [.close(id, .selfConnection)])
        #expect(dials(m.onTick(now: .seconds(100))).isEmpty)
    }

    @Test func sameSeedSameDirectives() {
        func run() -> [ConnectionManager.Directive] {
            var m = ConnectionManager(localIdentity: me, seed: 42)
            m.addCandidates((1...30).map { (addr("10.3.\($0).1:4000"), nil) })
            var out = m.onTick(now: .zero)
            for (id, _) in dials(out) { out += m.onDialFailed(id, now: .seconds(1)) }
            out += m.onTick(now: .seconds(3))
            return out
        }
        #expect(run() == run())
    }
}

@Suite struct NetAddressTests {
    @Test func parsesAndPrints() throws {
        #expect(try NetAddress(parsing: "192.168.1.20:9000").description == "192.168.1.20:9000")
        #expect(try NetAddress(parsing: "[::1]:80").isLoopback)
        #expect(try NetAddress(parsing: "[2001:db8::1]:4000").description == "[2001:db8:0:0:0:0:0:1]:4000")
        #expect(try NetAddress(parsing: "10.1.2.3:1").isPrivateOrLoopback)
        #expect(try !NetAddress(parsing: "8.8.8.8:53").isPrivateOrLoopback)
        #expect(try NetAddress(parsing: "[2001:db8:1:2::5]:1").group == NetAddress(parsing: "[2001:db8:1:2::9]:1").group)
    }

    @Test func rejectsMalformed() {
        for bad in ["", "1.2.3.4", "1.2.3:4", "1.2.3.256:1", "::1:80", "[::1::2]:1", "1.2.3.4:70000", "a.b.c.d:1"] {
            #expect(throws: NetAddressError.self) { try NetAddress(parsing: bad) }
        }
    }
}
