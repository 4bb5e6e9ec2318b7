internal import CLMDB

/// What `Table` needs from a transaction; `ReadTransaction` and `WriteTransaction` conform, so reads
/// work in both. Only ChorusStore creates `TransactionContext`s; other types must not conform.
public protocol StoreTransaction: ~Copyable {
    /// The LMDB transaction behind this value; opaque outside ChorusStore.
    var transactionContext: TransactionContext { get }
}

/// The LMDB transaction handle with the environment and thread it belongs to. It has no public
/// members; it exists so that `Table` can accept either kind of transaction. It is valid only while
/// its transaction is open: never keep one.
public struct TransactionContext {
    let handle: OpaquePointer
    let environment: StoreEnvironment
    let thread: UInt
    let isWrite: Bool
}

@available(*, unavailable, message: "an LMDB transaction must stay on the thread that uses it")
extension TransactionContext: Sendable {}

/// What a transaction may do: `ReadOnly` reads a consistent snapshot; `ReadWrite` is the single
/// write transaction, whose changes become visible to others and durable (fsync) only when
/// `commit()` returns. Only ChorusStore defines modes.
public protocol TransactionMode {
    /// Names the transaction in errors ("commit", "end read transaction").
    static var commitName: String { get }
}

/// A read-only snapshot (`ReadTransaction`).
public enum ReadOnly: TransactionMode {
    public static let commitName = "end read transaction"
}

/// The single write transaction (`WriteTransaction`).
public enum ReadWrite: TransactionMode {
    public static let commitName = "commit"
}

/// An LMDB transaction of one mode. Non-copyable, so it ends exactly once: by `commit()`, `abort()`
/// or, if neither is called, when it goes out of scope (which aborts: nothing of a write
/// transaction is written). It cannot be begun in async code (`noasync`), so it cannot span an
/// `await`, and being non-copyable and non-Sendable keeps it on the thread that began it.
public struct Transaction<Mode: TransactionMode>: ~Copyable, StoreTransaction {
    public let transactionContext: TransactionContext
    private var ended = false

    init(context: TransactionContext) { transactionContext = context }

    /// Ends the transaction. A write transaction's changes are on disk when this returns; on failure
    /// LMDB has already freed the transaction and nothing was written. For a read transaction this
    /// is `abort()` that reports LMDB's failure (which does not happen in practice).
    @available(*, noasync)
    public consuming func commit() throws(StoreError) {
        ended = true
        let rc = transactionContext.environment.end(transactionContext, commit: true)
        if rc != LMDBStatus.success { throw transactionContext.environment.error(rc, Mode.commitName) }
    }

    /// Ends the transaction, discarding every change a write transaction made.
    @available(*, noasync)
    public consuming func abort() {
        ended = true
        _ = transactionContext.environment.end(transactionContext, commit: false)
    }

    deinit {
        if !ended { _ = transactionContext.environment.end(transactionContext, commit: false) }
    }
}

@available(*, unavailable, message: "an LMDB transaction must stay on the thread that began it")
extension Transaction: Sendable {}

/// A consistent read-only snapshot of the store.
public typealias ReadTransaction = Transaction<ReadOnly>

/// The single write transaction.
public typealias WriteTransaction = Transaction<ReadWrite>

extension StoreTransaction where Self: ~Copyable {
    /// The table called `name` (see `StoreEnvironment.table`); handy inside migrations, which run
    /// before the environment is handed out.
    @available(*, noasync)
    public func table<Key: StoreKey, Value: StoreValue>(
        _ name: String, key: Key.Type = Key.self, value: Value.Type = Value.self
    ) throws(StoreError) -> Table<Key, Value> {
        try transactionContext.environment.table(name, key: key, value: value)
    }
}

// MARK: - Raw operations

extension TransactionContext {
    /// Builds the `MDB_val` for lent bytes. LMDB never writes through a key or value it is given, so
    /// dropping `const` here is sound; the bytes outlive the call because the caller lends them.
    static func value(_ bytes: UnsafeRawBufferPointer) -> MDB_val {
        MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }

