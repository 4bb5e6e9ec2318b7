import ChorusCrypto
import Testing
@testable import ChorusMesh

/// Test double: payloads signed the way statements are (`signature ‖ author ‖ body`), and a
/// validator that checks the Ed25519 signature, as the node's statement validation does.
enum SignedPayloadForTests {
    static func make(_ body: [UInt8], signer: Ed25519.SigningKey, claimedAuthor: Ed25519.PublicKey? = nil) -> [UInt8] {
        signer.sign(body).bytes + (claimedAuthor ?? signer.publicKey).raw.bytes + body
    }

    static func validate(_ message: GossipMessage) -> ValidationResult {
        let p = message.payload
        guard p.count >= 96, let signature = try? Ed25519.Signature(bytes: p[0..<64]),
              let author = try? Ed25519.PublicKey(bytes: p[64..<96]) else { return .reject }
        return author.isValidSignature(signature, for: Array(p[96...])) ? .accept : .reject
    }
}

/// Hostile peers against the pure router (go-libp2p-pubsub's spam tests, Specs/targets.md T14):
/// each attack is bounded, costs the attacker its score, and ends with it pruned and disconnected,
/// while honest peers keep theirs.
@Suite struct GossipHostilePeerTests {
    private func linked(_ net: GossipNetworkForTests, _ a: Int, _ b: Int) -> Bool { net.links.contains([min(a, b), max(a, b)]) }
    private func disconnected(_ net: GossipNetworkForTests, victim: Int, attacker: Int) -> Bool {
        net.disconnects.contains { $0.0 == victim && $0.1 == attacker }
    }

    /// IHAVE flood: ids that are never delivered. The victim asks for at most `maxIHaveLength` per
    /// heartbeat, each broken IWANT promise adds a behaviour penalty, and the flooder is graylisted.
    @Test func ihaveFloodOfUndeliverableIdsBreaksPromisesUntilDisconnected() {
        var net = GossipNetworkForTests(nodes: 4, degree: 3, seed: 11)
        net.subscribeAll("t")
        net.heartbeat(2)
        let honest = net.publish(from: 2, topic: "t", payload: Array("honest".utf8))
        #expect(net.deliveredCount(honest.id) == 3)
        var askedPerRound: [Int] = []
        var round = 0
        while linked(net, 0, 1), round < 40 {
            round += 1
            var asked = 0
            for k in 0..<20 {
                var rpc = GossipRPC()
                rpc.ihave = [("t", (0..<500).map { i in Blake2b.hash256([UInt8(round), UInt8(k), UInt8(i & 0xff), UInt8(i >> 8)]) })]
                let ds = net.routers[0].onRPC(rpc, from: net.ids[1], now: net.now)
                for case let .send(peer, reply) in ds where peer == net.ids[1] { asked += reply.iwant.count }
                net.enqueue(0, ds)
            }
            net.run()
            askedPerRound.append(asked)
            net.heartbeat()
        }
        let settings = net.routers[0].settings
        #expect(askedPerRound.allSatisfy { $0 <= settings.maxIHaveLength })
        #expect(net.routers[0].counters.brokenPromises >= 1)
        #expect(disconnected(net, victim: 0, attacker: 1))
        #expect(round < 20, "the flooder lasted \(round) heartbeats")
        #expect(net.routers[0].score(net.ids[2]) >= 0 && net.routers[0].score(net.ids[3]) >= 0)
    }

    /// IWANT flood: asking for one message over and over gets it `gossipRetransmission` times, no
    /// more; every refused request is penalised, and the asker is disconnected at the next heartbeat.
    @Test func iwantFloodIsBoundedAndCostsTheAskerItsSession() {
        var net = GossipNetworkForTests(nodes: 3, degree: 2, seed: 12)
        net.subscribeAll("t")
        net.heartbeat(2)
        let m = net.publish(from: 0, topic: "t", payload: [1, 2, 3])
        var answered = 0
        for _ in 0..<50 {
            var rpc = GossipRPC()
            rpc.iwant = [m.id]
            let ds = net.routers[0].onRPC(rpc, from: net.ids[1], now: net.now)
            for case let .send(_, reply) in ds { answered += reply.messages.count }
        }
        let settings = net.routers[0].settings
        #expect(answered == settings.gossipRetransmission)
        #expect(net.routers[0].score(net.ids[1]) < settings.score.graylistThreshold)
        // An honest peer asking once pays nothing.
        var once = GossipRPC()
        once.iwant = [m.id]
        let reply = net.routers[0].onRPC(once, from: net.ids[2], now: net.now)
        #expect(reply.contains { if case let .send(_, r) = $0 { return r.messages.map(\.id) == [m.id] }; return false })
        #expect(net.routers[0].score(net.ids[2]) >= 0)
        net.heartbeat()
        #expect(disconnected(net, victim: 0, attacker: 1))
        #expect(linked(net, 0, 2))
    }

