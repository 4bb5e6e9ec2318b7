import ChorusCrypto
import Testing
@testable import ChorusMesh

private func peer(_ i: Int) -> Ed25519.PublicKey { MembershipClusterForTests.identity(100 + i) }

private func rpcs(_ ds: [GossipRouter.Directive]) -> [(Ed25519.PublicKey, GossipRPC)] {
    ds.compactMap { if case let .send(p, r) = $0 { return (p, r) } else { return nil } }
}

/// A router subscribed to "t" whose mesh is exactly peers 0..<n (all subscribed, all eager).
private func router(meshOf n: Int) -> GossipRouter {
    var r = GossipRouter(seed: 1)
    var subscribe = GossipRPC()
    subscribe.subscribe = ["t"]
    for i in 0..<n {
        _ = r.onPeerConnected(peer(i), outbound: true, address: nil, now: .zero)
        _ = r.onRPC(subscribe, from: peer(i), now: .zero)
    }
    _ = r.subscribe("t", now: .zero)
    return r
}

/// Delivers `message` from `sender` and accepts it if it was new; returns every directive.
private func receive(_ r: inout GossipRouter, _ message: GossipMessage, from sender: Ed25519.PublicKey) -> [GossipRouter.Directive] {
    var rpc = GossipRPC()
    rpc.messages = [message]
    var out = r.onRPC(rpc, from: sender, now: .seconds(1))
    if out.contains(where: { if case .validate = $0 { return true }; return false }) {
        out += r.onValidation(id: message.id, result: .accept, now: .seconds(1))
    }
    return out
}

@Suite struct GossipChokingTests {
    @Test func duplicatesChokeTheirLinksWhileEnoughStayEager() {
        var r = router(meshOf: 6)
        #expect(r.mesh["t"]?.count == 6)
        let m = GossipMessage(topic: "t", payload: [1])
        _ = receive(&r, m, from: peer(0))
        var choked: [Int] = []
        for i in 1..<6 {
            let out = rpcs(receive(&r, m, from: peer(i)))
            if out.contains(where: { $0.0 == peer(i) && $0.1.choke == ["t"] }) { choked.append(i) }
        }
        // Six eager links, at most `eagerPeers` = 3 kept: the 2nd, 3rd and 4th copies choke.
        #expect(choked == [1, 2, 3])
        #expect(r.lazy["t"] == Set([1, 2, 3].map(peer)))
        #expect(r.counters.chokes == 3)
    }

    @Test func lazyLinksGetIdsAtTheHeartbeatInsteadOfPayloads() {
        var r = router(meshOf: 5)
        var choke = GossipRPC()
        choke.choke = ["t"]
        _ = r.onRPC(choke, from: peer(3), now: .zero)
        _ = r.onRPC(choke, from: peer(4), now: .zero)
        let m = GossipMessage(topic: "t", payload: [2])
        let forwarded = rpcs(receive(&r, m, from: peer(0)))
        let payloadTo = Set(forwarded.filter { !$0.1.messages.isEmpty }.map(\.0))
        #expect(payloadTo == Set([peer(1), peer(2)]))
        let heartbeat = rpcs(r.onHeartbeat(now: .seconds(2)))
        let announcedTo = Set(heartbeat.filter { $0.1.ihave.contains { $0.topic == "t" && $0.ids == [m.id] } }.map(\.0))
        #expect(announcedTo == Set([peer(3), peer(4)]))
    }

    @Test func lazyLinkThatAnnouncesSomethingNewIsMadeEager() {
        var r = router(meshOf: 5)
        var choke = GossipRPC()
        choke.choke = ["t"]
        _ = r.onRPC(choke, from: peer(4), now: .zero)
        #expect(r.lazy["t"] == [peer(4)])
        var ihave = GossipRPC()
        ihave.ihave = [("t", [Blake2b.hash256([9])])]
        let reply = rpcs(r.onRPC(ihave, from: peer(4), now: .seconds(1)))
        #expect(reply.contains { $0.0 == peer(4) && $0.1.unchoke == ["t"] && $0.1.iwant == [Blake2b.hash256([9])] })
        #expect(r.lazy["t"]?.isEmpty == true)
        #expect(r.counters.unchokes == 1)
    }

    @Test func nodeChokedBelowTheFloorReopensAnotherLink() {
        var r = router(meshOf: 3)
        var choke = GossipRPC()
        choke.choke = ["t"]
        #expect(rpcs(r.onRPC(choke, from: peer(0), now: .zero)).isEmpty)  // 2 eager left: the floor
        let out = rpcs(r.onRPC(choke, from: peer(1), now: .zero))
        // Down to 1 eager link: one lazy link (not the one that just choked) is re-opened at once.
        #expect(out.count == 1)
        #expect(out.first?.0 == peer(0))
        #expect(out.first?.1.unchoke == ["t"])
        #expect(r.lazy["t"] == [peer(1)])
    }

    @Test func leavingTheMeshForgetsTheChoke() {
        var r = router(meshOf: 4)
        var choke = GossipRPC()
        choke.choke = ["t"]
        _ = r.onRPC(choke, from: peer(2), now: .zero)
        r.onPeerDisconnected(peer(2), now: .zero)
        #expect(r.lazy["t"]?.contains(peer(2)) != true)
    }

    @Test func chokingCutsDuplicatesAndEveryMessageStillArrives() {
        func run(choking: Bool) -> (duplicates: Int, complete: Bool) {
            var settings = GossipSettings()
            settings.choking = choking
            var net = GossipNetworkForTests(nodes: 60, degree: 10, seed: 21, settings: settings)
            net.subscribeAll("t")
            net.heartbeat(2)
            var complete = true
            for k in 0..<30 {
                let m = net.publish(from: (k * 13) % 60, topic: "t", payload: Array("msg \(k)".utf8))
                complete = complete && net.deliveredCount(m.id) == 59
                if k % 5 == 4 { net.heartbeat() }
            }
            return (net.routers.map(\.counters.duplicates).reduce(0, +), complete)
        }
        let plain = run(choking: false), choked = run(choking: true)
        #expect(plain.complete && choked.complete)
        #expect(choked.duplicates * 3 < plain.duplicates)
    }
}
