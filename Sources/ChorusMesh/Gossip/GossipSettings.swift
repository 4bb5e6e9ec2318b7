/// Parameters of the gossip mesh (gossipsub v1.1/v1.2 semantics, Specs/targets.md T10).
/// Defaults are Ethereum's D=8 profile with a 0.7 s heartbeat.
public struct GossipSettings: Sendable, Equatable {
    public var d = 8
    public var dLow = 6
    public var dHigh = 12
    public var dLazy = 6
    /// Peers with the best scores kept when the mesh is trimmed; the rest are chosen at random.
    public var dScore = 4
    /// Outbound peers kept in every mesh, so inbound-only attackers cannot take it over.
    public var dOut = 2
    public var heartbeat: Duration = .milliseconds(700)
    /// Heartbeats a message stays in the message cache (answerable by IWANT).
    public var historyLength = 6
    /// Heartbeats of history advertised in IHAVE.
    public var historyGossip = 3
    /// How long a message id is remembered, to drop duplicates.
    public var seenTTL: Duration = .seconds(120)
    /// Payloads at least this large trigger IDONTWANT to mesh peers on first receipt.
    public var idontwantThreshold = 1024
    /// IDONTWANT entries are kept this many heartbeats.
    public var idontwantHeartbeats = 3
    /// A pruned peer may not graft back for this long.
    public var pruneBackoff: Duration = .seconds(60)
    /// At most this many IHAVE messages accepted from one peer per heartbeat.
    public var maxIHaveMessages = 10
    /// At most this many message ids asked (IWANT) from one peer per heartbeat.
    public var maxIHaveLength = 5000
    /// At most this many ids in one IHAVE we send.
    public var maxIHaveAdvertised = 5000
    /// A message is sent again in answer to IWANT at most this many times per peer; further
    /// requests for it add to the asker's behaviour penalty.
    public var gossipRetransmission = 3
    /// A message asked for with IWANT must arrive within this time, or the peer whose IHAVE
    /// announced it gets a behaviour penalty (a broken promise).
    public var iwantFollowupTime: Duration = .seconds(3)
    /// At most this many IDONTWANT ids remembered per peer.
    public var maxIDontWantPerPeer = 10_000
    /// Plumtree-style choking (Specs/targets.md T11). A mesh link over which a duplicate payload
    /// arrives, while the node has more than `eagerPeers` eager links, becomes lazy both ways: it then
    /// carries ids only (IHAVE at each heartbeat) instead of payloads. A lazy link whose IHAVE announces
    /// a message the eager links did not bring is made eager again, and a node left with fewer than
    /// `eagerPeersLow` eager links re-opens lazy ones at random. The eager links settle into a sparse
    /// connected overlay, which cuts duplicates from ~(D − 2)/2 per message to about one.
    public var choking = true
    public var eagerPeers = 3
    public var eagerPeersLow = 2
    /// Largest payload accepted (bytes); larger ones count as invalid.
    public var maxPayload = 1 << 20
    /// Topics one peer may announce (SUBSCRIBE) at once; further ones are ignored and penalised.
    public var maxTopicsPerPeer = 64
    public var score = PeerScoreSettings()

    public init() {}
}

/// Peer-score weights and thresholds (gossipsub v1.1 P1, P2, P4, P6, P7; P3/P5 are not used).
/// Thresholds follow Lighthouse's: below `gossipThreshold` a peer gets no IHAVE and its IHAVEs are
/// ignored; below `publishThreshold` it gets no own publishes; below `graylistThreshold` all its
/// messages are ignored and the shell is asked to disconnect it.
public struct PeerScoreSettings: Sendable, Equatable {
    /// P1: points per second in a topic's mesh, capped.
    public var timeInMeshWeight = 0.1
    public var timeInMeshCap = 10.0
    /// P2: points per first delivery of a valid message, capped; decays each heartbeat.
    public var firstDeliveryWeight = 1.0
    public var firstDeliveryCap = 100.0
    public var firstDeliveryDecay = 0.995
    /// P4: weight of the square of invalid messages; decays each heartbeat.
    public var invalidMessageWeight = -1000.0
    public var invalidMessageDecay = 0.999
    /// P6: weight of the square of the number of peers sharing one IP beyond the threshold.
    public var ipColocationWeight = -100.0
    public var ipColocationThreshold = 8
    /// P7: weight of the square of behaviour penalties (GRAFT in backoff, broken IWANT promises)
    /// beyond `behaviourPenaltyThreshold`.
    public var behaviourPenaltyWeight = -100.0
    public var behaviourPenaltyDecay = 0.99
    /// Penalties up to this cost nothing (gossipsub v1.1's threshold): an honest peer on a lossy
    /// or slow link breaks an IWANT promise now and then, and a score below zero prunes it from
    /// every mesh at once, which lengthens propagation for everyone. Floods exceed it quickly.
    public var behaviourPenaltyThreshold = 6.0

    public var gossipThreshold = -4000.0
    public var publishThreshold = -8000.0
    public var graylistThreshold = -16000.0
    /// A peer whose invalid messages (summed over topics, decayed) reach this is disconnected
    /// whatever its positive terms (Specs/gossip.md §3).
    public var invalidMessagesToDisconnect = 4.0

    public init() {}
}
