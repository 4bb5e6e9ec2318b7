import ChorusCrypto
import ChorusNetworkFile
import ChorusProtocol
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// Epochs on real nodes: three nodes on loopback run the epoch engine over gossip and anti-entropy
/// (beacon, tally, certificate signatures) and end with the same final table, bit for bit. These
/// nodes have no PoC worker, so their tables carry no PoC weight; the statement plumbing is what
/// this checks (the engine's own tests cover PoC, votes and delegation).
@Suite(.serialized) struct NodeEpochTests {
    static func parameters(participants: [Ed25519.SigningKey]) throws -> NetworkParameters {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Network/devnet/network.toml").path
        var p = try NetworkFile.load(path: file)
        p.networkID = NodeHarnessForTests.networkID
        p.genesisUnixMs = Int64(Date().timeIntervalSince1970 * 1000) + 1500
        p.stages = StageDurations(generationMs: 1500, validationMs: 1000, tallyMs: 4000, inferenceMs: 1000, beaconRevealMs: 500)
        p.genesisParticipants = participants.map { GenesisParticipant(id: $0.publicKey.raw, weight: 100) }.sorted { $0.id < $1.id }
        return p
    }

    /// A statement of epoch 2^64 − 1 was once stored and forwarded by every node. A node that
    /// follows epochs ignores statements beyond the next epoch, from gossip and from sync.
    @Test func statementsFromFarFutureEpochsAreIgnored() async throws {
        let keys = (0..<2).map { _ in Ed25519.SigningKey.generate() }
        let dirs = (0..<2).map { temporaryDirectory("future-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let a = try await NodeHarnessForTests(key: keys[0], storeDirectory: dirs[0])
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: keys[1],
                                              storeDirectory: dirs[1])
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(await eventually { await a.node.connectedPeers.count == 1 })
        var p = try Self.parameters(participants: keys)
        p.genesisUnixMs = Int64(Date().timeIntervalSince1970 * 1000) - 1000  // epoch 1 has begun
        await a.node.attachEpochs(EpochEngine(parameters: p, key: keys[0], configuration: .init(servedModels: []),
                                              beaconSecret: { _ in Blake2b.hash256([1]) }))
        // b follows no epochs: it stores and gossips both.
        _ = try await b.node.publish(topic: "statements", body: Array("far future".utf8), type: .text, epoch: .max)
        _ = try await b.node.publish(topic: "statements", body: Array("now".utf8), type: .text, epoch: 1)
        #expect(await eventually { await a.node.messages(topic: "statements").map(\.data).contains("now") })
        // Sync offers the future one again every round; it is never taken either.
        try await Task.sleep(for: .seconds(1))
        #expect(await !a.node.messages(topic: "statements").map(\.data).contains("far future"))
        #expect(await a.node.currentCounters.futureStatements >= 1)
    }

    @Test func threeNodesFinalizeTheSameTable() async throws {
        let keys = (0..<3).map { _ in Ed25519.SigningKey.generate() }
        let dirs = (0..<3).map { temporaryDirectory("epoch-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let a = try await NodeHarnessForTests(key: keys[0], storeDirectory: dirs[0])
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: keys[1], storeDirectory: dirs[1])
        let c = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: keys[2], storeDirectory: dirs[2])
        let nodes = [a, b, c]
        defer { Task { for n in nodes { await n.shutdown() } } }
        // Genesis only once the mesh is up (a loaded test machine may take seconds to get here).
        #expect(await eventually { await c.node.connectedPeers.count == 2 })
        let p = try Self.parameters(participants: keys)
        for (i, node) in nodes.enumerated() {
            let seedByte = UInt8(i)
            await node.node.attachEpochs(EpochEngine(
                parameters: p, key: keys[i], configuration: .init(servedModels: []),
                beaconSecret: { epoch in Blake2b.hash256([seedByte] + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) }) }))
        }
        // Epoch 1's tally runs 2.5-6.5 s after genesis; its table is final once > 2/3 of the genesis weight signed it.
        #expect(await eventually(timeout: .seconds(30)) {
            var finals: [Bool] = []
            for node in nodes { finals.append(await node.node.epochStatus(1)?.final ?? false) }
            return finals.allSatisfy { $0 }
        })
        var digests: [String?] = []
        for node in nodes { digests.append(await node.node.epochStatus(1)?.tableDigest) }
        #expect(digests[0] != nil && digests.allSatisfy { $0 == digests[0] })
        let status = try #require(await a.node.epochStatus(1))
        #expect((status.certificateSigners ?? 0) >= 3 - 0 && status.divergences.isEmpty)
        #expect(status.skipped.isEmpty)
        let table = try #require(await b.node.weights(1))
        #expect(table.entries.count == 3)
    }
}
