import ChorusCrypto
import Testing
@testable import ChorusMesh

/// Re-dialing (jittered exponential backoff that never gives up) and anchors (the previous run's
/// outbound peers, dialed first at a warm restart).
@Suite struct RedialAndAnchorTests {
    let me = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 1, count: 32))).publicKey
    func addr(_ s: String) -> NetAddress { try! NetAddress(parsing: s) }
    func dials(_ ds: [ConnectionManager.Directive]) -> [(ConnectionManager.ConnectionID, NetAddress)] {
        ds.compactMap { if case let .dial(id, a) = $0 { return (id, a) } else { return nil } }
    }

    /// A dead address is retried forever: after 200 failures the next attempt still comes, never
    /// later than `redialMax` × 1.5, and the delays are jittered rather than identical.
    @Test func aDeadAddressIsRetriedForeverWithJitteredBackoff() {
        var m = ConnectionManager(localIdentity: me, seed: 21)
        let dead = addr("192.0.2.50:7700")
        m.addCandidates([(dead, nil)])
        var now = MonotonicTime.zero
        var delays: [Duration] = []
        guard var (id, _) = dials(m.onTick(now: now)).first else { Issue.record("no first dial"); return }
        for _ in 0..<200 {
            let failedAt = now
            _ = m.onDialFailed(id, now: failedAt)
            var next: ConnectionManager.ConnectionID?
            while next == nil, now.since(failedAt) <= m.settings.redialMax * 1.5 + .milliseconds(100) {
                now = now + .milliseconds(100)
                next = dials(m.onTick(now: now)).first?.0
            }
            guard let redial = next else { Issue.record("gave up after \(delays.count) failures"); return }
            delays.append(now.since(failedAt))
            id = redial
        }
        #expect(delays.count == 200)
        #expect(delays.prefix(3).allSatisfy { $0 < .seconds(2) })            // 250 ms, 500 ms, 1 s (±50 %)
        let late = delays.suffix(100)
        #expect(late.allSatisfy { $0 >= m.settings.redialMax / 2 && $0 <= m.settings.redialMax * 1.5 + .milliseconds(100) })
        #expect(Set(late).count > 10)                                        // jittered, not lock-step
    }

    @Test func anchorsAreDialedBeforeEveryOtherCandidate() {
        for seed in UInt64(0)..<20 {
            var m = ConnectionManager(localIdentity: me, seed: seed)
            m.addCandidates((1...40).map { (addr("10.4.\($0).1:4000"), nil) })
            let anchors = [addr("10.9.0.1:4000"), addr("10.9.0.2:4000")]
            m.addAnchors(anchors.map { ($0, nil) })
            let first = dials(m.onTick(now: .zero)).map(\.1)
            #expect(first.count == m.settings.outboundTarget)
            #expect(Array(first.prefix(2)) == anchors, "seed \(seed)")
        }
    }

    @Test func outboundSessionsAreTheNextRunsAnchors() {
        var m = ConnectionManager(localIdentity: me, seed: 3)
        let peer = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 2, count: 32))).publicKey
        m.addCandidates([(addr("10.5.5.5:4000"), peer)])
        let (id, address) = dials(m.onTick(now: .zero))[0]
        _ = m.onDialConnected(id, now: .zero)
        _ = m.onHandshakeComplete(id, identity: peer, advertised: nil, now: .zero)
        // An inbound session is not an anchor: only peers this node chose.
        let inboundPeer = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 3, count: 32))).publicKey
        let (inID, _) = m.onInbound(from: addr("10.6.6.6:5000"), now: .zero)
        _ = m.onHandshakeComplete(inID, identity: inboundPeer, advertised: addr("10.6.6.6:4000"), now: .zero)
        #expect(m.outboundSessionAddresses.map(\.0) == [address])
        #expect(m.outboundSessionAddresses.map(\.1) == [peer])
    }
}
