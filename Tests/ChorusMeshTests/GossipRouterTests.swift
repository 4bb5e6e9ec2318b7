import ChorusCrypto
import Testing
@testable import ChorusMesh

@Suite struct GossipRouterTests {
    @Test func publishReachesEveryNodeExactlyOnceAtTheApplication() {
        var net = GossipNetworkForTests(nodes: 60, degree: 10, seed: 1)
        net.subscribeAll("t")
        net.heartbeat(3)
        for k in 0..<20 {
            let m = net.publish(from: k % 60, topic: "t", payload: Array("hello \(k)".utf8))
            // Every node but the publisher delivers it, once.
            #expect(net.deliveredCount(m.id) == 59)
            #expect(net.delivered.allSatisfy { ($0[m.id] ?? 1) == 1 })
        }
    }

    @Test func meshSizesAreWithinBoundsAfterEachNodesHeartbeat() {
        var net = GossipNetworkForTests(nodes: 80, degree: 16, seed: 2)
        net.subscribeAll("t")
        net.heartbeat(100)  // past the 60 s prune backoff of the start-up churn
        // Other nodes' PRUNEs may shrink a mesh between heartbeats; the node repairs it in its own.
        net.now = net.now + .milliseconds(700)
        for i in net.routers.indices {
            let ds = net.routers[i].onHeartbeat(now: net.now)
            let r = net.routers[i]
            let size = r.mesh["t"]?.count ?? 0
            #expect(size <= r.settings.dHigh)
            #expect(size >= min(r.settings.dLow, r.connectedPeers.count - 2))
            net.enqueue(i, ds)
        }
        net.run()
    }

    @Test func lazyGossipRepairsAMessageAMeshLinkDidNotCarry() {
        // A line 0 — 1 — 2 where 1 and 2 pruned each other: 2 gets no eager copy from 1,
        // so it must learn the id from 1's IHAVE and pull it with IWANT.
        var net = GossipNetworkForTests(nodes: 3, degree: 0, seed: 3)
        net.connect(0, 1)
        net.connect(1, 2)
        net.subscribeAll("t")
        var prune = GossipRPC()
        prune.prune = [("t", 60)]
        _ = net.routers[1].onRPC(prune, from: net.ids[2], now: net.now)
        _ = net.routers[2].onRPC(prune, from: net.ids[1], now: net.now)
        let m = net.publish(from: 0, topic: "t", payload: [9])
        #expect(net.delivered[1][m.id] == 1)
        #expect(net.delivered[2][m.id] == nil)
        net.heartbeat(1)
        #expect(net.delivered[2][m.id] == 1)
    }

    @Test func invalidMessagesAreNeverForwardedAndTheSenderIsEventuallyDisconnected() {
        var net = GossipNetworkForTests(nodes: 10, degree: 9, seed: 5)
        net.subscribeAll("t")
        net.heartbeat(2)
        // Node 0 injects invalid messages directly (as a Byzantine peer would, bypassing its router).
        for k in 0..<6 {
            var rpc = GossipRPC()
            rpc.messages = [GossipMessage(topic: "t", payload: [0xBA, UInt8(k)])]
            for j in 1..<10 where net.links.contains([0, j]) {
                net.enqueue(j, net.routers[j].onRPC(rpc, from: net.ids[0], now: net.now))
            }
            net.run()
        }
        #expect(net.delivered.allSatisfy { $0.isEmpty })
        #expect(net.routers[1].counters.invalid >= 1)
        // Nodes never relayed the invalid messages to each other: only node 0's copies were seen.
        #expect(net.routers[1...].allSatisfy { $0.counters.duplicates == 0 })
        #expect(net.disconnects.contains { $0.1 == 0 })
        #expect(!net.links.contains { $0.contains(0) })
        // Honest traffic still flows among the rest.
        let m = net.publish(from: 3, topic: "t", payload: Array("ok".utf8))
        #expect(net.deliveredCount(m.id) == 8)
    }

