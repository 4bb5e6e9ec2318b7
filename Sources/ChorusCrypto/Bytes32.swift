/// A 32-byte value stored inline (no heap allocation): public keys, digests, message ids, seeds.
///
/// Stored as four little-endian `UInt64` words so that hashing and comparison are cheap; the byte
/// order seen through `bytes`/`withUnsafeBytes` is exactly the order the value was created from.
/// Comparison is lexicographic over the bytes, which is the order canonical encodings sort by.
public struct Bytes32: Hashable, Sendable, Comparable, CustomStringConvertible {
    private var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static let zero = Bytes32(w0: 0, w1: 0, w2: 0, w3: 0)
    public static let count = 32

    private init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// Exactly 32 bytes, or nil.
    public init?<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        self = .zero
        withUnsafeMutableBytes { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
        }
    }

    /// Parses 64 hex characters.
    public init(hex: some StringProtocol) throws(CryptoError) {
        let raw = try Hex.decode(hex)
        guard let v = Bytes32(raw) else { throw .invalidLength(what: "hex value", expected: 32, actual: raw.count) }
        self = v
    }

    /// Builds a value by letting `body` fill all 32 bytes.
    public static func filling(_ body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> Bytes32 {
        var v = Bytes32.zero
        try v.withUnsafeMutableBytes(body)
        return v
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
    public var hex: String { withUnsafeBytes { Hex.encode($0) } }
    public var description: String { hex }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Invariant: the four words are contiguous stored properties of a frozen-layout struct of
        // trivial type, so viewing `self` as 32 raw bytes is exactly the value's byte string.
        try Swift.withUnsafeBytes(of: self, body)
    }

    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeMutableBytes(of: &self, body)
    }

    public static func < (a: Bytes32, b: Bytes32) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                for i in 0..<32 where x[i] != y[i] { return x[i] < y[i] }
                return false
            }
        }
    }
}
