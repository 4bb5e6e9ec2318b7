/// Everything that can go wrong in ChorusCrypto. Each case says what failed and, where it helps,
/// what the caller can do about it.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An input had the wrong size (`what` names it).
    case invalidLength(what: String, expected: Int, actual: Int)
    /// A hex string was malformed.
    case invalidHex(String)
    /// X25519 produced the all-zero output: the peer sent a low-order point.
    case weakPublicKey
    /// An AEAD ciphertext failed authentication: it was corrupted, forged, or the key/nonce differ.
    case authenticationFailed
    /// A key file could not be used; `reason` is human readable and names the path.
    case keyFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case let .invalidHex(s):
            let shown = s.count > 40 ? String(s.prefix(40)) + "…" : s
            return "invalid hex string \"\(shown)\" (expected an even number of 0-9a-f characters)"
        case .weakPublicKey:
            return "X25519 public key is a low-order point (the shared secret would be zero)"
        case .authenticationFailed:
            return "ciphertext failed authentication (corrupted, forged, or wrong key)"
        case let .keyFile(path, reason):
            return "key file \(path): \(reason)"
        }
    }
}