    @Test func iwantFloodIsAnsweredAtMostRetransmissionTimes() {
        var net = GossipNetworkForTests(nodes: 2, degree: 1, seed: 6)
        net.subscribeAll("t")
        let m = net.publish(from: 0, topic: "t", payload: [7])
        var answered = 0
        for _ in 0..<10 {
            var rpc = GossipRPC()
            rpc.iwant = [m.id]
            for d in net.routers[0].onRPC(rpc, from: net.ids[1], now: net.now) {
                if case let .send(_, reply) = d { answered += reply.messages.count }
            }
        }
        #expect(answered == net.routers[0].settings.gossipRetransmission)
        #expect(net.routers[0].counters.iwantRefusedOverLimit == 10 - answered)
    }

    @Test func ihaveFloodIsCappedPerHeartbeat() {
        var net = GossipNetworkForTests(nodes: 2, degree: 1, seed: 7)
        net.subscribeAll("t")
        var asked = 0
        for k in 0..<50 {
            var rpc = GossipRPC()
            rpc.ihave = [("t", (0..<200).map { i in Blake2b.hash256([UInt8(k), UInt8(i)]) })]
            for d in net.routers[0].onRPC(rpc, from: net.ids[1], now: net.now) {
                if case let .send(_, reply) = d { asked += reply.iwant.count }
            }
        }
        #expect(asked == net.routers[0].settings.maxIHaveMessages * 200)
        #expect(net.routers[0].counters.ihaveIgnored == 40)
    }

    @Test func graftDuringBackoffIsPenalised() {
        var net = GossipNetworkForTests(nodes: 2, degree: 1, seed: 8)
        net.subscribeAll("t")
        var prune = GossipRPC()
        prune.prune = [("t", 60)]
        _ = net.routers[0].onRPC(prune, from: net.ids[1], now: net.now)
        var graft = GossipRPC()
        graft.graft = ["t"]
        var ds = net.routers[0].onRPC(graft, from: net.ids[1], now: net.now)
        #expect(net.routers[0].counters.graftsDuringBackoff == 1)
        // Within the behaviour-penalty threshold (6) a GRAFT costs nothing yet; past it, the score falls.
        #expect(net.routers[0].score(net.ids[1]) >= 0)
        for _ in 0..<6 { ds = net.routers[0].onRPC(graft, from: net.ids[1], now: net.now) }
        #expect(net.routers[0].counters.graftsDuringBackoff == 7)
        #expect(net.routers[0].score(net.ids[1]) < 0)
        #expect(ds.contains { if case let .send(_, r) = $0 { return !r.prune.isEmpty }; return false })
        #expect(net.routers[0].mesh["t"]?.contains(net.ids[1]) != true)
    }

    @Test func largePayloadsTriggerIDontWantAndSaveCopies() {
        func duplicates(idontwant: Bool) -> Int {
            var settings = GossipSettings()
            if !idontwant { settings.idontwantThreshold = .max }
            var net = GossipNetworkForTests(nodes: 30, degree: 12, seed: 9, settings: settings)
            net.subscribeAll("t")
            net.heartbeat(3)
            for k in 0..<5 {
                let m = net.publish(from: k, topic: "t", payload: [UInt8](repeating: UInt8(k), count: 2048))
                #expect(net.deliveredCount(m.id) == 29)
            }
            return net.routers.map(\.counters.duplicates).reduce(0, +)
        }
        let with = duplicates(idontwant: true), without = duplicates(idontwant: false)
        #expect(with < without)
    }

    @Test func sameSeedSameResult() {
        func run() -> [Int] {
            var net = GossipNetworkForTests(nodes: 40, degree: 8, seed: 11)
            net.subscribeAll("t")
            net.heartbeat(4)
            _ = net.publish(from: 5, topic: "t", payload: [1])
            return net.routers.map { $0.mesh["t"]?.count ?? 0 } + net.routers.map(\.counters.duplicates)
        }
        #expect(run() == run())
    }
}
