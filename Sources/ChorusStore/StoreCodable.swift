/// A type with one byte encoding in the store.
///
/// Encoding lends the bytes through a closure rather than returning an array, so types that already
/// hold their bytes contiguously (`[UInt8]`, `Bytes32`, integers) are written without a copy.
/// Decoding reads bytes that came from disk: it must validate them and throw, never trap.
public protocol StoreCodable {
    /// Calls `body` with this value's encoding; the buffer is valid only during the call.
    func withStoreBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R
    /// Decodes a value from its encoding. Throws `StoreError.malformed` on bytes it did not produce.
    init(storeBytes: UnsafeRawBufferPointer) throws(StoreError)
}

/// A type usable as a table key.
///
/// LMDB orders keys by comparing their encodings byte by byte (a shorter key that is a prefix of a
/// longer one sorts first), so a conforming type's encoding must sort the way its values should be
/// iterated: integers are big-endian for that reason. An encoding must be 1 to 511 bytes long.
public protocol StoreKey: StoreCodable {}

/// A key whose encoding always has the same length. Only such keys can lead a `CompositeKey`, because
/// the length is what tells where the next component starts.
public protocol FixedWidthStoreKey: StoreKey {
    static var storeByteCount: Int { get }
}

/// A type usable as a table value.
public protocol StoreValue: StoreCodable {}

extension StoreCodable {
    /// This value's encoding as an array.
    public var storeBytes: [UInt8] { withStoreBytes { (bytes: UnsafeRawBufferPointer) in Array(bytes) } }

    /// Decodes a value from an array holding its encoding.
    public init(storeBytes bytes: [UInt8]) throws(StoreError) {
        self = try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            Result { () throws(StoreError) in try Self(storeBytes: raw) }
        }.get()
    }
}

/// Throws unless a fixed-width encoding has exactly the expected length.
@usableFromInline
func requireStoreByteCount(_ bytes: UnsafeRawBufferPointer, _ expected: Int, _ type: String) throws(StoreError) {
    guard bytes.count == expected else {
        throw .malformed(what: type, reason: "expected \(expected) bytes, found \(bytes.count)")
    }
}
