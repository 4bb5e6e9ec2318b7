public import ChorusCrypto

/// Appends values in the canonical encoding (Specs/encoding.md) to a byte array.
///
/// The writer never fails: every value Swift can hold has exactly one encoding. Field limits
/// (maximum lengths and counts) are the decoder's business and the message types' initialisers'
/// business; the writer only requires that a length fits the 32-bit prefix, which every limit does.
public struct WireWriter: Sendable {
    /// The encoding so far.
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Number of bytes written so far.
    public var count: Int { bytes.count }

    // MARK: Fixed-width integers (little-endian)

    public mutating func writeU8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeU16(_ value: UInt16) { appendLittleEndian(value) }

    public mutating func writeU32(_ value: UInt32) { appendLittleEndian(value) }

    public mutating func writeU64(_ value: UInt64) { appendLittleEndian(value) }

    /// Two's complement, little-endian. Signed data uses integers only; fractions are fixed-point.
    public mutating func writeI64(_ value: Int64) { appendLittleEndian(value) }

    /// One byte: 0 or 1.
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    // MARK: Raw and length-prefixed bytes

    // The byte-sequence methods take concrete types rather than a generic `Collection`: generic
    // code called from another module is not specialised and copies byte by byte.

    /// Appends `raw` with no length prefix: for fixed-size fields (keys, digests, signatures).
    public mutating func writeRaw(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    public mutating func writeRaw(_ raw: ArraySlice<UInt8>) { bytes.append(contentsOf: raw) }

    public mutating func writeRaw(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    public mutating func writeBytes32(_ value: Bytes32) {
        value.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    public mutating func writePublicKey(_ key: Ed25519.PublicKey) { writeBytes32(key.raw) }

    public mutating func writeSignature(_ signature: Ed25519.Signature) {
        signature.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A u32 length, then the bytes.
    public mutating func writeBytes(_ data: [UInt8]) {
        writeLength(data.count)
        bytes.append(contentsOf: data)
    }

    public mutating func writeBytes(_ data: ArraySlice<UInt8>) {
        writeLength(data.count)
        bytes.append(contentsOf: data)
    }

    public mutating func writeBytes(_ data: UnsafeRawBufferPointer) {
        writeLength(data.count)
        bytes.append(contentsOf: data)
    }

    /// A u32 byte length, then the UTF-8 bytes (no terminator, no normalisation).
    public mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            writeLength(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    // MARK: Composites

    /// Tag byte 0 for `nil`; tag byte 1 followed by the value otherwise.
    public mutating func writeOptional<T>(_ value: T?, _ encode: (inout WireWriter, T) -> Void) {
        if let value {
            bytes.append(1)
            encode(&self, value)
        } else {
            bytes.append(0)
        }
    }

    /// A u32 element count, then each element.
    public mutating func writeArray<C: Collection>(_ items: C, _ encode: (inout WireWriter, C.Element) -> Void) {
        writeLength(items.count)
        for item in items { encode(&self, item) }
    }

    public mutating func writeArray<C: Collection>(_ items: C) where C.Element: WireEncodable {
        writeArray(items) { writer, item in item.encode(to: &writer) }
    }

    public mutating func write(_ value: some WireEncodable) {
        value.encode(to: &self)
    }

    // MARK: Private

    private mutating func writeLength(_ length: Int) {
        // Every field limit is far below 2^32; a longer value is a programming error, not input.
        precondition(length >= 0 && length <= Int(UInt32.max), "wire length \(length) does not fit a u32 prefix")
        appendLittleEndian(UInt32(length))
    }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
