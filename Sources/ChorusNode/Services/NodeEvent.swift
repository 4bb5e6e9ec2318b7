import ChorusCrypto
import ChorusMesh
import ChorusWire

/// What one service tells the others, through the composition (`Node.route`): the only place that
/// knows who reacts to what. A service emits an event and never calls another service directly.
enum NodeEvent {
    /// A session with `peer` was authenticated: `remote` is the socket's address, `advertised` the
    /// listen address the peer announced in its handshake.
    case peerConnected(Ed25519.PublicKey, outbound: Bool, remote: NetAddress?, advertised: NetAddress?)
    /// The session with `peer` ended.
    case peerDisconnected(Ed25519.PublicKey)
    /// SWIM confirmed `member` dead (suspicion alone is not an event); `departed` when it announced
    /// its own departure (it closes its sessions itself, telling why).
    case memberDead(Ed25519.PublicKey, departed: Bool)
    /// A member seen dead before is alive again, reachable at `address` when known.
    case memberAlive(Ed25519.PublicKey, address: NetAddress?)
    /// A statement from a peer was verified and taken: stored (queued for the next group commit)
    /// when the node keeps a store, handed on otherwise.
    case statementAccepted(SignedStatement)
    /// The store committed these statements (gossiped, synced or the node's own), now durable.
    case statementsStored([StatementStore.Committed])
    /// Addresses the connection rules should dial: drawn from the address book while outbound
    /// slots are missing, or an incumbent tested as a feeler before a new address evicts it.
    case dialCandidates([(NetAddress, Ed25519.PublicKey?)])
    /// `peer` relayed a peer record whose signature does not verify (or another's record as its own).
    case peerRecordForged(Ed25519.PublicKey)
    /// The gossip router's peer scores, to be remembered across restarts (every 15 heartbeats and
    /// at stop), so a restart does not forgive misbehaviour.
    case gossipScores([Ed25519.PublicKey: PeerScore])
}
