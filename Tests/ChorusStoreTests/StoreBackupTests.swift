import ChorusStore
import Foundation
import Testing

/// `StoreEnvironment.copy(toDirectory:)`: the copy holds every live entry, drops free pages, can be
/// taken while the store stays open for writing, and never overwrites an existing store.
@Suite struct StoreBackupTests {
    let directory = TemporaryDirectoryForTests("backup")
    let schema = StoreSchema(tables: ["items"])

    func fileSize(_ path: String) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue)
    }

    @Test func copyKeepsLiveEntriesAndDropsFreePages() throws {
        let source = directory.sub("source"), backup = directory.sub("backup")
        let environment = try StoreEnvironment.open(at: source, schema: schema)
        let items: Table<UInt64, [UInt8]> = try environment.table("items")
        // 2,000 values of 1 KiB, then all but every tenth deleted: the file keeps the high-water
        // mark, a compacted copy only the 200 survivors.
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for key in UInt64(0)..<2_000 { try items.put(key, [UInt8](repeating: UInt8(key % 251), count: 1_024), in: transaction) }
        }
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for key in UInt64(0)..<2_000 where key % 10 != 0 { _ = try items.delete(key, in: transaction) }
        }

        // The source stays open (as a running node's store is) while the copy is taken.
        try environment.copy(toDirectory: backup)
        // Written after the copy: must not be in it.
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try items.put(5, [1, 2, 3], in: transaction)
        }

        #expect(try fileSize(backup + "/data.mdb") * 4 < fileSize(source + "/data.mdb"))
        let copy = try StoreEnvironment.openReadOnly(at: backup)
        #expect(copy.schemaVersion == environment.schemaVersion)
        let copied: Table<UInt64, [UInt8]> = try copy.table("items")
        try copy.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            for key in UInt64(0)..<2_000 {
                let value = try copied.get(key, in: transaction)
                if key % 10 == 0 {
                    #expect(value == [UInt8](repeating: UInt8(key % 251), count: 1_024), "key \(key)")
                } else {
                    #expect(value == nil, "key \(key)")
                }
            }
        }
    }

    @Test func refusesADirectoryThatHoldsAStoreAndLeavesItUntouched() throws {
        let source = directory.sub("source"), existing = directory.sub("existing")
        let environment = try StoreEnvironment.open(at: source, schema: schema)
        do {
            let other = try StoreEnvironment.open(at: existing, schema: StoreSchema(tables: ["other"]))
            #expect(other.tableNames.contains("other"))
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: existing + "/data.mdb"))
        do {
            try environment.copy(toDirectory: existing)
            Issue.record("copied over an existing store")
        } catch {
            guard case let .fileSystem(_, path, code, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(path == existing + "/data.mdb")
            #expect(code == EEXIST)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: existing + "/data.mdb")) == before)
    }
}
