/// A named LMDB database with typed keys and values.
///
/// A `Table` is a small handle (a name and LMDB's database number); get one from
/// `StoreEnvironment.table(_:)` once and keep it. Every operation takes the transaction it runs in:
/// reads accept a `ReadTransaction` or a `WriteTransaction`, writes need a `WriteTransaction`.
public struct Table<Key: StoreKey, Value: StoreValue>: Sendable {
    @usableFromInline let identity: TableIdentity

    /// The table's name in the store.
    public var name: String { identity.name }

    init(name: String, dbi: UInt32, environmentSerial: UInt64) {
        identity = TableIdentity(name: name, dbi: dbi, environmentSerial: environmentSerial)
    }

    // MARK: - Reading

    /// The value stored under `key`, decoded; nil when absent.
    @available(*, noasync)
    @inlinable
    public func get<T: StoreTransaction & ~Copyable>(_ key: Key, in transaction: borrowing T) throws(StoreError) -> Value? {
        try withValue(key, in: transaction) { (bytes: UnsafeRawBufferPointer) throws(StoreError) in
            try Value(storeBytes: bytes)
        }
    }

    /// The stored bytes under `key`, copied out undecoded; nil when absent.
    @available(*, noasync)
    @inlinable
    public func getBytes<T: StoreTransaction & ~Copyable>(_ key: Key, in transaction: borrowing T) throws(StoreError) -> [UInt8]? {
        try withValue(key, in: transaction) { (bytes: UnsafeRawBufferPointer) in Array(bytes) }
    }

    /// Lends the stored bytes under `key` to `body` without copying them; nil when absent.
    ///
    /// The buffer points into LMDB's map and is valid only inside `body`: copy what must outlive it.
    @available(*, noasync)
    @inlinable
    public func withValue<T: StoreTransaction & ~Copyable, R>(
        _ key: Key, in transaction: borrowing T, _ body: (UnsafeRawBufferPointer) throws(StoreError) -> R
    ) throws(StoreError) -> R? {
        let context = transaction.transactionContext
        let found = try key.withStoreBytes { (keyBytes: UnsafeRawBufferPointer) throws(StoreError) in
            try context.lookupRaw(identity, key: keyBytes)
        }
        // The bytes live in the map, valid while `transaction` (borrowed for this call) is open.
        guard let found else { return nil }
        return try body(found)
    }

    /// Whether an entry exists under `key`.
    @available(*, noasync)
    @inlinable
    public func contains<T: StoreTransaction & ~Copyable>(_ key: Key, in transaction: borrowing T) throws(StoreError) -> Bool {
        try withValue(key, in: transaction) { (_: UnsafeRawBufferPointer) in () } != nil
    }

    /// The number of entries (LMDB keeps it, so this does not scan).
    @available(*, noasync)
    public func count<T: StoreTransaction & ~Copyable>(in transaction: borrowing T) throws(StoreError) -> Int {
        Int(try transaction.transactionContext.statistics(identity).ms_entries)
    }

    // MARK: - Writing

    /// Stores `value` under `key`, replacing any previous value.
    @available(*, noasync)
    @inlinable
    public func put(_ key: Key, _ value: Value, in transaction: borrowing WriteTransaction) throws(StoreError) {
        _ = try store(key, value, overwrite: true, context: transaction.transactionContext)
    }

    /// Stores `value` under `key` only if the key is absent; returns false (and changes nothing) if present.
    /// One lookup instead of `contains` then `put`, for deduplicating by id.
    @available(*, noasync)
    @inlinable
    public func insert(_ key: Key, _ value: Value, in transaction: borrowing WriteTransaction) throws(StoreError) -> Bool {
        try store(key, value, overwrite: false, context: transaction.transactionContext)
    }

    /// Deletes the entry under `key`; returns false when there was none.
    @available(*, noasync)
    @discardableResult
    @inlinable
    public func delete(_ key: Key, in transaction: borrowing WriteTransaction) throws(StoreError) -> Bool {
        let context = transaction.transactionContext
        return try key.withStoreBytes { (keyBytes: UnsafeRawBufferPointer) throws(StoreError) in
            try context.deleteRaw(identity, key: keyBytes)
        }
    }

    /// Deletes every entry; the table itself remains.
    @available(*, noasync)
    public func removeAll(in transaction: borrowing WriteTransaction) throws(StoreError) {
        try transaction.transactionContext.removeAllRaw(identity)
    }

    @inlinable
    internal func store(_ key: Key, _ value: Value, overwrite: Bool, context: TransactionContext) throws(StoreError) -> Bool {
        try key.withStoreBytes { (keyBytes: UnsafeRawBufferPointer) throws(StoreError) in
            try value.withStoreBytes { (valueBytes: UnsafeRawBufferPointer) throws(StoreError) in
                try context.putRaw(identity, key: keyBytes, value: valueBytes, overwrite: overwrite)
            }
        }
    }
}

/// What identifies a table inside ChorusStore: its name, LMDB's database number, and which opened
/// environment the number belongs to.
@usableFromInline
struct TableIdentity: Sendable {
    let name: String
    let dbi: UInt32
    let environmentSerial: UInt64
}
