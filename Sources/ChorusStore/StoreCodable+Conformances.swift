public import ChorusCrypto

/// Raw bytes, stored as they are. As a key, bytes sort lexicographically.
extension Array: StoreCodable, StoreKey, StoreValue where Element == UInt8 {
    @inlinable
    public func withStoreBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        // `withUnsafeBytes` is `rethrows`; carry the typed error through a Result.
        try withUnsafeBytes { (raw: UnsafeRawBufferPointer) in Result { () throws(E) in try body(raw) } }.get()
    }

    @inlinable
    public init(storeBytes: UnsafeRawBufferPointer) throws(StoreError) {
        self.init(storeBytes)
    }
}

/// Text, stored as UTF-8 without a terminator; decoding refuses invalid UTF-8.
extension String: StoreCodable, StoreKey, StoreValue {
    @inlinable
    public func withStoreBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var copy = self
        return try copy.withUTF8 { (utf8: UnsafeBufferPointer<UInt8>) in
            Result { () throws(E) in try body(UnsafeRawBufferPointer(utf8)) }
        }.get()
    }

    @inlinable
    public init(storeBytes: UnsafeRawBufferPointer) throws(StoreError) {
        guard let text = String(validating: storeBytes, as: UTF8.self) else {
            throw .malformed(what: "String", reason: "the \(storeBytes.count) bytes are not valid UTF-8")
        }
        self = text
    }
}

/// 32 raw bytes (keys, digests, ids); sorts like `Bytes32`'s `<`.
extension Bytes32: StoreCodable, FixedWidthStoreKey, StoreValue {
    public static var storeByteCount: Int { 32 }

    @inlinable
    public func withStoreBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        // `Bytes32.withUnsafeBytes` is `rethrows`; carry the typed error through a Result.
        try withUnsafeBytes { (raw: UnsafeRawBufferPointer) in Result { () throws(E) in try body(raw) } }.get()
    }

    @inlinable
    public init(storeBytes: UnsafeRawBufferPointer) throws(StoreError) {
        try requireStoreByteCount(storeBytes, 32, "Bytes32")
        guard let value = Bytes32(storeBytes) else {
            throw .malformed(what: "Bytes32", reason: "expected 32 bytes, found \(storeBytes.count)")
        }
        self = value
    }
}

/// Eight bytes, big-endian, so that numeric order is key order.
extension UInt64: StoreCodable, FixedWidthStoreKey, StoreValue {
    public static var storeByteCount: Int { 8 }

    @inlinable
    public func withStoreBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var big = bigEndian
        return try Swift.withUnsafeBytes(of: &big) { (raw: UnsafeRawBufferPointer) throws(E) in try body(raw) }
    }

    @inlinable
    public init(storeBytes: UnsafeRawBufferPointer) throws(StoreError) {
        try requireStoreByteCount(storeBytes, 8, "UInt64")
        var value: UInt64 = 0
        for byte in storeBytes { value = value << 8 | UInt64(byte) }
        self = value
    }
}

/// Four bytes, big-endian, so that numeric order is key order.
extension UInt32: StoreCodable, FixedWidthStoreKey, StoreValue {
    public static var storeByteCount: Int { 4 }

    @inlinable
    public func withStoreBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var big = bigEndian
        return try Swift.withUnsafeBytes(of: &big) { (raw: UnsafeRawBufferPointer) throws(E) in try body(raw) }
    }

    @inlinable
    public init(storeBytes: UnsafeRawBufferPointer) throws(StoreError) {
        try requireStoreByteCount(storeBytes, 4, "UInt32")
        var value: UInt32 = 0
        for byte in storeBytes { value = value << 8 | UInt32(byte) }
        self = value
    }
}
