/// A list of puts and deletes, built anywhere (the loop thread, a task) and applied later in one
/// write transaction, typically by a `StorageWriter`.
///
/// Keys and values are encoded when added and kept in one contiguous buffer, so building a batch
/// costs a copy of the bytes and no LMDB call; the batch is a plain `Sendable` value.
public struct WriteBatch: Sendable {
    enum Operation: Sendable {
        case put(TableIdentity, key: Range<Int>, value: Range<Int>)
        case delete(TableIdentity, key: Range<Int>)
    }

    private var buffer: [UInt8] = []
    private var operations: [Operation] = []

    public init() {}

    /// The number of puts and deletes.
    public var count: Int { operations.count }
    public var isEmpty: Bool { operations.isEmpty }
    /// The encoded bytes held (keys plus values); `StorageWriter` bounds a commit by it.
    public var byteCount: Int { buffer.count }

    /// Adds "store `value` under `key` in `table`", replacing any previous value when applied.
    public mutating func put<Key, Value>(_ key: Key, _ value: Value, into table: Table<Key, Value>) {
        let keyRange = append(key)
        let valueRange = append(value)
        operations.append(.put(table.identity, key: keyRange, value: valueRange))
    }

    /// Adds "delete `key` from `table`" (nothing happens when applied if the key is absent).
    public mutating func delete<Key, Value>(_ key: Key, from table: Table<Key, Value>) {
        operations.append(.delete(table.identity, key: append(key)))
    }

    /// Applies the operations, in the order they were added, inside `transaction`.
    @available(*, noasync)
    public func apply(in transaction: borrowing WriteTransaction) throws(StoreError) {
        let context = transaction.transactionContext
        try buffer.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
            Result { () throws(StoreError) in try apply(operations, bytes: all, context: context) }
        }.get()
    }

    private func apply(_ operations: [Operation], bytes all: UnsafeRawBufferPointer, context: TransactionContext) throws(StoreError) {
            for operation in operations {
                switch operation {
                case let .put(table, key, value):
                    _ = try context.putRaw(
                        table, key: UnsafeRawBufferPointer(rebasing: all[key]),
                        value: UnsafeRawBufferPointer(rebasing: all[value]), overwrite: true)
                case let .delete(table, key):
                    _ = try context.deleteRaw(table, key: UnsafeRawBufferPointer(rebasing: all[key]))
                }
            }
    }

    private mutating func append(_ item: some StoreCodable) -> Range<Int> {
        let start = buffer.count
        item.withStoreBytes { (bytes: UnsafeRawBufferPointer) in buffer.append(contentsOf: bytes) }
        return start..<buffer.count
    }
}
