/// Datagram counters of the membership service (`chorus members --json`, `chorus status --json`).
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
