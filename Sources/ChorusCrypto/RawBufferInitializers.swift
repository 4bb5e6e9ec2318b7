/// Non-generic initialisers from raw memory, for hot paths in other modules (decoding signed
/// statements): the generic `Collection` initialisers are not specialised across module
/// boundaries and cost microseconds per call, these cost a 32- or 64-byte copy.
extension Bytes32 {
    /// Copies `raw`, which must be exactly 32 bytes; nil otherwise.
    public init?(copying raw: UnsafeRawBufferPointer) {
        guard raw.count == 32 else { return nil }
        self = Bytes32.filling { $0.copyMemory(from: raw) }
    }
}

extension Ed25519.Signature {
    public init(r: Bytes32, s: Bytes32) {
        self.r = r
        self.s = s
    }

    /// Copies `raw`, which must be exactly 64 bytes (R then S); nil otherwise.
    public init?(copying raw: UnsafeRawBufferPointer) {
        guard raw.count == 64,
              let r = Bytes32(copying: UnsafeRawBufferPointer(rebasing: raw[0..<32])),
              let s = Bytes32(copying: UnsafeRawBufferPointer(rebasing: raw[32..<64]))
        else { return nil }
        self.init(r: r, s: s)
    }
}
