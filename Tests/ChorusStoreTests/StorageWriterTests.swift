import ChorusStore
import Dispatch
import Synchronization
import Testing

@Suite struct StorageWriterTests {
    let directory = TemporaryDirectoryForTests("writer")

    func open() throws -> (StoreEnvironment, Table<UInt64, UInt64>) {
        let environment = try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: ["items"]), options: StoreOptions(initialMapSize: 8 << 20))
        return (environment, try environment.table("items"))
    }

    func count(_ environment: StoreEnvironment, _ items: Table<UInt64, UInt64>) throws -> Int {
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in try items.count(in: transaction) }
    }

    @Test func submitReturnsTheResultAfterCommit() async throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment)
        let inserted = try await writer.submit { (transaction: borrowing WriteTransaction) throws(StoreError) -> Bool in
            try items.insert(1, 100, in: transaction)
        }
        let again = try await writer.submit { (transaction: borrowing WriteTransaction) throws(StoreError) -> Bool in
            try items.insert(1, 200, in: transaction)
        }
        #expect(inserted && !again)
        // Acknowledged means committed: a fresh read transaction sees it.
        #expect(try count(environment, items) == 1)
        writer.close()
        #expect(writer.statistics.batches == 2)
    }

    @Test func untypedWorkGetsItsOwnErrorBack() async throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment)
        await #expect(throws: ForeignErrorForTests()) {
            try await writer.submit { transaction in
                try items.put(1, 1, in: transaction)
                throw ForeignErrorForTests()
            }
        }
        let inserted = try await writer.submit { transaction in try items.insert(2, 2, in: transaction) }
        #expect(inserted)
        #expect(try count(environment, items) == 1)
        writer.close()
    }

    @Test func manySmallConcurrentBatchesShareCommits() async throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment)
        let batches = 2000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<batches {
                group.addTask {
                    var batch = WriteBatch()
                    batch.put(UInt64(number), UInt64(number) * 3, into: items)
                    try await writer.submit(batch)
                }
            }
            try await group.waitForAll()
        }
        writer.close()
        let statistics = writer.statistics
        #expect(statistics.batches == batches)
        #expect(statistics.failedBatches == 0)
        // Batches queued while a commit runs go into the next one: far fewer commits than batches.
        #expect(statistics.commits < batches / 2, "\(statistics)")
        #expect(statistics.largestCommit > 1)
        #expect(try count(environment, items) == batches)
    }

    @Test func commitSizeIsBounded() throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment, options: .init(maxBatchesPerCommit: 4))
        let done = DispatchSemaphore(value: 0)
        // Hold the writer lock so every submission queues up, then release it.
        let blocker = try environment.beginWrite()
        for number in 0..<40 {
            var batch = WriteBatch()
            batch.put(UInt64(number), 0, into: items)
            writer.submit(batch) { _ in done.signal() }
        }
        blocker.abort()
        for _ in 0..<40 { done.wait() }
        writer.close()
        #expect(writer.statistics.largestCommit <= 4)
        #expect(writer.statistics.commits >= 10)
        #expect(try count(environment, items) == 40)
    }

    @Test func aFailingBatchFailsAloneAndTheOthersCommit() throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment)
        let outcomes = Mutex<[Int: Bool]>([:])
        let done = DispatchSemaphore(value: 0)
        let blocker = try environment.beginWrite()  // queue all twenty behind one commit
        for number in 0..<20 {
            writer.submit({ (transaction: borrowing WriteTransaction) throws(StoreError) in
                try items.put(UInt64(number), 1, in: transaction)
                if number == 7 { throw StoreError.malformed(what: "batch", reason: "rejected by test") }
            }, completion: { result in
                outcomes.withLock { $0[number] = (try? result.get()) != nil }
                done.signal()
            })
        }
        blocker.abort()
        for _ in 0..<20 { done.wait() }
        writer.close()
        let results = outcomes.withLock { $0 }
        #expect(results.filter { !$0.value }.map(\.key) == [7])
        #expect(try count(environment, items) == 19)
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try items.get(7, in: transaction) == nil)
        }
        #expect(writer.statistics.failedBatches == 1)
    }

    @Test func completionsRunInSubmissionOrder() throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment)
        let order = Mutex<[Int]>([])
        let done = DispatchSemaphore(value: 0)
        for number in 0..<300 {
            var batch = WriteBatch()
            batch.put(UInt64(number), 0, into: items)
            writer.submit(batch) { _ in
                order.withLock { $0.append(number) }
                done.signal()
            }
        }
        for _ in 0..<300 { done.wait() }
        #expect(order.withLock { $0 } == Array(0..<300))
        writer.close()
    }

    @Test func closeDrainsTheQueueThenRejects() async throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment)
        let acknowledged = Atomic<Int>(0)
        for number in 0..<100 {
            var batch = WriteBatch()
            batch.put(UInt64(number), 0, into: items)
            writer.submit(batch) { result in
                if (try? result.get()) != nil { acknowledged.add(1, ordering: .relaxed) }
            }
        }
        writer.close()
        #expect(acknowledged.load(ordering: .relaxed) == 100)
        #expect(try count(environment, items) == 100)
        await #expect(throws: StoreError.writerClosed(path: directory.path)) {
            try await writer.submit(WriteBatch())
        }
        writer.close()  // idempotent
    }

    @Test func closingFromACompletionDoesNotDeadlock() throws {
        let (environment, items) = try open()
        let writer = try StorageWriter(environment: environment)
        let done = DispatchSemaphore(value: 0)
        var batch = WriteBatch()
        batch.put(1, 1, into: items)
        writer.submit(batch) { _ in
            writer.close()
            done.signal()
        }
        done.wait()
        #expect(try count(environment, items) == 1)
    }
}
