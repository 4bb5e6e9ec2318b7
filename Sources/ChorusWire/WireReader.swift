public import ChorusCrypto

/// Reads the canonical encoding (Specs/encoding.md) strictly: every read checks the bytes left,
/// every length is checked against the field's limit *before* anything is allocated, booleans and
/// tags must be exactly 0 or 1, strings must be UTF-8, and `finish()` refuses trailing bytes.
///
/// The reader holds an `ArraySlice` of the caller's array, so byte fields come back as slices
/// that share the input's storage (no copy) and indices are positions in that storage.
public struct WireReader: Sendable {
    private let input: ArraySlice<UInt8>
    /// Index in `input` of the next byte to read.
    public private(set) var position: Int

    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    public init(_ bytes: ArraySlice<UInt8>) {
        input = bytes
        position = bytes.startIndex
    }

    /// Bytes not yet read.
    public var remaining: Int { input.endIndex - position }

    public var isAtEnd: Bool { position == input.endIndex }

    /// Bytes read so far.
    public var consumed: Int { position - input.startIndex }

    /// Decodes all of `bytes` with `body` and refuses any byte left over.
    public static func decode<T>(
        _ bytes: ArraySlice<UInt8>, _ body: (inout WireReader) throws(WireError) -> T
    ) throws(WireError) -> T {
        var reader = WireReader(bytes)
        let value = try body(&reader)
        try reader.finish()
        return value
    }

    public static func decode<T>(
        _ bytes: [UInt8], _ body: (inout WireReader) throws(WireError) -> T
    ) throws(WireError) -> T {
        try decode(bytes[...], body)
    }

    /// Throws `trailingBytes` unless every byte has been read.
    public func finish() throws(WireError) {
        guard isAtEnd else { throw .trailingBytes(count: remaining) }
    }

    // MARK: Fixed-width integers (little-endian)

    public mutating func readU8(field: String) throws(WireError) -> UInt8 {
        try need(1, field)
        defer { position += 1 }
        return input[position]
    }

    public mutating func readU16(field: String) throws(WireError) -> UInt16 { try readLittleEndian(field) }

    public mutating func readU32(field: String) throws(WireError) -> UInt32 { try readLittleEndian(field) }

    public mutating func readU64(field: String) throws(WireError) -> UInt64 { try readLittleEndian(field) }

    public mutating func readI64(field: String) throws(WireError) -> Int64 { try readLittleEndian(field) }

    /// 0 is false, 1 is true, anything else is refused (one encoding per value).
    public mutating func readBool(field: String) throws(WireError) -> Bool {
        switch try readU8(field: field) {
        case 0: return false
        case 1: return true
        case let other: throw .invalidValue(field: field, reason: "a boolean byte must be 0 or 1, got \(other)")
        }
    }

    // MARK: Raw and length-prefixed bytes

    /// Exactly `count` bytes, no prefix; the slice shares the input's storage.
    public mutating func readRaw(field: String, count: Int) throws(WireError) -> ArraySlice<UInt8> {
        try need(count, field)
        defer { position += count }
        return input[position..<position + count]
    }