    /// GRAFT during backoff, again and again: each is refused with PRUNE and penalised; the peer never
    /// enters the mesh and is disconnected once its score is below the graylist threshold.
    @Test func graftSpamDuringBackoffIsPrunedThenDisconnected() {
        var net = GossipNetworkForTests(nodes: 2, degree: 1, seed: 13)
        net.subscribeAll("t")
        var prune = GossipRPC()
        prune.prune = [("t", 60)]
        _ = net.routers[0].onRPC(prune, from: net.ids[1], now: net.now)
        var grafts = 0, prunes = 0
        while linked(net, 0, 1), grafts < 100 {
            var graft = GossipRPC()
            graft.graft = ["t"]
            let ds = net.routers[0].onRPC(graft, from: net.ids[1], now: net.now)
            grafts += 1
            for case let .send(_, reply) in ds { prunes += reply.prune.count }
            #expect(net.routers[0].mesh["t"]?.contains(net.ids[1]) != true)
            if grafts % 5 == 0 { net.heartbeat() }
        }
        #expect(!linked(net, 0, 1))
        #expect(disconnected(net, victim: 0, attacker: 1))
        // Graylist (−16000) needs 13 penalties past the threshold of 6: about 20 GRAFTs, a few more with decay.
        #expect(grafts <= 30, "took \(grafts) grafts")
        #expect(prunes >= 13)
        #expect(net.routers[0].counters.graftsDuringBackoff == prunes)
    }

    /// Messages with forged signatures are validated, rejected and never forwarded: no node beyond
    /// the attacker's direct neighbours ever sees one. The sender's score falls below zero (pruned
    /// from meshes at the next heartbeat) and then below the graylist threshold (disconnected).
    @Test func invalidSignaturesAreNeverForwardedAndCostTheSenderItsSessions() {
        var net = GossipNetworkForTests(nodes: 12, degree: 3, seed: 14)
        net.validator = SignedPayloadForTests.validate
        net.subscribeAll("t")
        net.heartbeat(3)
        let author = Ed25519.SigningKey.generate()
        let good = net.publish(from: 5, topic: "t", payload: SignedPayloadForTests.make(Array("valid".utf8), signer: author))
        #expect(net.deliveredCount(good.id) == 11)
        let neighbours = (1..<12).filter { linked(net, 0, $0) }
        #expect(!neighbours.isEmpty && neighbours.count < 11)
        let mallory = Ed25519.SigningKey.generate()
        var forged: [Bytes32] = []
        for k in 0..<2 {
            let m = GossipMessage(topic: "t", payload: SignedPayloadForTests.make([UInt8(k)], signer: mallory, claimedAuthor: author.publicKey))
            forged.append(m.id)
            var rpc = GossipRPC()
            rpc.messages = [m]
            for j in neighbours { net.enqueue(j, net.routers[j].onRPC(rpc, from: net.ids[0], now: net.now)) }
            net.run()
        }
        #expect(neighbours.allSatisfy { net.routers[$0].score(net.ids[0]) < 0 })
        net.heartbeat()
        #expect(neighbours.allSatisfy { net.routers[$0].mesh["t"]?.contains(net.ids[0]) != true })
        for k in 2..<8 {
            let m = GossipMessage(topic: "t", payload: SignedPayloadForTests.make([UInt8(k)], signer: mallory, claimedAuthor: author.publicKey))
            forged.append(m.id)
            var rpc = GossipRPC()
            rpc.messages = [m]
            for j in neighbours where linked(net, 0, j) { net.enqueue(j, net.routers[j].onRPC(rpc, from: net.ids[0], now: net.now)) }
            net.run()
        }
        #expect(net.delivered.allSatisfy { d in forged.allSatisfy { d[$0] == nil } })
        let others = (1..<12).filter { !neighbours.contains($0) }
        #expect(others.allSatisfy { j in forged.allSatisfy { !net.routers[j].hasSeen($0) } })
        #expect(neighbours.allSatisfy { disconnected(net, victim: $0, attacker: 0) })
        let after = net.publish(from: 5, topic: "t", payload: SignedPayloadForTests.make(Array("still".utf8), signer: author))
        #expect(net.deliveredCount(after.id) == 10)
    }

