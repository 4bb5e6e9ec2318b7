import ChorusCrypto
import ChorusMesh

/// What one service tells the others, through the composition (`Node.route`): the only place that
/// knows who reacts to what. A service emits an event and never calls another service directly.
enum NodeEvent {
    /// A session with `peer` was authenticated: `remote` is the socket's address, `advertised` the
    /// listen address the peer announced in its handshake.
    case peerConnected(Ed25519.PublicKey, outbound: Bool, remote: NetAddress?, advertised: NetAddress?)
    /// The session with `peer` ended.
    case peerDisconnected(Ed25519.PublicKey)
    /// SWIM confirmed `member` dead (suspicion alone is not an event).
    case memberDead(Ed25519.PublicKey)
    /// A member seen dead before is alive again, reachable at `address` when known.
    case memberAlive(Ed25519.PublicKey, address: NetAddress?)
}
