/// A bounds-checked little-endian cursor over the mapped file. Every read names the field it is
/// reading so that a truncated file produces an error saying where it ended.
struct GGUFByteReader {
    /// Invariant: `bytes` outlives the reader (it belongs to a `MappedFile` the caller holds).
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int, _ field: @autoclosure () -> String) throws(GGUFError) -> Int {
        guard n >= 0, n <= remaining else {
            throw GGUFError(file: file, .truncated(field: field(), offset: offset, needed: n))
        }
        let at = offset
        offset += n
        return at
    }

    mutating func skip(_ n: Int, _ field: @autoclosure () -> String) throws(GGUFError) {
        _ = try take(n, field())
    }

    mutating func u8(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt8 {
        bytes[try take(1, field())]
    }

    mutating func u16(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(2, field()), as: UInt16.self))
    }

    mutating func u32(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(4, field()), as: UInt32.self))
    }

    mutating func u64(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8, field()), as: UInt64.self))
    }

    /// A GGUF string: u64 byte length, then UTF-8 bytes (no terminator).
    mutating func string(_ field: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try u64(field() + " (string length)")
        guard length <= UInt64(remaining) else {
            throw GGUFError(file: file, .truncated(field: field(), offset: offset, needed: Int(clamping: length)))
        }
        let start = try take(Int(length), field())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(length))])
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw GGUFError(file: file, .invalidString(field: field()))
        }
        return s
    }
}