    /// Oversized payloads are dropped before validation: never delivered or forwarded, and each one
    /// counts as an invalid message against the sender until it is disconnected.
    @Test func oversizedMessagesAreDroppedAndCostTheSenderItsSession() {
        var settings = GossipSettings()
        settings.maxPayload = 512
        var net = GossipNetworkForTests(nodes: 6, degree: 5, seed: 15, settings: settings)
        net.subscribeAll("t")
        net.heartbeat(2)
        var validations = 0
        var oversized: [Bytes32] = []
        for k in 0..<6 where linked(net, 0, 1) {
            let m = GossipMessage(topic: "t", payload: [UInt8(k)] + [UInt8](repeating: 7, count: 600))
            oversized.append(m.id)
            var rpc = GossipRPC()
            rpc.messages = [m]
            let ds = net.routers[1].onRPC(rpc, from: net.ids[0], now: net.now)
            for case .validate in ds { validations += 1 }
            net.enqueue(1, ds)
            net.run()
        }
        #expect(validations == 0)
        #expect(net.routers[1].counters.invalid >= 4)
        #expect(disconnected(net, victim: 1, attacker: 0))
        #expect(net.delivered.allSatisfy { d in oversized.allSatisfy { d[$0] == nil } })
        #expect((2..<6).allSatisfy { j in oversized.allSatisfy { !net.routers[j].hasSeen($0) } })
    }
    /// Floods that once grew a node's memory without bound (RSS 33 MB → 1.3–1.9 GB in 20 s): unique
    /// messages on a topic the node does not subscribe to, SUBSCRIBE to ever new topics, PRUNE for
    /// invented topics, and one message in 64 copies per RPC. Each leaves the router's footprint
    /// bounded, and the flooder ends disconnected while honest peers keep their score.
    @Test func floodsOfStateAreBoundedAndCostTheFlooderItsSession() {
        var net = GossipNetworkForTests(nodes: 4, degree: 3, seed: 21)
        net.subscribeAll("t")
        net.heartbeat(2)
        let attacker = net.ids[1]
        // Unique messages on an unsubscribed topic: never cached, never validated.
        var validations = 0
        for k in 0..<2_000 where !disconnected(net, victim: 0, attacker: 1) {
            var rpc = GossipRPC()
            rpc.messages = [GossipMessage(topic: "elsewhere", payload: [UInt8(k & 0xff), UInt8(k >> 8), 1, 2, 3, 4, 5, 6])]
            let ds = net.routers[0].onRPC(rpc, from: attacker, now: net.now)
            for case .validate in ds { validations += 1 }
            net.enqueue(0, ds)
        }
        net.run()
        #expect(validations == 0)
        #expect(net.routers[0].footprint.seen < 10 && net.routers[0].footprint.receivedFrom < 10)
        #expect(net.routers[0].counters.unsubscribedMessages >= 1)
        #expect(disconnected(net, victim: 0, attacker: 1))
        #expect(net.routers[0].score(net.ids[2]) >= 0 && net.routers[0].score(net.ids[3]) >= 0)

        // SUBSCRIBE to ever new topics and PRUNE for invented ones, from another connected peer.
        var fresh = GossipNetworkForTests(nodes: 3, degree: 2, seed: 22)
        fresh.subscribeAll("t")
        fresh.heartbeat(2)
        for k in 0..<5_000 {
            var rpc = GossipRPC()
            rpc.subscribe = ["topic-\(k)"]
            rpc.prune = [("invented-\(k)", 60)]
            fresh.enqueue(0, fresh.routers[0].onRPC(rpc, from: fresh.ids[1], now: fresh.now))
        }
        fresh.run()
        let settings = fresh.routers[0].settings
        #expect(fresh.routers[0].footprint.peerTopics <= 2 * settings.maxTopicsPerPeer)
        #expect(fresh.routers[0].footprint.backoffTopics <= 1)
        #expect(fresh.routers[0].counters.subscriptionsOverLimit > 0)
        #expect(disconnected(fresh, victim: 0, attacker: 1))

        // One valid message in 64 copies per RPC: one sender entry, not 64.
        var copies = GossipNetworkForTests(nodes: 3, degree: 2, seed: 23)
        copies.subscribeAll("t")
        copies.heartbeat(2)
        let message = GossipMessage(topic: "t", payload: Array("one valid message".utf8))
        var rpc = GossipRPC()
        rpc.messages = Array(repeating: message, count: 64)
        var pendingSenders = 0
        for _ in 0..<100 {
            _ = copies.routers[0].onRPC(rpc, from: copies.ids[1], now: copies.now)
            pendingSenders = max(pendingSenders, copies.routers[0].footprint.pendingSenders)
        }
        #expect(pendingSenders == 1)
    }

    /// Specs/gossip.md §3: four invalid messages disconnect a peer, even one that earned first
    /// deliveries and mesh time (the attacker was still connected 1.2 s after its fourth).
    @Test func fourInvalidMessagesDisconnectEvenAPeerWithCredit() {
        var net = GossipNetworkForTests(nodes: 3, degree: 2, seed: 24)
        net.validator = SignedPayloadForTests.validate
        net.subscribeAll("t")
        net.heartbeat(20)
        let author = Ed25519.SigningKey.generate()
        for k in 0..<20 {
            var rpc = GossipRPC()
            rpc.messages = [GossipMessage(topic: "t", payload: SignedPayloadForTests.make([UInt8(k)], signer: author))]
            net.enqueue(0, net.routers[0].onRPC(rpc, from: net.ids[1], now: net.now))
            net.run()
        }
        #expect(net.routers[0].score(net.ids[1]) > 0)
        var sent = 0
        while !disconnected(net, victim: 0, attacker: 1), sent < 10 {
            sent += 1
            var rpc = GossipRPC()
            rpc.messages = [GossipMessage(topic: "t", payload: [UInt8](repeating: UInt8(sent), count: 100))]
            net.enqueue(0, net.routers[0].onRPC(rpc, from: net.ids[1], now: net.now))
            net.run()
        }
        #expect(sent == 4)
    }
}
