/// A type with a canonical encoding. Message and record types conform so that they can be
/// nested in one another and round-tripped by generic tests.
public protocol WireEncodable {
    /// Appends the value's canonical encoding.
    func encode(to writer: inout WireWriter)
}

/// A type that can be strictly decoded from its canonical encoding.
public protocol WireDecodable {
    /// Reads exactly one value, leaving the reader after it; refuses anything non-canonical.
    init(from reader: inout WireReader) throws(WireError)
}

public typealias WireCodable = WireEncodable & WireDecodable

extension WireEncodable {
    /// The value's canonical encoding on its own.
    public func encodedBytes() -> [UInt8] {
        var writer = WireWriter()
        encode(to: &writer)
        return writer.bytes
    }
}

extension WireDecodable {
    /// Decodes a value that must occupy all of `bytes` (trailing bytes are refused).
    public init(decoding bytes: ArraySlice<UInt8>) throws(WireError) {
        self = try WireReader.decode(bytes) { (reader: inout WireReader) throws(WireError) in try Self(from: &reader) }
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        try self.init(decoding: bytes[...])
    }
}
