internal import CSodium

/// ChaCha20-Poly1305 IETF AEAD (RFC 8439): 32-byte key, 12-byte nonce, 16-byte tag.
public enum ChaChaPoly {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// The Noise nonce for counter `n`: four zero bytes then `n` little-endian.
    public static func noiseNonce(_ n: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { out[4 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        return out
    }

    /// Encrypts `plaintext`, appending the tag. The nonce must never repeat under one key.
    public static func seal(key: SecretBytes, nonce: [UInt8], associatedData: UnsafeRawBufferPointer,
                            plaintext: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        try check(key: key, nonce: nonce)
        _ = Sodium.ready
        var out = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        var outLen: UInt64 = 0
        key.withUnsafeBytes { k in
            out.withUnsafeMutableBufferPointer { o in
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    o.baseAddress!, &outLen,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                    nil, nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }

    public static func seal(key: SecretBytes, nonce: [UInt8], associatedData: [UInt8] = [], plaintext: [UInt8]) throws(CryptoError) -> [UInt8] {
        // Typed throws do not propagate through the closure-based `withUnsafeBytes`, so copy out the result.
        var result: Result<[UInt8], CryptoError> = .success([])
        associatedData.withUnsafeBytes { ad in
            plaintext.withUnsafeBytes { pt in
                do throws(CryptoError) { result = .success(try seal(key: key, nonce: nonce, associatedData: ad, plaintext: pt)) }
                catch { result = .failure(error) }
            }
        }
        return try result.get()
    }

    /// Encrypts `buffer[range]` in place and writes the tag into the 16 bytes right after it, so a
    /// caller can build a whole wire frame (header, plaintext, room for the tag) in one allocation.
    /// `buffer` must hold at least `range.upperBound + tagLength` bytes.
    public static func sealInPlace(key: SecretBytes, nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>) throws(CryptoError) {
        try check(key: key, nonce: nonce)
        guard range.lowerBound >= 0, range.upperBound + tagLength <= buffer.count else {
            throw .invalidLength(what: "in-place AEAD buffer", expected: range.upperBound + tagLength, actual: buffer.count)
        }
        _ = Sodium.ready
        var outLen: UInt64 = 0
        key.withUnsafeBytes { k in
            buffer.withUnsafeMutableBufferPointer { b in
                // libsodium allows the ciphertext to overwrite the plaintext (same start address).
                let start = b.baseAddress! + range.lowerBound
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    start, &outLen, start, UInt64(range.count), nil, 0, nil, nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// Authenticates and decrypts `buffer` (ciphertext ‖ tag) in place, with empty associated data;
    /// returns the plaintext length (the plaintext is `buffer[..<length]`). On failure the buffer
    /// is left unusable and `authenticationFailed` is thrown.
    public static func openInPlace(key: SecretBytes, nonce: [UInt8], buffer: inout [UInt8]) throws(CryptoError) -> Int {
        try check(key: key, nonce: nonce)
        guard buffer.count >= tagLength else { throw .authenticationFailed }
        _ = Sodium.ready
        var outLen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            buffer.withUnsafeMutableBufferPointer { b in
                // libsodium verifies the tag before decrypting and allows the plaintext to overwrite
                // the ciphertext (same start address).
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    b.baseAddress!, &outLen, nil, b.baseAddress!, UInt64(b.count), nil, 0, nonce,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw .authenticationFailed }
        return Int(outLen)
    }

    /// Decrypts and authenticates; throws `authenticationFailed` on any tampering.
    public static func open(key: SecretBytes, nonce: [UInt8], associatedData: UnsafeRawBufferPointer,
                            ciphertext: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        try check(key: key, nonce: nonce)
        guard ciphertext.count >= tagLength else { throw .authenticationFailed }
        _ = Sodium.ready
        // One spare byte keeps the output pointer non-nil when the plaintext is empty.
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagLength + 1)
        var outLen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            out.withUnsafeMutableBufferPointer { o in
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    o.baseAddress!, &outLen, nil,
                    ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count),
                    associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                    nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw .authenticationFailed }
        out.removeLast()
        return out
    }

    public static func open(key: SecretBytes, nonce: [UInt8], associatedData: [UInt8] = [], ciphertext: [UInt8]) throws(CryptoError) -> [UInt8] {
        var result: Result<[UInt8], CryptoError> = .success([])
        associatedData.withUnsafeBytes { ad in
            ciphertext.withUnsafeBytes { ct in
                do throws(CryptoError) { result = .success(try open(key: key, nonce: nonce, associatedData: ad, ciphertext: ct)) }
                catch { result = .failure(error) }
            }
        }
        return try result.get()
    }

    private static func check(key: SecretBytes, nonce: [UInt8]) throws(CryptoError) {
        guard key.count == keyLength else { throw .invalidLength(what: "ChaCha20-Poly1305 key", expected: 32, actual: key.count) }
        guard nonce.count == nonceLength else { throw .invalidLength(what: "ChaCha20-Poly1305 nonce", expected: 12, actual: nonce.count) }
    }
}
