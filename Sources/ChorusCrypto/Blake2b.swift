internal import CSodium

/// BLAKE2b (RFC 7693): message ids, Merkle nodes, seeds. 32-byte output unless stated.
public enum Blake2b {
    /// BLAKE2b-256 of `data`.
    public static func hash256(_ data: UnsafeRawBufferPointer) -> Bytes32 {
        _ = Sodium.ready
        return Bytes32.filling { out in
            _ = crypto_generichash(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), 32,
                data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count), nil, 0)
        }
    }

    public static func hash256(_ data: [UInt8]) -> Bytes32 {
        data.withUnsafeBytes { hash256($0) }
    }

    /// BLAKE2b with any output length (1...64) and an optional key (up to 64 bytes).
    public static func hash(_ data: [UInt8], outputLength: Int, key: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        guard (1...64).contains(outputLength) else {
            throw .invalidLength(what: "BLAKE2b output length (1...64)", expected: 64, actual: outputLength)
        }
        guard key.count <= 64 else { throw .invalidLength(what: "BLAKE2b key (at most 64)", expected: 64, actual: key.count) }
        _ = Sodium.ready
        var out = [UInt8](repeating: 0, count: outputLength)
        out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { d in
                key.withUnsafeBufferPointer { k in
                    _ = crypto_generichash(o.baseAddress!, outputLength, d.baseAddress, UInt64(d.count),
                                           key.isEmpty ? nil : k.baseAddress, key.count)
                }
            }
        }
        return out
    }

    /// Streaming BLAKE2b. libsodium's state is declared with 64-byte alignment, which Swift cannot
    /// express for an imported struct, so the state lives in a 64-byte-aligned heap block of
    /// `crypto_generichash_statebytes()` bytes and is zeroed when the hasher is released.
    /// Not copyable: a copy would share (and later double-finalise) one state.
    public struct Hasher: ~Copyable {
        private let state: UnsafeMutableRawPointer
        private let outputLength: Int

        public init(outputLength: Int = 32, key: [UInt8] = []) throws(CryptoError) {
            guard (1...64).contains(outputLength) else {
                throw .invalidLength(what: "BLAKE2b output length (1...64)", expected: 64, actual: outputLength)
            }
            guard key.count <= 64 else { throw .invalidLength(what: "BLAKE2b key (at most 64)", expected: 64, actual: key.count) }
            _ = Sodium.ready
            self.outputLength = outputLength
            state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
            // Invariant: `state` is a live, 64-byte-aligned block of statebytes() bytes, owned here.
            key.withUnsafeBufferPointer { k in
                _ = crypto_generichash_init(OpaquePointer(state), key.isEmpty ? nil : k.baseAddress, key.count, outputLength)
            }
        }

        public mutating func update(_ data: UnsafeRawBufferPointer) {
            _ = crypto_generichash_update(OpaquePointer(state), data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        }

        public mutating func update(_ data: [UInt8]) {
            data.withUnsafeBytes { update($0) }
        }

        /// Returns the digest and consumes the hasher (its state is wiped by `deinit`).
        public consuming func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: outputLength)
            out.withUnsafeMutableBufferPointer { o in
                _ = crypto_generichash_final(OpaquePointer(state), o.baseAddress!, outputLength)
            }
            return out
        }

        deinit {
            sodium_memzero(state, crypto_generichash_statebytes())
            state.deallocate()
        }
    }
}
