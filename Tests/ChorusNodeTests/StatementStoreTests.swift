import ChorusCrypto
import ChorusStore
import ChorusWire
import Foundation
import Synchronization
import Testing
@testable import ChorusNode

extension StatementStore {
    /// Test helper: ingests and blocks until the storage thread reports the batch durable.
    func ingestDurably(_ batch: [[UInt8]]) throws -> [Outcome] {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<Void, StoreError>?>(nil)
        let outcomes = try ingest(batch)
        flush { r in result.withLock { $0 = r }; done.signal() }
        done.wait()
        try result.withLock { $0 }!.get()
        return outcomes
    }
}

@Suite struct StatementStoreTests {
    static func withStore(_ body: (StatementStore) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-stmt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = try StoreEnvironment.open(at: dir, schema: NodeSchema.schema)
        let writer = try StorageWriter(environment: env)
        defer { writer.close() }
        try body(try StatementStore(environment: env, writer: writer, policy: StatementPolicy(networkID: "test-net", allowedTypes: nil)))
    }

    let key = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 3, count: 32)))

    func statement(_ seq: UInt64, epoch: UInt64 = 1, type: StatementType = .text, network: String = "test-net") throws -> SignedStatement {
        try SignedStatement.sign(networkID: network, type: type, epoch: epoch, seq: seq, body: Array("s\(seq)".utf8), key: key)
    }

    @Test func storesDeduplicatesAndRejects() throws {
        try Self.withStore { store in
            let a = try statement(1), b = try statement(2)
            var forged = try statement(4).encoded
            forged[forged.count - 1] ^= 1  // a signature bit of a statement never stored
            let wrongNet = try statement(3, network: "other-net")
            let outcomes = try store.ingestDurably([a.encoded, b.encoded, a.encoded, forged, wrongNet.encoded, [1, 2, 3]])
            #expect(outcomes[0] == .stored(a.id))
            #expect(outcomes[1] == .stored(b.id))
            #expect(outcomes[2] == .duplicate(a.id))
            #expect(outcomes[3] == .rejected(.badSignature))
            if case .rejected(.wrongNetwork) = outcomes[4] {} else { Issue.record("expected wrongNetwork, got \(outcomes[4])") }
            if case .rejected = outcomes[5] {} else { Issue.record("expected rejection of garbage") }
            #expect(try store.count() == 2)

            // A concurrent ingest of a statement that is verified but not yet committed is a duplicate.
            let c = try statement(9)
            let first = try store.ingest([c.encoded])
            let second = try store.ingest([c.encoded])
            #expect(first == [.stored(c.id)])
            #expect(second == [.duplicate(c.id)])
            #expect(store.pendingCount == 1)
            _ = try store.ingestDurably([statement(10).encoded])
            #expect(store.pendingCount == 0)
            #expect(try store.count() == 4)
            // Replays later are duplicates, not re-verified, and nothing changes.
            #expect(try store.ingestDurably([b.encoded]) == [.duplicate(b.id)])
            #expect(try store.statement(a.id) == a.encoded)
            // A copy of a stored statement with a damaged signature has the same id (the id covers the
            // signed bytes, not the signature): it is verified, rejected (so a node never forwards it
            // as a duplicate), and the stored copy stays.
            var damaged = a.encoded
            damaged[damaged.count - 1] ^= 1
            #expect(try store.ingestDurably([damaged]) == [.rejected(.badSignature)])
            #expect(try store.statement(a.id) == a.encoded)
        }
    }

    /// Verification runs on a pool while commits land: a statement is fresh to one verification
    /// only, until it is committed (then a duplicate for good) or released (then fresh again).
    @Test func aFreshStatementIsClaimedUntilCommittedOrReleased() throws {
        try Self.withStore { store in
            let a = try statement(1), b = try statement(2)
            let first = try store.verify([a.encoded, b.encoded])
            #expect(first.allSatisfy { if case .fresh = $0 { true } else { false } })
            // A second verification while claimed: duplicates, verified but not fresh.
            let second = try store.verify([a.encoded, b.encoded])
            #expect(second.allSatisfy { if case .duplicate = $0 { true } else { false } })
            // a is committed and becomes durable; b is refused after verification and released.
            store.commit([a])
            store.release([b.id])
            let durable = DispatchSemaphore(value: 0)
            store.flush { _ in durable.signal() }
            durable.wait()
            let third = try store.verify([a.encoded, b.encoded])
            if case .duplicate = third[0] {} else { Issue.record("a committed statement is fresh again: \(third[0])") }
            if case .fresh = third[1] {} else { Issue.record("a released statement is not fresh again: \(third[1])") }
            store.release([b.id])
        }
    }

    @Test func reachingTheThresholdCommitsWithoutAFlush() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-stmt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = try StoreEnvironment.open(at: dir, schema: NodeSchema.schema)
        let writer = try StorageWriter(environment: env)
        let store = try StatementStore(environment: env, writer: writer, policy: .any, flushThreshold: 10)
        let done = DispatchSemaphore(value: 0)
        let batch = try (1...10).map { try statement($0).encoded }
        let outcomes = try store.ingest(batch) { result in
            if case .success = result { done.signal() }
        }
        #expect(outcomes.count == 10)
        done.wait()  // signalled only by the automatic commit
        #expect(try store.count() == 10)
        writer.close()
    }

    @Test func idsByScopeAreSortedAndSeparated() throws {
        try Self.withStore { store in
            let e1 = try (1...20).map { try statement($0, epoch: 1) }
            let e2 = try (21...25).map { try statement($0, epoch: 2) }
            let vote = try statement(30, epoch: 1, type: .vote)
            _ = try store.ingestDurably((e1 + e2 + [vote]).map(\.encoded))
            #expect(try store.ids(type: .text, epoch: 1) == e1.map(\.id).sorted())
            #expect(try store.ids(type: .text, epoch: 2) == e2.map(\.id).sorted())
            #expect(try store.ids(type: .vote, epoch: 1) == [vote.id])
            #expect(try store.ids(type: .vote, epoch: 2).isEmpty)
        }
    }
}
