/// A key of two parts, encoded as the first part's bytes followed by the second's.
///
/// Because the first part has a fixed width, keys sort by `first`, then by `second`, and all keys
/// sharing a `first` are contiguous: `table.scan(prefix: first, …)` visits exactly them. Nest pairs for
/// more parts (`CompositeKey<Bytes32, CompositeKey<UInt64, Bytes32>>` sorts by topic, epoch, id), and
/// scan with a shorter composite as the prefix (`CompositeKey(topic, epoch)` for one topic's epoch).
public struct CompositeKey<First: FixedWidthStoreKey, Second: StoreKey>: StoreKey {
    public var first: First
    public var second: Second

    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    public func withStoreBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try first.withStoreBytes { (head: UnsafeRawBufferPointer) throws(E) -> R in
            try second.withStoreBytes { (tail: UnsafeRawBufferPointer) throws(E) -> R in
                try withUnsafeTemporaryAllocation(byteCount: head.count + tail.count, alignment: 1) {
                    (joined: UnsafeMutableRawBufferPointer) throws(E) -> R in
                    joined.copyMemory(from: head)
                    UnsafeMutableRawBufferPointer(rebasing: joined[head.count...]).copyMemory(from: tail)
                    return try body(UnsafeRawBufferPointer(joined))
                }
            }
        }
    }

    public init(storeBytes: UnsafeRawBufferPointer) throws(StoreError) {
        let width = First.storeByteCount
        guard storeBytes.count >= width else {
            throw .malformed(
                what: "CompositeKey<\(First.self), \(Second.self)>",
                reason: "expected at least \(width) bytes, found \(storeBytes.count)")
        }
        first = try First(storeBytes: UnsafeRawBufferPointer(rebasing: storeBytes[..<width]))
        second = try Second(storeBytes: UnsafeRawBufferPointer(rebasing: storeBytes[width...]))
    }
}

extension CompositeKey: FixedWidthStoreKey where Second: FixedWidthStoreKey {
    public static var storeByteCount: Int { First.storeByteCount + Second.storeByteCount }
}

extension CompositeKey: Sendable where First: Sendable, Second: Sendable {}
extension CompositeKey: Equatable where First: Equatable, Second: Equatable {}
extension CompositeKey: Hashable where First: Hashable, Second: Hashable {}
