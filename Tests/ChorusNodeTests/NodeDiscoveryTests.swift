import ChorusCrypto
import ChorusMesh
import ChorusLoop
import Foundation
import Testing
@testable import ChorusNode

/// The address book on a real node: addresses learned (as from peer exchange) are dialed when
/// outbound connections are missing, failures are recorded, and the book survives a restart.
@Suite(.serialized) struct NodeDiscoveryTests {
    @Test func learnedAddressesAreDialedAndTheBookSurvivesARestart() async throws {
        let dir = temporaryDirectory("addrbook")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let b = try await NodeHarnessForTests()
        let c = try await NodeHarnessForTests()
        defer { Task { await b.shutdown(); await c.shutdown() } }
        let key = Ed25519.SigningKey.generate()
        var a: NodeHarnessForTests? = try await NodeHarnessForTests(key: key, storeDirectory: dir)
        // No seeds: a hears of b and c (and of an address nobody listens on) from a third party.
        let dead = try NetAddress(parsing: "127.0.0.1:1")
        let learned = [(try NetAddress(parsing: b.address), Optional<Ed25519.PublicKey>.none),
                       (try NetAddress(parsing: c.address), nil), (dead, nil)]
        await a!.node.learnAddresses(learned, from: .ipv4(10, 1, 2, 3))
        #expect(await eventually { await Set(a!.node.connectedPeers) == [b.key.publicKey, c.key.publicKey] })
        #expect(await eventually { await (a!.node.addressBook.entry(dead)?.failures ?? 0) >= 1 })
        let tried = await a!.node.addressBook.entries.filter(\.tried).map(\.address).sorted()
        #expect(tried == [try NetAddress(parsing: b.address), try NetAddress(parsing: c.address)].sorted())

        let before = await a!.node.addressBook.entries
        await a!.shutdown()
        a = nil
        a = try await NodeHarnessForTests(key: key, storeDirectory: dir)
        let after = await a!.node.addressBook.entries
        #expect(after.map(\.address) == before.map(\.address))
        #expect(after.map(\.tried) == before.map(\.tried))
        #expect(after.map(\.failures) == before.map(\.failures))
        await a!.shutdown()
    }

    @Test func peerExchangeTurnsALineIntoATriangle() async throws {
        let a = try await NodeHarnessForTests()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        #expect(await eventually { await a.node.connectedPeers.count == 1 })
        let c = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [b.address]))
        defer { Task { await a.shutdown(); await b.shutdown(); await c.shutdown() } }
        // c only knows b; b tells c about a, and c dials a to fill its outbound slots.
        #expect(await eventually { await Set(c.node.connectedPeers) == [a.key.publicKey, b.key.publicKey] })
        #expect(await c.node.currentCounters.addressesLearned >= 1)
    }

    @Test func peerExchangeIsRateLimitedAndUnsolicitedAnswersIgnored() async throws {
        // A network of its own: nodes of tests running in parallel that redial a reused loopback
        // port must not reach this node, since the test counts refusals exactly.
        let network = "px-\(UInt32.random(in: 0 ... .max))"
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.networkID = network
        let a = try await NodeHarnessForTests(configuration: configuration)
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "px-peer")
        defer { loop.shutdown() }
        let peer = try await RawPeerForTests.connect(to: a.address, loop: loop)
        var session = try await HostileInputTests.handshake(peer, network: network)
        let record = try PeerRecord(signingWith: .generate(), networkID: network, seq: 1, issuedAtMs: Node.unixMilliseconds(),
                                    role: .full, addresses: [try NetAddress(parsing: "10.9.9.9:7700")], models: [])
        let answer = PeerExchangeMessage.records([record])
        for frame in try session.seal(message: [Node.peerExchangeTag] + answer.encoded()) { peer.write(frame) }
        for _ in 0..<3 {
            for frame in try session.seal(message: [Node.peerExchangeTag] + PeerExchangeMessage.request(own: nil).encoded()) { peer.write(frame) }
        }
        // One unsolicited answer and two requests within the minute are refused; one request is answered.
        #expect(await eventually { await a.node.currentCounters.peerExchangeRefused == 3 })
        #expect(await a.node.addressBook.entry(try NetAddress(parsing: "10.9.9.9:7700")) == nil)
        #expect(!peer.isClosed)
    }

    @Test func aFullNodeStillTellsNewcomersWhereToGo() async throws {
        var full = NodeHarnessForTests.testConfiguration()
        full.connections.inboundLimit = 1
        let a = try await NodeHarnessForTests(configuration: full)
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        #expect(await eventually { await a.node.connectedPeers == [b.key.publicKey] })
        // c only knows a, which has no inbound slot left: a answers c's peer exchange, then closes.
        let c = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        defer { Task { await a.shutdown(); await b.shutdown(); await c.shutdown() } }
        #expect(await eventually { await c.node.connectedPeers.contains(b.key.publicKey) })
        #expect(await a.node.status().inbound == 1)
        #expect(await eventually { await a.counter("inbound_limit") >= 1 })
        // a filed c's advertised address, so a (or anyone a tells) can dial c.
        #expect(await a.node.addressBook.entries.contains { $0.identity == c.key.publicKey })
    }
}
