import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusStore
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// Gossip between real nodes: a statement published at one end of a line reaches the other end,
/// is stored, and can be traced; invalid statements are never forwarded and cost the sender.
@Suite(.serialized) struct NodeGossipTests {
    /// A line a — b — c: c only hears a through b. Peer exchange would tell a and c of each other
    /// and they would dial (in a busy test process that happened before the publication), so a
    /// dials nobody and c keeps its one outbound link, to b.
    static func line() async throws -> [NodeHarnessForTests] {
        var first = NodeHarnessForTests.testConfiguration()
        first.connections.outboundTarget = 0
        let a = try await NodeHarnessForTests(configuration: first)
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        var last = NodeHarnessForTests.testConfiguration(seeds: [b.address])
        last.connections.outboundTarget = 1
        let c = try await NodeHarnessForTests(configuration: last)
        _ = await eventually {
            let counts = [await a.node.connectedPeers.count, await b.node.connectedPeers.count, await c.node.connectedPeers.count]
            let meshB = await b.node.meshStatus().topics.first?.peers.count ?? 0
            return counts == [1, 2, 1] && meshB == 2
        }
        return [a, b, c]
    }

    @Test func publishedStatementCrossesTheLineAndIsTraced() async throws {
        let nodes = try await Self.line()
        defer { Task { for n in nodes { await n.shutdown() } } }
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        let statement = try await a.node.publish(topic: "statements", body: Array("hello line".utf8))
        let messageID = Blake2b.hash256(statement.encoded)
        #expect(await eventually { await c.node.messages(topic: "statements").count == 1 })
        let delivered = try #require(await c.node.messages(topic: "statements").first)
        #expect(delivered.data == "hello line")
        #expect(delivered.author == a.key.publicKey.hex)
        #expect(delivered.from == b.key.publicKey.hex)
        #expect(delivered.id == messageID.hex)
        let trace = try #require(await c.node.trace(messageID))
        #expect(trace.first?.first == true && trace.first?.from == b.key.publicKey.hex)
        #expect(await a.node.messages(topic: "statements").first?.from == nil)  // own publication
        #expect(await b.node.meshStatus().counters.firstDeliveries == 1)
    }

