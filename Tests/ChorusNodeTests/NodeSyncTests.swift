import ChorusCrypto
import ChorusMesh
import ChorusProtocol
import ChorusStore
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// Anti-entropy between real nodes with stores: what gossip missed (a node that was down, a
/// partition) is reconciled and fetched, so the stores end identical.
@Suite(.serialized) struct NodeSyncTests {
    static func ids(_ store: StatementStore) -> Set<Bytes32> {
        var all = Set<Bytes32>()
        for (type, epoch) in (try? store.scopes()) ?? [] {
            all.formUnion((try? store.ids(type: type, epoch: epoch)) ?? [])
        }
        return all
    }

    static func scopeNames(_ store: StatementStore) -> [String] {
        ((try? store.scopes()) ?? []).map { "\($0.type.name)@\($0.epoch)" }
    }

    @Test func aNodeThatWasDownCatchesUpWithEverythingItMissed() async throws {
        let dirA = temporaryDirectory("sync-a"), dirB = temporaryDirectory("sync-b")
        defer { for d in [dirA, dirB] { try? FileManager.default.removeItem(atPath: d) } }
        let a = try await NodeHarnessForTests(storeDirectory: dirA)
        defer { Task { await a.shutdown() } }
        // Published while nobody listens: gossip alone would never deliver these to B.
        var published: Set<Bytes32> = []
        for i in 0..<300 {
            let type: StatementType = i % 3 == 0 ? .vote : .text
            published.insert(try await a.node.publish(topic: "statements", body: Array("s\(i)".utf8), type: type, epoch: UInt64(i % 4)).id)
        }
        let storeA = try #require(a.statements)
        #expect(await eventually { Self.ids(storeA) == published })

        // B joins no gossip topic: A's gossip may still announce its last statements (IHAVE), and
        // what B took that way would not count as synced (under load it once took 40).
        var configuration = NodeHarnessForTests.testConfiguration(seeds: [a.address])
        configuration.topics = []
        let b = try await NodeHarnessForTests(configuration: configuration, storeDirectory: dirB)
        defer { Task { await b.shutdown() } }
        let storeB = try #require(b.statements)
        #expect(await eventually(timeout: .seconds(10)) { Self.ids(storeB) == published })
        // The counter follows a batch's last chunk; the store may show a batch's first chunks before.
        // Each statement counts once, whichever of the concurrent rounds stored it.
        let counted = await eventually(timeout: .seconds(5)) { await b.node.currentCounters.syncedStatements == 300 }
        let synced = await b.node.currentCounters.syncedStatements
        #expect(counted, "synced \(synced)")

        // And the other way round: B's own statements reach A by the periodic reconciliation too.
        let own = try await b.node.publish(topic: "other-topic", body: [1], type: .text, epoch: 9)
        #expect(await eventually(timeout: .seconds(5)) { Self.ids(storeA).contains(own.id) })
    }

