import ChorusStore
import Foundation
import Testing
@testable import ChorusNode

/// The `poc-artifacts` table: what a node committed to survives a restart, per epoch and model,
/// and old epochs are pruned.
struct ArtifactStoreTests {
    @Test func savesLoadsAndPrunesByEpochAndModel() async throws {
        let dir = temporaryDirectory("artifacts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let environment = try StoreEnvironment.open(at: dir, schema: NodeSchema.schema)
            let writer = try StorageWriter(environment: environment)
            let store = try ArtifactStore(environment: environment, writer: writer)
            for epoch: UInt64 in 1...3 {
                store.save(epoch: epoch, model: "m/a", [(nonce: 7, artifact: [UInt8](repeating: UInt8(epoch), count: 24)),
                                                        (nonce: 300, artifact: [UInt8](repeating: 9, count: 24))])
                store.save(epoch: epoch, model: "m/ab", [(nonce: 1, artifact: [1, 2, 3])])
            }
            try await writer.submit(WriteBatch())  // the writer applies jobs in order: everything above is durable
            writer.close()
        }
        // Reopened: as after a restart.
        let environment = try StoreEnvironment.open(at: dir, schema: NodeSchema.schema)
        let writer = try StorageWriter(environment: environment)
        defer { writer.close() }
        let store = try ArtifactStore(environment: environment, writer: writer)
        let two = try store.loadForTests(epoch: 2, model: "m/a")
        #expect(two.map(\.nonce) == [7, 300])
        #expect(two[0].artifact == [UInt8](repeating: 2, count: 24))
        // A model whose name extends another's is a different prefix (the length byte comes first).
        #expect(try store.loadForTests(epoch: 2, model: "m/ab").map(\.nonce) == [1])
        store.prune(before: 3)
        try await writer.submit(WriteBatch())
        #expect(try store.loadForTests(epoch: 1, model: "m/a").isEmpty)
        #expect(try store.loadForTests(epoch: 2, model: "m/ab").isEmpty)
        #expect(try store.loadForTests(epoch: 3, model: "m/a").count == 2)
    }
}
