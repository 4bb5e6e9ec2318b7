/// Why a Noise handshake or transport message failed. Every case closes the connection.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A handshake message was shorter than its pattern requires.
    case truncated(message: Int, needed: Int, got: Int)
    /// A message failed authentication: another network (prologue), a corrupted or forged message.
    case decryptFailed(message: Int)
    /// The peer's Diffie-Hellman public key is a low-order point.
    case weakKey
    /// The identity proof in the handshake payload is missing, malformed or does not verify.
    case badIdentityProof(String)
    /// The caller wrote or read a message out of turn.
    case outOfOrder(String)
    /// A cipher's nonce reached 2^64 − 1 (never in practice: sessions rekey long before).
    case nonceExhausted
    /// A frame or message exceeded a limit.
    case tooLarge(what: String, size: Int, limit: Int)
    /// A session message was malformed.
    case malformed(String)

    public var description: String {
        switch self {
        case let .truncated(m, needed, got): return "handshake message \(m) truncated: needs \(needed) bytes, got \(got)"
        case let .decryptFailed(m): return "message \(m) failed authentication (wrong network or corrupt handshake)"
        case .weakKey: return "peer sent a low-order Diffie-Hellman key"
        case let .badIdentityProof(why): return "bad identity proof: \(why)"
        case let .outOfOrder(why): return "handshake message out of order: \(why)"
        case .nonceExhausted: return "cipher nonce exhausted; the session must be closed"
        case let .tooLarge(what, size, limit): return "\(what) of \(size) bytes exceeds the limit of \(limit)"
        case let .malformed(why): return "malformed session message: \(why)"
        }
    }
}