    /// The bytes LMDB points at. They live in the map (or, in a write transaction, in a dirty page)
    /// and stay valid until the transaction ends or, in a write transaction, the next write.
    static func bytes(_ value: MDB_val) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
    }

    /// A table's database number means something only in the environment that opened it.
    func checkTable(_ table: TableIdentity) throws(StoreError) {
        guard table.environmentSerial == environment.serial else {
            throw .transactionMisuse(
                path: environment.path,
                reason: "table \"\(table.name)\" was obtained from another StoreEnvironment than this transaction's")
        }
    }

    /// Looks `key` up; nil when absent. The bytes stay valid until the transaction ends or, in a write
    /// transaction, the next write: callers lend them on inside a scope the transaction outlives.
    @usableFromInline
    func lookupRaw(_ table: TableIdentity, key: UnsafeRawBufferPointer) throws(StoreError) -> UnsafeRawBufferPointer? {
        try checkTable(table)
        var k = Self.value(key)
        var v = MDB_val()
        let rc = mdb_get(handle, table.dbi, &k, &v)
        if rc == LMDBStatus.notFound { return nil }
        guard rc == LMDBStatus.success else { throw environment.error(rc, "get from table \"\(table.name)\"") }
        return Self.bytes(v)
    }

    /// Stores `value` under `key`. With `overwrite == false` an existing entry is kept and the result is false.
    @usableFromInline
    func putRaw(
        _ table: TableIdentity, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, overwrite: Bool
    ) throws(StoreError) -> Bool {
        try checkTable(table)
        var k = Self.value(key)
        var v = Self.value(value)
        let rc = mdb_put(handle, table.dbi, &k, &v, overwrite ? 0 : UInt32(MDB_NOOVERWRITE))
        if rc == LMDBStatus.keyExists && !overwrite { return false }
        guard rc == LMDBStatus.success else { throw environment.error(rc, "put into table \"\(table.name)\"") }
        return true
    }

    /// Deletes the entry under `key`; false when there was none.
    @usableFromInline
    func deleteRaw(_ table: TableIdentity, key: UnsafeRawBufferPointer) throws(StoreError) -> Bool {
        try checkTable(table)
        var k = Self.value(key)
        let rc = mdb_del(handle, table.dbi, &k, nil)
        if rc == LMDBStatus.notFound { return false }
        guard rc == LMDBStatus.success else { throw environment.error(rc, "delete from table \"\(table.name)\"") }
        return true
    }

    /// Deletes every entry of the table, keeping the table.
    func removeAllRaw(_ table: TableIdentity) throws(StoreError) {
        try checkTable(table)
        let rc = mdb_drop(handle, table.dbi, 0)
        guard rc == LMDBStatus.success else { throw environment.error(rc, "empty table \"\(table.name)\"") }
    }

    func statistics(_ table: TableIdentity) throws(StoreError) -> MDB_stat {
        try checkTable(table)
        var stat = MDB_stat()
        let rc = mdb_stat(handle, table.dbi, &stat)
        guard rc == LMDBStatus.success else { throw environment.error(rc, "read statistics of table \"\(table.name)\"") }
        return stat
    }

    /// Where a cursor walk starts.
    enum CursorStart {
        case first
        case last
        /// The first key ≥ the given bytes.
        case atOrAfter(UnsafeRawBufferPointer)
        /// The last key < the given bytes.
        case before(UnsafeRawBufferPointer)
    }

    /// Walks the table from `start` forwards (or backwards with `reverse`), lending each key and value
    /// to `body` until it returns false or the table ends.
    func walk(
        _ table: TableIdentity, from start: CursorStart, reverse: Bool,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(StoreError) -> Bool
    ) throws(StoreError) {
        try checkTable(table)
        var opened: OpaquePointer?
        var rc = mdb_cursor_open(handle, table.dbi, &opened)
        guard rc == LMDBStatus.success, let cursor = opened else {
            throw environment.error(rc, "open a cursor on table \"\(table.name)\"")
        }
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        switch start {
        case .first:
            rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        case .last:
            rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
        case .atOrAfter(let bytes):
            k = Self.value(bytes)
            rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
        case .before(let bytes):
            k = Self.value(bytes)
            rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            if rc == LMDBStatus.notFound {
                rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
            } else if rc == LMDBStatus.success {
                rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV)
            }
        }
        let step = reverse ? MDB_PREV : MDB_NEXT
        while rc == LMDBStatus.success {
            guard try body(Self.bytes(k), Self.bytes(v)) else { return }
            rc = mdb_cursor_get(cursor, &k, &v, step)
        }
        guard rc == LMDBStatus.notFound else { throw environment.error(rc, "scan table \"\(table.name)\"") }
    }
}
