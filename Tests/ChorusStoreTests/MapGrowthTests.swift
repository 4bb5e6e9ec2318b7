import ChorusStore
import Dispatch
import Foundation
import Synchronization
import Testing

@Suite struct MapGrowthTests {
    let directory = TemporaryDirectoryForTests("map")

    static let chunk = [UInt8](repeating: 0x5A, count: 1000)

    func fill(_ environment: StoreEnvironment, _ table: Table<UInt64, [UInt8]>, _ range: Range<UInt64>) throws {
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for key in range { try table.put(key, Self.chunk, in: transaction) }
        }
    }

    func allIntact(_ environment: StoreEnvironment, _ table: Table<UInt64, [UInt8]>, _ count: Int) throws -> Bool {
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) -> Bool in
            var seen = 0
            var intact = true
            try table.scan(in: transaction) { key, value in
                intact = intact && key == UInt64(seen) && value == Self.chunk
                seen += 1
                return .continue
            }
            return intact && seen == count
        }
    }

    @Test func writesBeyondATinyMapGrowIt() throws {
        let environment = try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: ["blobs"]),
            options: StoreOptions(initialMapSize: 64 << 10, maximumMapSize: 64 << 20))
        let blobs: Table<UInt64, [UInt8]> = try environment.table("blobs")
        let initial = environment.mapSize
        #expect(initial == 64 << 10)
        // One transaction far larger than the map, then many small ones.
        try fill(environment, blobs, 0..<3000)
        for start in stride(from: UInt64(3000), to: 4000, by: 100) { try fill(environment, blobs, start..<start + 100) }
        #expect(environment.mapSize >= 4 << 20)
        #expect(try allIntact(environment, blobs, 4000))
        let grown = environment.mapSize

        // The grown size is kept in the file and adopted at the next open.
        let path = directory.path
        _ = consume environment
        let reopened = try StoreEnvironment.open(
            at: path, schema: StoreSchema(tables: ["blobs"]),
            options: StoreOptions(initialMapSize: 64 << 10, maximumMapSize: 64 << 20))
        #expect(reopened.mapSize == grown)
        #expect(try allIntact(reopened, try reopened.table("blobs"), 4000))
    }

    /// Growth remaps the file; readers on other threads must never see the old mapping go away under
    /// them (that would crash), and must always read intact values.
    @Test func mapGrowsSafelyWhileOtherThreadsRead() throws {
        let environment = try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: ["blobs"]),
            options: StoreOptions(initialMapSize: 64 << 10, maximumMapSize: 64 << 20))
        let blobs: Table<UInt64, [UInt8]> = try environment.table("blobs")
        let stop = Atomic<Bool>(false)
        let damaged = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        // Dedicated threads: the test must not depend on a shared pool having a thread to spare.
        for _ in 0..<3 {
            Thread {
                var first = true
                while !stop.load(ordering: .relaxed) {
                    do {
                        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
                            try blobs.scan(in: transaction) { _, value in
                                if value != Self.chunk { damaged.add(1, ordering: .relaxed) }
                                return .continue
                            }
                        }
                        reads.add(1, ordering: .relaxed)
                    } catch {
                        damaged.add(1, ordering: .relaxed)
                    }
                    if first {
                        first = false
                        started.signal()
                    }
                }
                finished.signal()
            }.start()
        }
        for _ in 0..<3 { started.wait() }  // every reader is running before the map starts growing
        for start in stride(from: UInt64(0), to: 3000, by: 100) { try fill(environment, blobs, start..<start + 100) }
        stop.store(true, ordering: .relaxed)
        for _ in 0..<3 { finished.wait() }
        #expect(damaged.load(ordering: .relaxed) == 0)
        #expect(reads.load(ordering: .relaxed) > 0)
        #expect(environment.mapSize >= 2 << 20)
        #expect(try allIntact(environment, blobs, 3000))
    }

    @Test func storageWriterGrowsTheMapToo() async throws {
        let environment = try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: ["blobs"]),
            options: StoreOptions(initialMapSize: 64 << 10, maximumMapSize: 64 << 20))
        let blobs: Table<UInt64, [UInt8]> = try environment.table("blobs")
        let writer = try StorageWriter(environment: environment)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for start in stride(from: UInt64(0), to: 2000, by: 50) {
                group.addTask {
                    var batch = WriteBatch()
                    for key in start..<start + 50 { batch.put(key, Self.chunk, into: blobs) }
                    try await writer.submit(batch)
                }
            }
            try await group.waitForAll()
        }
        writer.close()
        #expect(try allIntact(environment, blobs, 2000))
        #expect(environment.mapSize > 64 << 10)
    }

    @Test func fullAtTheMaximumIsAClearErrorAndTheStoreStillWorks() throws {
        let maximum = 1 << 20
        let environment = try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: ["blobs"]),
            options: StoreOptions(initialMapSize: 256 << 10, maximumMapSize: maximum))
        let blobs: Table<UInt64, [UInt8]> = try environment.table("blobs")
        try fill(environment, blobs, 0..<100)
        let error = #expect(throws: StoreError.self) { try fill(environment, blobs, 100..<5000) }
        #expect(error == .mapFull(path: directory.path, mapSize: maximum, maximumMapSize: maximum))
        #expect(error?.description.contains("maximumMapSize") == true)
        #expect(environment.mapSize == maximum)
        // Reads still work and see the last committed state; small writes still fit.
        #expect(try allIntact(environment, blobs, 100))
        try fill(environment, blobs, 100..<110)
        #expect(try allIntact(environment, blobs, 110))
    }

    @Test func explicitTransactionsReportGrowthAndSucceedOnRetry() throws {
        let environment = try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: ["blobs"]),
            options: StoreOptions(initialMapSize: 64 << 10, maximumMapSize: 64 << 20))
        let blobs: Table<UInt64, [UInt8]> = try environment.table("blobs")
        var attempts = 0
        func attempt() throws(StoreError) {
            attempts += 1
            let transaction = try environment.beginWrite()
            for key in UInt64(0)..<500 { try blobs.put(key, Self.chunk, in: transaction) }
            try transaction.commit()
        }
        while true {
            do throws(StoreError) {
                try attempt()
                break
            } catch .mapGrowthNeeded {
                #expect(attempts < 20)
                if attempts >= 20 { return }
            }
        }
        #expect(attempts > 1)
        #expect(try allIntact(environment, blobs, 500))
    }

    /// Another process grows the map while this one has the environment open: this process's next
    /// transaction gets MDB_MAP_RESIZED, adopts the new size and reads everything.
    @Test func mapGrownByAnotherProcessIsAdopted() throws {
        let environment = try StoreEnvironment.open(
            at: directory.path, schema: CrashBatchLayout.schema,
            options: StoreOptions(initialMapSize: 64 << 10, maximumMapSize: 64 << 20))
        let table: Table<UInt64, [UInt8]> = try environment.table("fill")
        let before = environment.mapSize
        let child = try ChildProcessForTests.start(
            ["fill", directory.path, "4096"], outputPath: directory.sub("fill.out"))
        #expect(child.waitForExit() == 0)
        #expect(child.lines().first?.hasPrefix("done") == true, "\(child.lines())")
        let count = try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            try table.count(in: transaction)
        }
        #expect(count == 4096)
        #expect(environment.mapSize > before)
        // This process can write after adopting the size.
        try fill(environment, table, 5000..<5010)
    }
}
