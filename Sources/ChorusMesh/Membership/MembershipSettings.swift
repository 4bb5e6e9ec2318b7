/// Parameters of SWIM with Lifeguard (Specs/targets.md T6-T8).
///
/// Defaults are a LAN profile: probe every 400 ms with a 200 ms ping timeout. Crash detection takes
/// about (time until some node probes the crashed member) + (one failed probe) + (the 4 s suspicion
/// minimum at N = 100) + (spreading the death). With memberlist's 1 s / 500 ms the first two alone
/// take ~1.7 s at the median, and the p50 ≤ 5 s target is out of reach (simulated p50 ≈ 6 s); at
/// 500 ms / 200 ms the median sits at ≈ 4.85 s; at 400 ms it is ≈ 4.7 s for +2 % messages.
/// WAN deployments should raise both (ping timeout ≥ 3 × the p99 round trip).
public struct MembershipSettings: Sendable, Equatable {
    /// One member is probed per interval (round robin over a shuffled list), scaled by the local
    /// health multiplier: interval × (LHM + 1).
    public var probeInterval: Duration = .milliseconds(400)
    /// A direct ping not acknowledged within this (× (LHM + 1)) starts the indirect probes; the
    /// indirect probes get the rest of the probe interval.
    public var pingTimeout: Duration = .milliseconds(200)
    /// Relays asked to probe a member that missed a direct ping.
    public var indirectProbes = 3
    /// A relay answers `nack` when the target has not acknowledged within this fraction of the
    /// requester's window (Lifeguard), early enough for the nack to arrive in time.
    public var nackFraction = 0.8
    /// Upper bound of the local health multiplier (Lifeguard's S = 8: timeouts up to 9×).
    public var maxLocalHealth = 8
    /// Suspicion timeout lower bound: `suspicionMinPerLog10N` × log10(N), at least `suspicionMinFloor`
    /// (4 s at N = 100). Reached only with `suspicionConfirmations` independent confirmations.
    public var suspicionMinPerLog10N: Duration = .seconds(2)
    public var suspicionMinFloor: Duration = .seconds(2)
    /// Suspicion timeout upper bound (no confirmations) as a multiple of the lower bound.
    public var suspicionMaxMultiplier = 6
    /// Independent suspicions (besides the first) that bring the timeout down to its minimum.
    public var suspicionConfirmations = 3
    /// An update is sent at most ⌈`retransmitMultiplier` × ln(N + 1)⌉ times by each node (14 at N = 100).
    public var retransmitMultiplier = 3.0
    /// Updates piggybacked on one message at most.
    public var maxUpdatesPerMessage = 12
    /// Pending updates are also gossiped to `gossipFanout` random members every `gossipInterval`;
    /// status changes (suspect, dead, refuted) are pushed at once.
    public var gossipInterval: Duration = .milliseconds(200)
    public var gossipFanout = 3
    /// Members dead for less than this still receive gossip, so a falsely declared member learns it
    /// and refutes.
    public var gossipToTheDead: Duration = .seconds(30)
    /// Full-state exchange with a random live member (anti-entropy).
    public var pushPullInterval: Duration = .seconds(30)
    /// Full-state exchange with a random dead member, so partitions heal without operator action.
    public var reconnectInterval: Duration = .seconds(5)
    /// Dead members are forgotten after this (the address book keeps re-dialing them; a session that
    /// comes back triggers a full-state exchange through `onPeerConnected`).
    public var deadMemberRetention: Duration = .seconds(24 * 3600)
    /// A tick this late (or later) means the node itself stalled (GC, SIGSTOP, overload): timeouts that
    /// fired meanwhile are not evidence against others, so they are deferred or dropped.
    public var lateTickTolerance: Duration = .milliseconds(100)
    /// How far an update relayed by a third party may raise a member's incarnation above the one this
    /// node knows (0 for a member it does not know yet), and how far an accusation about this node may
    /// lie above its own. Only the member itself raises its incarnation, by one per refutation, so
    /// honest updates stay within a few steps; without the bound, one forged update could push a
    /// member's incarnation where it can no longer refute (Specs/membership.md §1).
    public var maxIncarnationStep: UInt64 = 1024
    /// Admission (Membership+Admission): members relayed by third parties are pinged before they
    /// count; at most this many wait at once, at most `maxCandidatesPerIntroducer` from one source,
    /// each for at most `candidateTimeout`.
    public var maxCandidates = 1024
    public var maxCandidatesPerIntroducer = 256
    public var candidateTimeout: Duration = .seconds(5)

    public init() {}
}
