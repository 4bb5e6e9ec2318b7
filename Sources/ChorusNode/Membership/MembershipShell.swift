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

    /// Senders tracked for replay at most. When the table is full, the oldest sender that is not a
    /// member makes room, so an attacker minting keys neither grows the table without bound nor locks
    /// an honest newcomer out (18,000 throwaway senders once did).
    let maxReplayEntries: Int
    /// Senders in the order they were first tracked (`orderHead` marks the oldest still listed).
    private var senderOrder: [Ed25519.PublicKey] = []
    private var orderHead = 0

    /// Starts tracking `sender` for replay, evicting the oldest non-member when the table is full.
    /// Returns false when every sender near the head of the order is a member (the datagram is dropped).
    func trackSender(_ sender: Ed25519.PublicKey, isMember: (Ed25519.PublicKey) -> Bool) -> Bool {
        if replay[sender] != nil { return true }
        if replay.count >= maxReplayEntries {
            var evicted = false
            for _ in 0..<64 where orderHead < senderOrder.count {
                let oldest = senderOrder[orderHead]
                orderHead += 1
                guard replay[oldest] != nil else { continue }
                if isMember(oldest) {
                    senderOrder.append(oldest)  // members keep their window: rotate past them
                    continue
                }
                replay[oldest] = nil
                if !isMember(oldest) { addresses[oldest] = nil }
                counters.sendersEvicted += 1
                evicted = true
                break
            }
            if orderHead > 4096, orderHead * 2 > senderOrder.count {
                senderOrder.removeFirst(orderHead)
                orderHead = 0
            }
            guard evicted else { return false }
        }
        replay[sender] = ReplayWindow()
        senderOrder.append(sender)
        return true
    }

    init(machine: Membership, sockets: [UDPSocket], timer: LoopTimer, housekeeping: LoopTimer, counter: UInt64,
         maxReplayEntries: Int) {
        self.maxReplayEntries = maxReplayEntries
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
    /// Non-member senders forgotten to make room in the replay table.
    public var sendersEvicted = 0
    /// Full-state replies cut to their first datagram: the requester has no authenticated session, so
    /// a forged source address must not receive more than about one datagram per request.
    public var repliesTruncated = 0

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
        case sendersEvicted = "senders_evicted"
        case repliesTruncated = "replies_truncated"
    }
}