    /// Retention (Specs/gossip.md §4): a node at epoch 20 with `retention_epochs = 4` deletes its
    /// statements older than epoch 16 and reconciles epochs 16-21 only. From a peer that keeps
    /// everything (it follows no epochs) it takes the recent statements and none of the old or
    /// future ones, and an old statement it still stores is never offered to that peer.
    @Test func epochsBeyondRetentionAreDeletedAndNotExchanged() async throws {
        let dirA = temporaryDirectory("retention-a"), dirB = temporaryDirectory("retention-b")
        defer { for d in [dirA, dirB] { try? FileManager.default.removeItem(atPath: d) } }
        let a = try await NodeHarnessForTests(storeDirectory: dirA)
        defer { Task { await a.shutdown() } }
        func publish(_ node: NodeHarnessForTests, _ epochs: [UInt64]) async throws -> Set<Bytes32> {
            var ids: Set<Bytes32> = []
            for epoch in epochs { ids.insert(try await node.node.publish(topic: "statements", body: Array("at \(epoch)".utf8), epoch: epoch).id) }
            return ids
        }
        let old = try await publish(a, [1, 2, 15]), recent = try await publish(a, [16, 19, 20, 21]), future = try await publish(a, [22])
        let publishedAt = ContinuousClock.now

        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.retentionEpochs = 4
        let key = Ed25519.SigningKey.generate()
        let b = try await NodeHarnessForTests(configuration: configuration, key: key, storeDirectory: dirB)
        defer { Task { await b.shutdown() } }
        let storeA = try #require(a.statements), storeB = try #require(b.statements)
        let before = try await publish(b, [3])  // stored while b follows no epochs yet
        #expect(await eventually { Self.ids(storeB) == before })

        // b follows epoch 20 of 4-minute epochs (the window cannot move during the test).
        var p = try NodeEpochTests.parameters(participants: [key])
        p.stages = StageDurations(generationMs: 60_000, validationMs: 60_000, tallyMs: 60_000, inferenceMs: 60_000, beaconRevealMs: 500)
        p.genesisUnixMs = Int64(Date().timeIntervalSince1970 * 1000) - 19 * 240_000 - 120_000
        await b.node.attachEpochs(EpochEngine(parameters: p, key: key, configuration: .init(servedModels: []),
                                              beaconSecret: { _ in Blake2b.hash256([1]) }))
        #expect(await eventually { Self.ids(storeB).isDisjoint(with: before) })  // pruned at the next round
        let straggler = try await publish(b, [9])  // stored after the prune: kept until the next one, never offered
        #expect(await b.node.syncReport()?.floor == 16)
        #expect(await b.node.syncReport()?.ceiling == 21)
        // Exports need the epoch before's statements: epochs up to the floor are refused, saying why.
        await #expect(throws: NodeError.self) { try await b.node.exportEpoch(16) }
        do {
            _ = try await b.node.exportEpoch(16)
        } catch {
            #expect(error.description.contains("retention_epochs"), "\(error)")
        }

        // Connect once a's gossip cache no longer announces its statements (IHAVE covers ~2 s): what
        // b gets comes from anti-entropy.
        try await Task.sleep(until: publishedAt + .seconds(5))
        try await b.node.addPeers([a.address])
        #expect(await eventually(timeout: .seconds(15)) { Self.ids(storeB).isSuperset(of: recent) })
        try await Task.sleep(for: .seconds(1))  // more rounds
        let inB = Self.ids(storeB), inA = Self.ids(storeA)
        #expect(inB.isDisjoint(with: old.union(future)))
        #expect(inB.isSuperset(of: straggler))
        #expect(inA.isDisjoint(with: before.union(straggler)))
        #expect(inA.isSuperset(of: old.union(recent).union(future)))
    }

    @Test func scopesJumpFromScopeToScope() async throws {
        let dir = temporaryDirectory("scopes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try await NodeHarnessForTests(storeDirectory: dir)
        defer { Task { await a.shutdown() } }
        for (type, epoch) in [(StatementType.text, 0), (.text, 0), (.vote, 3), (.text, 1), (.vote, 300)] as [(StatementType, UInt64)] {
            _ = try await a.node.publish(topic: "statements", body: [UInt8(truncatingIfNeeded: epoch)], type: type, epoch: epoch)
        }
        let store = try #require(a.statements)
        #expect(await eventually { Self.ids(store).count == 5 })
        let scopes = Self.scopeNames(store)
        #expect(scopes == ["text@0", "text@1", "vote@3", "vote@300"])
    }
}

@Suite struct SyncMessageWireTests {
    @Test func roundTripsAndRefusesDisorder() throws {
        let ids = (0..<5).map { Blake2b.hash256([UInt8($0)]) }.sorted()
        let scope = SyncScope(topic: "text", epoch: 7)
        let messages: [SyncMessage] = [
            .reconcile([.fingerprint(scope, .all, count: 3, fingerprint: ids[0]),
                        .ids(scope, IDRange(lower: ids[1], upper: ids[4]), Array(ids[1..<4]), wantsReply: true)]),
            .fetch(ids),
            .statements([[1, 2, 3], []]),
        ]
        for message in messages {
            #expect(try SyncMessage(decoding: message.encoded()[...], maxStatement: 1 << 20) == message)
        }
        let unsorted = SyncMessage.reconcile([.ids(scope, .all, [ids[1], ids[0]], wantsReply: false)]).encoded()
        #expect(throws: WireError.self) { _ = try SyncMessage(decoding: unsorted[...], maxStatement: 1 << 20) }
        let full = messages[0].encoded()
        for length in 0..<full.count {
            #expect(throws: WireError.self) { _ = try SyncMessage(decoding: full[..<length], maxStatement: 1 << 20) }
        }
        #expect(throws: WireError.self) { _ = try SyncMessage(decoding: SyncMessage.statements([[1, 2, 3]]).encoded()[...], maxStatement: 2) }
    }
}
