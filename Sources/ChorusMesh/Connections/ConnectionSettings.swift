/// The connection budget of a node (Specs/targets.md T2): enough outbound links that an attacker
/// must control many addresses to eclipse it, a bounded inbound set, and a per-group inbound cap so
/// one subnet cannot fill the inbound slots.
public struct ConnectionSettings: Sendable, Equatable {
    /// Outbound connections the node keeps (dialing plus established).
    public var outboundTarget = 8
    /// Inbound connections accepted at most.
    public var inboundLimit = 48
    /// Inbound connections per /24 (IPv4) or /64 (IPv6) at most; `nil` disables the rule (devnets and
    /// labs where every node shares one subnet). Loopback addresses are always exempt.
    public var inboundPerGroup: Int? = 3
    /// A handshake not finished within this closes the connection.
    public var handshakeTimeout: Duration = .seconds(5)
    /// Inbound connections still in their handshake at once at most. A newcomer beyond it evicts the
    /// one that has been handshaking longest: half-open connections (500 once filled every inbound
    /// slot) cannot keep an honest handshake, which takes milliseconds, out.
    public var maxInboundHandshakes = 32
    /// Peers that break the protocol are refused for this long.
    public var banDuration: Duration = .seconds(600)
    /// First re-dial delay after a failure or a lost session; doubles per failure up to `redialMax`,
    /// each delay jittered by ±50 %. Re-dialing never stops, so partitions heal on their own.
    public var redialBase: Duration = .milliseconds(250)
    public var redialMax: Duration = .seconds(30)
    /// Outbound sessions beyond `outboundTarget` that members SWIM sees alive again may take. While
    /// they were dead their slots went to others; without this a healed partition kept about one
    /// cross-half session in seven (51 of 355 at 100 nodes) until churn freed slots
    /// (Specs/membership.md §10).
    public var returningMemberSlots = 4

    public init() {}
}
