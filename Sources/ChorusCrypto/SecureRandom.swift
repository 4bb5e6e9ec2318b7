internal import CSodium

/// Cryptographically secure random bytes from the operating system (libsodium's `randombytes_buf`).
/// Protocol logic never calls this: it takes injected randomness so it stays deterministic.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        _ = Sodium.ready
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { if let p = $0.baseAddress { randombytes_buf(p, count) } }
        return out
    }

    public static func bytes32() -> Bytes32 {
        _ = Sodium.ready
        return Bytes32.filling { randombytes_buf($0.baseAddress!, 32) }
    }

    public static func uint64() -> UInt64 {
        let b = bytes(8)
        return b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }
}
