internal import CSodium

/// SHA-256 (FIPS 180-4): the hash of the Noise suite `Noise_XX_25519_ChaChaPoly_SHA256`.
public enum SHA256 {
    public static let digestLength = 32
    public static let blockLength = 64

    public static func hash(_ data: UnsafeRawBufferPointer) -> Bytes32 {
        _ = Sodium.ready
        return Bytes32.filling { out in
            _ = crypto_hash_sha256(out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                   data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        }
    }

    public static func hash(_ data: [UInt8]) -> Bytes32 {
        data.withUnsafeBytes { hash($0) }
    }
}

/// HMAC-SHA256 (RFC 2104 / RFC 4231) with a key of any length, as Noise's HKDF requires.
public enum HMACSHA256 {
    public static func authenticate(key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) -> Bytes32 {
        _ = Sodium.ready
        var state = crypto_auth_hmacsha256_state()
        defer { sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size) }
        // An empty key still needs a valid pointer; libsodium reads zero bytes from it.
        var empty: UInt8 = 0
        if let k = key.baseAddress, key.count > 0 {
            _ = crypto_auth_hmacsha256_init(&state, k.assumingMemoryBound(to: UInt8.self), key.count)
        } else {
            _ = crypto_auth_hmacsha256_init(&state, &empty, 0)
        }
        _ = crypto_auth_hmacsha256_update(&state, data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        return Bytes32.filling { out in
            _ = crypto_auth_hmacsha256_final(&state, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    public static func authenticate(key: [UInt8], data: [UInt8]) -> Bytes32 {
        key.withUnsafeBytes { k in data.withUnsafeBytes { d in authenticate(key: k, data: d) } }
    }
}

/// The HKDF of the Noise specification (revision 34, §4.3), with HMAC-SHA256: from a chaining key
/// and input key material, derive two or three 32-byte outputs.
public enum NoiseHKDF {
    public static func derive2(chainingKey: Bytes32, inputKeyMaterial: UnsafeRawBufferPointer) -> (Bytes32, Bytes32) {
        let (a, b, _) = derive(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 2)
        return (a, b)
    }

    public static func derive3(chainingKey: Bytes32, inputKeyMaterial: UnsafeRawBufferPointer) -> (Bytes32, Bytes32, Bytes32) {
        derive(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 3)
    }

    private static func derive(chainingKey: Bytes32, inputKeyMaterial: UnsafeRawBufferPointer, outputs: Int)
        -> (Bytes32, Bytes32, Bytes32)
    {
        let tempKey = chainingKey.withUnsafeBytes { HMACSHA256.authenticate(key: $0, data: inputKeyMaterial) }
        let one: [UInt8] = [0x01]
        let out1 = tempKey.withUnsafeBytes { k in one.withUnsafeBytes { HMACSHA256.authenticate(key: k, data: $0) } }
        let in2 = out1.bytes + [0x02]
        let out2 = tempKey.withUnsafeBytes { k in in2.withUnsafeBytes { HMACSHA256.authenticate(key: k, data: $0) } }
        guard outputs == 3 else { return (out1, out2, .zero) }
        let in3 = out2.bytes + [0x03]
        let out3 = tempKey.withUnsafeBytes { k in in3.withUnsafeBytes { HMACSHA256.authenticate(key: k, data: $0) } }
        return (out1, out2, out3)
    }
}
