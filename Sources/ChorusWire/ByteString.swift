/// Bytes ordered lexicographically (a proper prefix first): the order Specs/encoding.md rule 7 gives
/// strings in sets, checked on decode with `WireReader.requireStrictlyAscending`.
public struct ByteString: Comparable, Sendable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public static func < (a: ByteString, b: ByteString) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
