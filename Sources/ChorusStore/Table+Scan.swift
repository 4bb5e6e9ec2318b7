/// What a scan callback asks for next.
public enum ScanControl: Sendable {
    case `continue`
    case stop
}

/// Range scans in key order (the order of the keys' encodings; see `StoreKey`).
extension Table {
    /// Visits every entry, in key order (or reverse order), until `body` returns `.stop`.
    @available(*, noasync)
    public func scan<T: StoreTransaction & ~Copyable>(
        in transaction: borrowing T, reverse: Bool = false,
        _ body: (Key, Value) throws(StoreError) -> ScanControl
    ) throws(StoreError) {
        try transaction.transactionContext.walk(identity, from: reverse ? .last : .first, reverse: reverse) {
            (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(StoreError) -> Bool in
            try body(try Key(storeBytes: key), try Value(storeBytes: value)) == .continue
        }
    }

    /// Visits the entries whose key encoding starts with `prefix`'s encoding, in key order (or reverse
    /// order), until `body` returns `.stop`. With composite keys, the prefix is the leading components
    /// (`scan(prefix: topic, …)` on `CompositeKey<Bytes32, UInt64>` keys).
    @available(*, noasync)
    public func scan<T: StoreTransaction & ~Copyable, Prefix: StoreKey>(
        prefix: Prefix, in transaction: borrowing T, reverse: Bool = false,
        _ body: (Key, Value) throws(StoreError) -> ScanControl
    ) throws(StoreError) {
        try scanBytes(prefix: prefix, in: transaction, reverse: reverse) {
            (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(StoreError) -> ScanControl in
            try body(try Key(storeBytes: key), try Value(storeBytes: value))
        }
    }

    /// Like `scan(prefix:)`, but lends the raw key and value bytes without decoding or copying them.
    /// The buffers are valid only during each call of `body`.
    @available(*, noasync)
    public func scanBytes<T: StoreTransaction & ~Copyable, Prefix: StoreKey>(
        prefix: Prefix, in transaction: borrowing T, reverse: Bool = false,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(StoreError) -> ScanControl
    ) throws(StoreError) {
        let context = transaction.transactionContext
        try prefix.withStoreBytes { (prefixBytes: UnsafeRawBufferPointer) throws(StoreError) in
            func visit(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(StoreError) -> Bool {
                guard KeyOrder.hasPrefix(key, prefixBytes) else { return false }
                return try body(key, value) == .continue
            }
            guard reverse else {
                let start: TransactionContext.CursorStart = prefixBytes.isEmpty ? .first : .atOrAfter(prefixBytes)
                return try context.walk(identity, from: start, reverse: false, visit)
            }
            // Backwards: start just before the first key past every key with this prefix.
            guard let successor = KeyOrder.successor(ofPrefix: prefixBytes) else {
                return try context.walk(identity, from: .last, reverse: true, visit)
            }
            try successor.withUnsafeBytes { (successorBytes: UnsafeRawBufferPointer) in
                Result { () throws(StoreError) in
                    try context.walk(identity, from: .before(successorBytes), reverse: true, visit)
                }
            }.get()
        }
    }

    /// Visits the entries with `lowerBound <= key < upperBound` (a nil bound is open), in key order or
    /// reverse order, until `body` returns `.stop`.
    @available(*, noasync)
    public func scan<T: StoreTransaction & ~Copyable>(
        from lowerBound: Key?, to upperBound: Key?, in transaction: borrowing T, reverse: Bool = false,
        _ body: (Key, Value) throws(StoreError) -> ScanControl
    ) throws(StoreError) {
        let context = transaction.transactionContext
        let lower = lowerBound?.storeBytes
        let upper = upperBound?.storeBytes
        try KeyOrder.withOptionalBytes(lower) { (lowerBytes: UnsafeRawBufferPointer?) throws(StoreError) in
            try KeyOrder.withOptionalBytes(upper) { (upperBytes: UnsafeRawBufferPointer?) throws(StoreError) in
                func visit(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(StoreError) -> Bool {
                    if let upperBytes, KeyOrder.compare(key, upperBytes) >= 0 { return false }
                    if let lowerBytes, KeyOrder.compare(key, lowerBytes) < 0 { return false }
                    return try body(try Key(storeBytes: key), try Value(storeBytes: value)) == .continue
                }
                let start: TransactionContext.CursorStart
                if reverse {
                    start = upperBytes.map { .before($0) } ?? .last
                } else {
                    start = lowerBytes.map { .atOrAfter($0) } ?? .first
                }
                try context.walk(identity, from: start, reverse: reverse, visit)
            }
        }
    }

    /// The entries whose key starts with `prefix`, in key order (or reverse), at most `limit` of them.
    @available(*, noasync)
    public func entries<T: StoreTransaction & ~Copyable, Prefix: StoreKey>(
        prefix: Prefix, in transaction: borrowing T, reverse: Bool = false, limit: Int = .max
    ) throws(StoreError) -> [(key: Key, value: Value)] {
        var result: [(key: Key, value: Value)] = []
        guard limit > 0 else { return result }
        try scan(prefix: prefix, in: transaction, reverse: reverse) { (key: Key, value: Value) -> ScanControl in
            result.append((key, value))
            return result.count < limit ? .continue : .stop
        }
        return result
    }

    /// The entries with `lowerBound <= key < upperBound`, in key order (or reverse), at most `limit` of them.
    @available(*, noasync)
    public func entries<T: StoreTransaction & ~Copyable>(
        from lowerBound: Key?, to upperBound: Key?, in transaction: borrowing T, reverse: Bool = false,
        limit: Int = .max
    ) throws(StoreError) -> [(key: Key, value: Value)] {
        var result: [(key: Key, value: Value)] = []
        guard limit > 0 else { return result }
        try scan(from: lowerBound, to: upperBound, in: transaction, reverse: reverse) {
            (key: Key, value: Value) -> ScanControl in
            result.append((key, value))
            return result.count < limit ? .continue : .stop
        }
        return result
    }
}

/// LMDB's default key order: bytes compared as unsigned, and a proper prefix sorts first.
enum KeyOrder {
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        for i in 0..<common where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    static func hasPrefix(_ key: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer) -> Bool {
        guard key.count >= prefix.count else { return false }
        for i in 0..<prefix.count where key[i] != prefix[i] { return false }
        return true
    }

    /// The smallest byte string greater than every string starting with `prefix`; nil when none exists
    /// (the prefix is empty or all 0xFF).
    static func successor(ofPrefix prefix: UnsafeRawBufferPointer) -> [UInt8]? {
        var bytes = Array(prefix)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }

    static func withOptionalBytes<R>(
        _ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws(StoreError) -> R
    ) throws(StoreError) -> R {
        guard let bytes else { return try body(nil) }
        return try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            Result { () throws(StoreError) in try body(raw) }
        }.get()
    }
}