    public mutating func readBytes32(field: String) throws(WireError) -> Bytes32 {
        try need(32, field)
        let offset = position - input.startIndex
        // Invariant: 32 bytes at `offset` lie inside `input` (checked by `need`). Copying from
        // raw memory avoids the generic Collection initialiser, which is slow across modules.
        guard let value = input.withUnsafeBytes({ Bytes32(copying: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + 32])) }) else {
            throw .truncated(field: field, needed: 32, remaining: remaining)
        }
        position += 32
        return value
    }

    public mutating func readPublicKey(field: String) throws(WireError) -> Ed25519.PublicKey {
        Ed25519.PublicKey(try readBytes32(field: field))
    }

    public mutating func readSignature(field: String) throws(WireError) -> Ed25519.Signature {
        try need(Ed25519.signatureLength, field)
        return Ed25519.Signature(r: try readBytes32(field: field), s: try readBytes32(field: field))
    }

    /// A u32 length (at most `maxLength`), then that many bytes, returned without copying.
    public mutating func readBytes(field: String, maxLength: Int) throws(WireError) -> ArraySlice<UInt8> {
        let length = try readLength(field: field, limit: maxLength)
        return try readRaw(field: field, count: length)
    }

    /// A u32 byte length (at most `maxLength` bytes), then UTF-8; invalid UTF-8 is refused.
    public mutating func readString(field: String, maxLength: Int) throws(WireError) -> String {
        let utf8 = try readBytes(field: field, maxLength: maxLength)
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw .invalidValue(field: field, reason: "not valid UTF-8")
        }
        return string
    }

    /// Everything that is left, without copying (for a body that is the rest of its container).
    public mutating func readRemaining() -> ArraySlice<UInt8> {
        defer { position = input.endIndex }
        return input[position...]
    }

    // MARK: Composites

    /// Tag byte 0 (absent) or 1 (present, followed by the value); other tags are refused.
    public mutating func readOptional<T>(
        field: String, _ decode: (inout WireReader) throws(WireError) -> T
    ) throws(WireError) -> T? {
        switch try readU8(field: field) {
        case 0: return nil
        case 1: return try decode(&self)
        case let tag: throw .invalidValue(field: field, reason: "an optional's tag must be 0 or 1, got \(tag)")
        }
    }

    /// A u32 count (at most `maxCount`), then the elements.
    ///
    /// `minElementSize` is the smallest encoding one element can have (at least 1; every
    /// encoding of a value takes a byte). A count whose elements could not fit in the bytes left
    /// is refused before any memory is reserved, so a forged count of four billion costs nothing.
    public mutating func readArray<T>(
        field: String, maxCount: Int, minElementSize: Int = 1,
        _ decode: (inout WireReader) throws(WireError) -> T
    ) throws(WireError) -> [T] {
        let count = try readLength(field: field, limit: maxCount)
        let smallest = count.multipliedReportingOverflow(by: max(minElementSize, 1))
        if smallest.overflow || smallest.partialValue > remaining {
            throw .truncated(field: field, needed: smallest.overflow ? Int.max : smallest.partialValue, remaining: remaining)
        }
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try decode(&self)) }
        return items
    }

    public mutating func readArray<T: WireDecodable>(
        of type: T.Type, field: String, maxCount: Int, minElementSize: Int = 1
    ) throws(WireError) -> [T] {
        try readArray(field: field, maxCount: maxCount, minElementSize: minElementSize) { (reader: inout WireReader) throws(WireError) in
            try T(from: &reader)
        }
    }

    public mutating func read<T: WireDecodable>(_ type: T.Type) throws(WireError) -> T {
        try T(from: &self)
    }

    /// Refuses `values` unless each is strictly greater than the one before: the canonical form
    /// of sets and maps (no duplicates, one order). `T`'s order must be the spec's key order:
    /// integers and `Bytes32` qualify; compare strings as `Array(s.utf8)`, not as `String`.
    public static func requireStrictlyAscending<T: Comparable>(_ values: [T], field: String) throws(WireError) {
        for i in values.indices.dropFirst() where !(values[i - 1] < values[i]) {
            throw .invalidValue(field: field, reason: "elements must be in strictly ascending order (element \(i) is not greater than element \(i - 1))")
        }
    }

    // MARK: Private

    private func need(_ count: Int, _ field: String) throws(WireError) {
        guard count <= remaining else { throw .truncated(field: field, needed: count, remaining: remaining) }
    }

    private mutating func readLength(field: String, limit: Int) throws(WireError) -> Int {
        let length = Int(try readU32(field: field))
        guard length <= limit else { throw .lengthOverLimit(field: field, length: length, limit: limit) }
        return length
    }

    private mutating func readLittleEndian<T: FixedWidthInteger>(_ field: String) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        try need(size, field)
        let offset = position - input.startIndex
        // Invariant: `size` bytes at `offset` lie inside `input` (checked by `need` above).
        let raw = input.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        position += size
        return T(littleEndian: raw)
    }
}