    @Test func statementsAreStoredByEveryNodeThatKeepsAStore() async throws {
        let directory = temporaryDirectory("gossip-store")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = try StoreEnvironment.open(at: directory, schema: NodeSchema.schema)
        let writer = try StorageWriter(environment: environment)
        let store = try StatementStore(environment: environment, writer: writer,
                                       policy: StatementPolicy(networkID: NodeHarnessForTests.networkID, allowedTypes: nil))
        let loop = try EventLoop(name: "store-node")
        let a = try await NodeHarnessForTests()
        let storing = Node(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), signingKey: .generate(),
                           peerStore: nil, statements: store, loop: loop, logger: .init(label: "x") { _ in RecordingLogHandlerForTests(records: .init()) })
        try await storing.start()
        #expect(await eventually { await storing.meshStatus().topics.first?.peers.count == 1 })
        let statement = try await a.node.publish(topic: "statements", body: [1, 2, 3])
        #expect(await eventually { await storing.messages(topic: "statements").count == 1 })
        #expect(await eventually { Self.stored(store, statement.id) == statement.encoded })
        await storing.stop()
        loop.shutdown()
        writer.close()
        await a.shutdown()
    }

    /// Reads LMDB from a plain function (store reads are not allowed in async contexts).
    static func stored(_ store: StatementStore, _ id: Bytes32) -> [UInt8]? {
        (try? store.statement(id)) ?? nil
    }

    /// 60 statements of 1 MiB from a fresh key were once stored and forwarded by every node in 6 s.
    /// A weightless author now gets 1 MiB, then 16 KiB/s; what is over is ignored, not stored.
    @Test func aWeightlessAuthorsBytesAreBudgeted() async throws {
        let dirs = (0..<2).map { _ in FileManager.default.temporaryDirectory.appendingPathComponent("budget-\(UUID().uuidString.prefix(8))").path }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let a = try await NodeHarnessForTests(storeDirectory: dirs[0])
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), storeDirectory: dirs[1])
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(await eventually { await b.node.meshStatus().topics.first?.peers.count == 1 })
        for i in 0..<8 {
            _ = try await a.node.publish(topic: "statements", body: [UInt8(i)] + [UInt8](repeating: 0x61, count: 200_000))
        }
        #expect(await eventually { await b.node.currentCounters.overBudget >= 1 })
        let delivered = await b.node.messages(topic: "statements").count
        #expect(delivered >= 4 && delivered <= 6, "\(delivered) of 8 statements of 200 KB taken")
        // Small statements still pass once the budget refills (16 KiB/s).
        try await Task.sleep(for: .seconds(1))
        _ = try await a.node.publish(topic: "statements", body: Array("small".utf8))
        #expect(await eventually { await b.node.messages(topic: "statements").contains { $0.data == "small" } })
    }

    @Test func invalidStatementsAreNeverForwardedAndTheSenderIsCutOff() async throws {
        let nodes = try await Self.line()
        defer { Task { for n in nodes { await n.shutdown() } } }
        let (b, c) = (nodes[1], nodes[2])
        // An attacker with a real session to b sends a statement whose signature does not verify.
        let loop = try EventLoop(name: "gossip-attacker")
        defer { loop.shutdown() }
        let attacker = try await RawPeerForTests.connect(to: b.address, loop: loop)
        var session = try await HostileInputTests.handshake(attacker)
        #expect(await eventually { await b.node.connectedPeers.count == 3 })
        // Each invalid message costs -1000 × (count)²; the fourth cuts it off (Specs/gossip.md §3).
        for seq in 1...6 as ClosedRange<UInt64> {
            var forged = try SignedStatement.sign(networkID: NodeHarnessForTests.networkID, type: .text, epoch: 0, seq: seq, body: Array("forged".utf8),
                                                  key: .generate()).encoded
            forged[forged.count - 1] ^= 0x01  // the last signature byte
            var rpc = GossipRPC()
            rpc.subscribe = ["statements"]
            rpc.messages = [GossipMessage(topic: "statements", payload: forged)]
            for frame in try session.seal(message: [Node.gossipTag] + rpc.encoded()) { attacker.write(frame) }
        }

        #expect(await eventually { await b.node.meshStatus().counters.invalid >= 4 })
        #expect(await eventually { attacker.isClosed })
        #expect(await b.counter("protocol_violation") >= 1)
        try await Task.sleep(for: .milliseconds(200))
        #expect(await c.node.messages(topic: "statements").isEmpty)
        #expect(await b.node.messages(topic: "statements").isEmpty)
        // Honest traffic still flows.
        _ = try await nodes[0].node.publish(topic: "statements", body: Array("honest".utf8))
        #expect(await eventually { await c.node.messages(topic: "statements").map(\.data) == ["honest"] })
    }

    @Test func gossipScoresSurviveARestart() async throws {
        let dir = temporaryDirectory("scores")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var b: NodeHarnessForTests? = try await NodeHarnessForTests(storeDirectory: dir)
        let loop = try EventLoop(name: "gossip-attacker")
        defer { loop.shutdown() }
        let key = Ed25519.SigningKey.generate()
        let attacker = try await RawPeerForTests.connect(to: b!.address, loop: loop)
        var session = try await HostileInputTests.handshake(attacker, key: key)
        for seq in 1...2 as ClosedRange<UInt64> {
            var forged = try SignedStatement.sign(networkID: NodeHarnessForTests.networkID, type: .text, epoch: 0, seq: seq, body: [1], key: key).encoded
            forged[forged.count - 1] ^= 0x01
            var rpc = GossipRPC()
            rpc.messages = [GossipMessage(topic: "statements", payload: forged)]
            for frame in try session.seal(message: [Node.gossipTag] + rpc.encoded()) { attacker.write(frame) }
        }
        #expect(await eventually { await b!.node.meshStatus().counters.invalid == 2 })
        let before = await b!.node.router.score(key.publicKey)
        #expect(before <= -3000)
        await b!.shutdown()
        b = nil
        b = try await NodeHarnessForTests(storeDirectory: dir)
        // Equal up to one heartbeat's decay (×0.999² at most) between the reading and the save at stop.
        let after = await b!.node.router.score(key.publicKey)
        #expect(after <= before * 0.99 && after >= before * 1.01)
        await b!.shutdown()
    }

    @Test func malformedRPCClosesTheSession() async throws {
        let a = try await NodeHarnessForTests()
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "gossip-attacker")
        defer { loop.shutdown() }
        let attacker = try await RawPeerForTests.connect(to: a.address, loop: loop)
        var session = try await HostileInputTests.handshake(attacker)
        for frame in try session.seal(message: [Node.gossipTag, 9, 9, 9]) { attacker.write(frame) }
        #expect(await eventually { attacker.isClosed })
        #expect(a.logs.contains("disconnecting misbehaving peer", "malformed gossip RPC"))
    }
}
