/// Why the node closed (or refused) a connection. Each case is logged and counted by the shell.
public enum CloseReason: Hashable, Sendable, CustomStringConvertible {
    case duplicateSession
    case inboundLimit
    case groupLimit
    case banned
    case selfConnection
    case handshakeTimeout
    case handshakeFailed(String)
    case protocolViolation(String)
    case idleTimeout
    case peerClosed
    /// The socket failed (reset, broken pipe) or was closed underneath the session.
    case connectionFailed(String)
    case shuttingDown
    /// SWIM confirmed the peer dead (Specs/membership.md §10); not an offence.
    case memberDead
    /// The peer's network file differs from this node's (another parameters digest): no session
    /// can agree on an epoch, and no retry can fix it (Specs/transport.md §2).
    case networkMismatch(String)

    /// True when the peer did something wrong and deserves a temporary ban.
    public var isMisbehaviour: Bool {
        switch self {
        case .handshakeFailed, .protocolViolation: return true
        default: return false
        }
    }

    /// A stable short name, used as a metrics label.
    public var code: String {
        switch self {
        case .duplicateSession: return "duplicate_session"
        case .inboundLimit: return "inbound_limit"
        case .groupLimit: return "group_limit"
        case .banned: return "banned"
        case .selfConnection: return "self_connection"
        case .handshakeTimeout: return "handshake_timeout"
        case .handshakeFailed: return "handshake_failed"
        case .protocolViolation: return "protocol_violation"
        case .idleTimeout: return "idle_timeout"
        case .peerClosed: return "peer_closed"
        case .connectionFailed: return "connection_failed"
        case .shuttingDown: return "shutting_down"
        case .memberDead: return "member_dead"
        case .networkMismatch: return "network_mismatch"
        }
    }

    public var description: String {
        switch self {
        case let .handshakeFailed(why): return "handshake failed: \(why)"
        case let .protocolViolation(why): return "protocol violation: \(why)"
        case let .connectionFailed(why): return "connection failed: \(why)"
        case let .networkMismatch(why): return "network mismatch: \(why)"
        default: return String(code.map { $0 == "_" ? " " : $0 })
        }
    }
}
