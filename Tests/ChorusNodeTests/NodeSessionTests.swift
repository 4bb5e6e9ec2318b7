import ChorusCrypto
import ChorusMesh
import Foundation
import Synchronization
import Testing
@testable import ChorusNode

/// Two or three real nodes on loopback: sessions come up, carry messages of every size, answer
/// pings, and come back from the store after a restart without seeds.
@Suite(.serialized) struct NodeSessionTests {
    /// Whether `a` and `b` each have exactly one session: with the other.
    func connected(_ a: NodeHarnessForTests, _ b: NodeHarnessForTests) async -> Bool {
        let ofA = await a.node.connectedPeers, ofB = await b.node.connectedPeers
        return ofA == [b.key.publicKey] && ofB == [a.key.publicKey]
    }

    @Test func seededNodesConnectBothWaysAndPing() async throws {
        let a = try await NodeHarnessForTests()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        defer { Task { await a.shutdown(); await b.shutdown() } }

        #expect(await eventually { await connected(a, b) })
        let rtt = try await b.node.ping(a.key.publicKey)
        #expect(rtt > .zero && rtt < .seconds(1))

        let peersOfA = await a.node.peers()
        #expect(peersOfA.count == 1)
        #expect(peersOfA.first?.direction == "inbound")
        #expect(peersOfA.first?.advertisedAddress == b.address)
        let status = await b.node.status()
        #expect(status.peerCount == 1 && status.outbound == 1 && status.networkID == NodeHarnessForTests.networkID)
        #expect(status.publicKey == b.key.publicKey.hex)
    }

    @Test func sessionsWorkOverIPv6() async throws {
        let a = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(listen: "[::1]:0"))
        #expect(a.address.hasPrefix("[::1]:"))
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address], listen: "[::1]:0"))
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(await eventually { await connected(a, b) })
        #expect(try await a.node.ping(b.key.publicKey) > .zero)
        #expect(await a.node.peers().first?.advertisedAddress == b.address)
    }

    @Test func messagesOfEverySizeArriveWholeAndInOrder() async throws {
        let a = try await NodeHarnessForTests()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(await eventually { await b.node.connectedPeers.count == 1 })

        let received = Mutex<[(Ed25519.PublicKey, [UInt8])]>([])
        await a.node.setHandler(for: 42) { sender, bytes in received.withLock { $0.append((sender, Array(bytes))) } }
        let sizes = [0, 1, 200, 65_518, 65_519, 200_000, 4 << 20 - 1]
        var sent: [[UInt8]] = []
        for (i, size) in sizes.enumerated() {
            let message = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            sent.append(message)
            #expect(await b.node.send(message, tag: 42, to: a.key.publicKey, priority: .publish))
        }
        #expect(await eventually(timeout: .seconds(20)) { received.withLock { $0.count } == sizes.count })
        received.withLock { got in
            #expect(got.map(\.1) == sent)
            #expect(got.allSatisfy { $0.0 == b.key.publicKey })
        }
        // A message over the maximum is refused locally, never sent.
        #expect(await b.node.send([UInt8](repeating: 0, count: 4 << 20), tag: 42, to: a.key.publicKey) == false)
        // Unknown tags are counted, not fatal.
        #expect(await b.node.send([1, 2, 3], tag: 200, to: a.key.publicKey))
        #expect(await eventually { await a.node.currentCounters.unknownTags == 1 })
        #expect(await a.node.connectedPeers.count == 1)
    }

    @Test func restartWithoutSeedsReconnectsFromTheStoreWithinTwoSeconds() async throws {
        let directoryA = temporaryDirectory("peers-a"), directoryB = temporaryDirectory("peers-b")
        defer { for d in [directoryA, directoryB] { try? FileManager.default.removeItem(atPath: d) } }
        let keyA = Ed25519.SigningKey.generate(), keyB = Ed25519.SigningKey.generate()
        // Each harness is dropped after shutdown: one process may hold an LMDB environment only once.
        var a: NodeHarnessForTests? = try await NodeHarnessForTests(key: keyA, storeDirectory: directoryA)
        let listenA = a!.address
        var b: NodeHarnessForTests? = try await NodeHarnessForTests(
            configuration: NodeHarnessForTests.testConfiguration(seeds: [listenA]), key: keyB, storeDirectory: directoryB)
        let listenB = b!.address
        #expect(await eventually { await connected(a!, b!) })
        await b!.shutdown()
        b = nil
        #expect(await eventually { await a!.node.connectedPeers.isEmpty })

        // Same key, same store, same port, no seeds: B dials A from the stored address.
        var started = ContinuousClock.now
        b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(listen: listenB),
                                          key: keyB, storeDirectory: directoryB)
        #expect(await eventually(timeout: .seconds(2)) { await b!.node.connectedPeers == [keyA.publicKey] })
        #expect(started.duration(to: .now) < .seconds(2))

        // A, restarted without seeds while B is down, dials B from the address B advertised.
        await a!.shutdown()
        a = nil
        await b!.shutdown()
        b = nil
        b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(listen: listenB),
                                          key: keyB, storeDirectory: nil)
        started = ContinuousClock.now
        a = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(listen: listenA),
                                          key: keyA, storeDirectory: directoryA)
        #expect(await eventually(timeout: .seconds(2)) { await a!.node.connectedPeers == [keyB.publicKey] })
        #expect(started.duration(to: .now) < .seconds(2))
        await a!.shutdown()
        await b!.shutdown()
    }

    @Test func simultaneousDialsKeepExactlyOneSession() async throws {
        let a = try await NodeHarnessForTests()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        try await a.node.addPeers([b.address])
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(await eventually { await connected(a, b) })
        try await Task.sleep(for: .milliseconds(300))
        #expect(await a.node.peers().count == 1)
        #expect(await b.node.peers().count == 1)
        _ = try await a.node.ping(b.key.publicKey)
    }

    @Test func stopTellsPeersWhy() async throws {
        let a = try await NodeHarnessForTests()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        defer { Task { await a.shutdown() } }
        #expect(await eventually { await a.node.connectedPeers.count == 1 })
        await b.shutdown()
        #expect(await eventually { await a.counter("peer_closed") == 1 })
        #expect(a.logs.contains("closed connection", "reason=peer closed"))
    }
}
