import ChorusStore
import Dispatch
import Foundation
import Testing

struct ForeignErrorForTests: Error, Equatable {}

@Suite struct TransactionTests {
    let directory = TemporaryDirectoryForTests("transactions")

    func open() throws -> StoreEnvironment {
        try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: ["items"]), options: StoreOptions(initialMapSize: 1 << 20))
    }

    func count(_ environment: StoreEnvironment, _ items: Table<UInt64, UInt64>) throws -> Int {
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            try items.count(in: transaction)
        }
    }

    @Test func abortDiscardsChanges() throws {
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        let transaction = try environment.beginWrite()
        try items.put(1, 1, in: transaction)
        transaction.abort()
        #expect(try count(environment, items) == 0)
    }

    @Test func droppingAnUncommittedTransactionAborts() throws {
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        do {
            let transaction = try environment.beginWrite()
            try items.put(1, 1, in: transaction)
        }  // no commit: deinit aborts
        #expect(try count(environment, items) == 0)
        // The writer lock was released: another write transaction can begin and commit.
        let transaction = try environment.beginWrite()
        try items.put(2, 2, in: transaction)
        try transaction.commit()
        #expect(try count(environment, items) == 1)
    }

    @Test func aThrowingWriteBodyWritesNothing() throws {
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        #expect(throws: StoreError.malformed(what: "test", reason: "stop")) {
            try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                try items.put(1, 1, in: transaction)
                throw .malformed(what: "test", reason: "stop")
            }
        }
        #expect(try count(environment, items) == 0)
    }

    /// Closures written without `throws(StoreError)` use the untyped overloads; any error aborts.
    @Test func untypedBodiesWorkAndTheirErrorsAbort() throws {
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        #expect(throws: ForeignErrorForTests.self) {
            try environment.write { transaction in
                try items.put(1, 1, in: transaction)
                throw ForeignErrorForTests()
            }
        }
        try environment.write { transaction in try items.put(2, 4, in: transaction) }
        #expect(try environment.read { transaction in try items.get(2, in: transaction) } == 4)
        #expect(try count(environment, items) == 1)
    }

    @Test func readTransactionIsASnapshot() throws {
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try items.put(1, 10, in: transaction)
        }
        let snapshot = try environment.beginRead()
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try items.put(1, 20, in: transaction)
            try items.put(2, 20, in: transaction)
        }
        #expect(try items.get(1, in: snapshot) == 10)
        #expect(try items.count(in: snapshot) == 1)
        try snapshot.commit()
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try items.get(1, in: transaction) == 20)
        }
    }

    @Test func secondWriteTransactionOnOneThreadThrowsInsteadOfDeadlocking() throws {
        let environment = try open()
        let outer = try environment.beginWrite()
        let error = #expect(throws: StoreError.self) { _ = try environment.beginWrite() }
        if case .transactionMisuse = error {} else { Issue.record("unexpected \(String(describing: error))") }
        outer.abort()
    }

    /// Also when another thread is already waiting for the write lock.
    @Test func nestedWriteIsDetectedWhileAnotherThreadWaits() throws {
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        let outer = try environment.beginWrite()
        let otherStarted = DispatchSemaphore(value: 0)
        let otherDone = DispatchSemaphore(value: 0)
        Thread {
            otherStarted.signal()
            try? environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                try items.put(2, 2, in: transaction)
            }
            otherDone.signal()
        }.start()
        otherStarted.wait()
        usleep(20_000)  // most likely now blocked on LMDB's writer lock; the check holds either way
        #expect(throws: StoreError.self) { _ = try environment.beginWrite() }
        try items.put(1, 1, in: outer)
        try outer.commit()
        otherDone.wait()
        #expect(try count(environment, items) == 2)
    }

    /// The pattern for async code: transactions live in synchronous functions (they are `noasync`, so
    /// the compiler rejects them in an async context), called from the async code; durable writes from
    /// async code go through the StorageWriter.
    @Test func asyncCodeUsesSynchronousHelpersAndTheWriter() async throws {
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        let writer = try StorageWriter(environment: environment)
        try await writer.submit { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try items.put(7, 49, in: transaction)
        }
        await Task.yield()  // may resume on another thread: fine, no transaction is open here
        #expect(try Self.value(7, items, environment) == 49)
        writer.close()
    }

    static func value(_ key: UInt64, _ items: Table<UInt64, UInt64>, _ environment: StoreEnvironment) throws -> UInt64? {
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            try items.get(key, in: transaction)
        }
    }

    @Test func readOnlyEnvironmentRefusesWrites() throws {
        do {
            let environment = try open()
            let items: Table<UInt64, UInt64> = try environment.table("items")
            try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                try items.put(1, 1, in: transaction)
            }
        }
        let readOnly = try StoreEnvironment.openReadOnly(at: directory.path)
        #expect(readOnly.isReadOnly)
        #expect(throws: StoreError.readOnly(path: directory.path)) { _ = try readOnly.beginWrite() }
        #expect(throws: StoreError.readOnly(path: directory.path)) { _ = try StorageWriter(environment: readOnly) }
        let items: Table<UInt64, UInt64> = try readOnly.table("items")
        #expect(try Self.value(1, items, readOnly) == 1)
    }

    @Test func openingTheSameDirectoryTwiceInOneProcessIsRefused() throws {
        let environment = try open()
        withExtendedLifetime(environment) {
            #expect(throws: StoreError.alreadyOpen(path: directory.path)) { _ = try open() }
            #expect(throws: StoreError.alreadyOpen(path: directory.path + "/.")) {
                _ = try StoreEnvironment.openReadOnly(at: directory.path + "/.")
            }
        }
    }

    @Test func aTableOfAnotherEnvironmentIsRefused() throws {
        let environment = try open()
        let otherDirectory = TemporaryDirectoryForTests("other")
        let other = try StoreEnvironment.open(at: otherDirectory.path, schema: StoreSchema(tables: ["items"]))
        let foreign: Table<UInt64, UInt64> = try other.table("items")
        let error = #expect(throws: StoreError.self) {
            try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                try foreign.put(1, 1, in: transaction)
            }
        }
        #expect(error?.description.contains("another StoreEnvironment") == true)
    }

    @Test func reopeningAfterReleaseWorks() throws {
        do {
            let environment = try open()
            let items: Table<UInt64, UInt64> = try environment.table("items")
            try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                try items.put(3, 9, in: transaction)
            }
        }
        let environment = try open()
        let items: Table<UInt64, UInt64> = try environment.table("items")
        #expect(try Self.value(3, items, environment) == 9)
    }
}
