import ChorusStore
import Foundation
import Synchronization
import Testing

@Suite struct SchemaTests {
    let directory = TemporaryDirectoryForTests("schema")

    /// Counts how often each migration ran, across reopenings.
    final class MigrationLog: Sendable {
        let runs = Mutex<[String]>([])
        func record(_ name: String) { runs.withLock { $0.append(name) } }
        var all: [String] { runs.withLock { $0 } }
    }

    func schemaV2(_ log: MigrationLog) -> StoreSchema {
        StoreSchema(
            tables: ["peers"],
            migrations: [
                .init("seed peers") { (transaction: borrowing WriteTransaction) throws(StoreError) in
                    log.record("seed peers")
                    let peers: Table<String, UInt64> = try transaction.table("peers")
                    try peers.put("alice", 1, in: transaction)
                },
                .init("double scores") { (transaction: borrowing WriteTransaction) throws(StoreError) in
                    log.record("double scores")
                    let peers: Table<String, UInt64> = try transaction.table("peers")
                    for (name, score) in try peers.entries(prefix: [UInt8](), in: transaction) {
                        try peers.put(name, score * 2, in: transaction)
                    }
                },
            ])
    }

    @Test func freshStoreRunsAllMigrationsOnceAndRecordsTheVersion() throws {
        let log = MigrationLog()
        do {
            let environment = try StoreEnvironment.open(at: directory.path, schema: schemaV2(log))
            #expect(environment.schemaVersion == 2)
        }
        do {
            let environment = try StoreEnvironment.open(at: directory.path, schema: schemaV2(log))
            #expect(environment.schemaVersion == 2)
            let peers: Table<String, UInt64> = try environment.table("peers")
            try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
                #expect(try peers.get("alice", in: transaction) == 2)
            }
        }
        #expect(log.all == ["seed peers", "double scores"])
    }

    @Test func upgradeRunsOnlyPendingMigrations() throws {
        let log = MigrationLog()
        let full = schemaV2(log)
        let v1 = StoreSchema(tables: full.tables, migrations: Array(full.migrations.prefix(1)))
        do {
            let environment = try StoreEnvironment.open(at: directory.path, schema: v1)
            #expect(environment.schemaVersion == 1)
        }
        #expect(log.all == ["seed peers"])
        let environment = try StoreEnvironment.open(at: directory.path, schema: full)
        #expect(environment.schemaVersion == 2)
        #expect(log.all == ["seed peers", "double scores"])
        let meta: Table<String, UInt64> = try environment.table(StoreEnvironment.metaTableName)
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try meta.get("schema_version", in: transaction) == 2)
        }
    }

    @Test func newerStoreIsRefusedAndLeftUntouched() throws {
        do { _ = try StoreEnvironment.open(at: directory.path, schema: schemaV2(MigrationLog())) }
        let dataFile = directory.sub(StoreEnvironment.dataFileName)
        let before = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        let old = StoreSchema(tables: ["peers", "added-later"])  // version 0, and a table the file lacks
        let error = #expect(throws: StoreError.self) { _ = try StoreEnvironment.open(at: directory.path, schema: old) }
        #expect(error == .schemaTooNew(path: directory.path, storedVersion: 2, supportedVersion: 0))
        #expect(error?.description.contains("newer Chorus") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dataFile)) == before)
        let environment = try StoreEnvironment.openReadOnly(at: directory.path)
        #expect(environment.tableNames == ["meta", "peers"])
    }

    @Test func failingMigrationLeavesTheStoreAtItsVersion() throws {
        let log = MigrationLog()
        let full = schemaV2(log)
        do { _ = try StoreEnvironment.open(at: directory.path, schema: StoreSchema(tables: full.tables, migrations: [full.migrations[0]])) }
        let broken = StoreSchema(
            tables: full.tables + ["new-table"],
            migrations: [
                full.migrations[0],
                .init("broken") { (transaction: borrowing WriteTransaction) throws(StoreError) in
                    let peers: Table<String, UInt64> = try transaction.table("peers")
                    try peers.put("bob", 5, in: transaction)
                    throw .malformed(what: "test data", reason: "migration refuses")
                },
            ])
        let error = #expect(throws: StoreError.self) { _ = try StoreEnvironment.open(at: directory.path, schema: broken) }
        guard case .migrationFailed(_, 1, "broken", let reason) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(reason.contains("migration refuses"))
        let environment = try StoreEnvironment.openReadOnly(at: directory.path)
        #expect(environment.schemaVersion == 1)
        #expect(environment.tableNames == ["meta", "peers"])  // the new table was not created either
        let peers: Table<String, UInt64> = try environment.table("peers")
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try peers.get("bob", in: transaction) == nil)
        }
    }

    @Test func readOnlyOpeningNeverCreatesAStore() throws {
        #expect(throws: StoreError.noStore(path: directory.path)) { _ = try StoreEnvironment.openReadOnly(at: directory.path) }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let error = #expect(throws: StoreError.self) { _ = try StoreEnvironment.openReadOnly(at: directory.path) }
        #expect(error?.description.hasPrefix("no Chorus store in \(directory.path)") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func createsTheDirectoryPrivate() throws {
        let nested = directory.sub("a/b")
        _ = try StoreEnvironment.open(at: nested, schema: StoreSchema(tables: []))
        let attributes = try FileManager.default.attributesOfItem(atPath: nested)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
    }
}
