import ChorusCrypto
import ChorusMesh
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

        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), storeDirectory: dirB)
        defer { Task { await b.shutdown() } }
        let storeB = try #require(b.statements)
        #expect(await eventually(timeout: .seconds(10)) { Self.ids(storeB) == published })
        #expect(await b.node.currentCounters.syncedStatements == 300)

        // And the other way round: B's own statements reach A by the periodic reconciliation too.
        let own = try await b.node.publish(topic: "other-topic", body: [1], type: .text, epoch: 9)
        #expect(await eventually(timeout: .seconds(5)) { Self.ids(storeA).contains(own.id) })
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
