import ChorusCrypto
import ChorusLoop
import ChorusMesh

/// What the node keeps to run SWIM (`Membership`) over UDP: the pure machine, the sockets bound on
/// the listen addresses, its one tick timer, the addresses it can send to, and per-sender replay windows.
///
/// Loop-confined: only the node (whose executor is the loop) touches it.
final class MembershipShell {
    var machine: Membership
    /// One socket per listen address; a datagram leaves through the one of the destination's family.
    var sockets: [UDPSocket]
    let timer: LoopTimer
    /// Where members can be reached when the machine does not know their address yet: their
    /// handshake's listen address, their peer record, or the source of their last valid datagram.
    var addresses: [Ed25519.PublicKey: NetAddress] = [:]
    /// Peers already offered to the machine from peer records (each once per record sequence).
    var introduced: [Ed25519.PublicKey: UInt64] = [:]
    var replay: [Ed25519.PublicKey: ReplayWindow] = [:]
    /// The counter of the last datagram sent; starts at the Unix time in nanoseconds so that it keeps
    /// rising across restarts (receivers drop counters they have seen or that fall behind their window).
    var counter: UInt64
    var counters = MembershipCounters()
    /// Repeating timer that offers peer records to the machine (`Node.membershipIntroductionInterval`).
    var housekeeping: LoopTimer

    /// Senders tracked for replay at most; beyond it, datagrams from new senders are dropped
    /// (an attacker minting keys cannot grow the table without bound).
    static let maxReplayEntries = 16_384

    init(machine: Membership, sockets: [UDPSocket], timer: LoopTimer, housekeeping: LoopTimer, counter: UInt64) {
        self.machine = machine
        self.sockets = sockets
        self.timer = timer
        self.housekeeping = housekeeping
        self.counter = counter
    }

    func close() {
        timer.close()
        housekeeping.close()
        sockets.forEach { $0.close() }
        sockets = []
    }
}

@available(*, unavailable, message: "MembershipShell is confined to its node's loop")
extension MembershipShell: Sendable {}

/// Datagram counters of the membership shell (`chorus members --json`, `chorus status --json`).
public struct MembershipCounters: Codable, Sendable, Equatable {
    public var datagramsSent = 0
    public var datagramsReceived = 0
    /// Not handed to the kernel (buffer full, unreachable) or to an address of no bound family.
    public var sendFailures = 0
    /// Destinations with no known address.
    public var noAddress = 0
    /// Dropped on receipt, by reason.
    public var malformed = 0
    public var badSignature = 0
    public var replayed = 0
    public var oversize = 0
    public var fromSelf = 0
    public var replayTableFull = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case datagramsSent = "datagrams_sent"
        case datagramsReceived = "datagrams_received"
        case sendFailures = "send_failures"
        case noAddress = "no_address"
        case malformed
        case badSignature = "bad_signature"
        case replayed, oversize
        case fromSelf = "from_self"
        case replayTableFull = "replay_table_full"
    }
}
