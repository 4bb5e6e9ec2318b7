/// What the node counts about its connections: every close by reason (the hostile-input tests and
/// operators read these), handshakes, refusals, messages and drops. Shown by `chorus status`.
public struct NodeCounters: Sendable, Equatable, Codable {
    /// Connections closed or refused, by `CloseReason.code`.
    public var closes: [String: Int] = [:]
    public var handshakesCompleted = 0
    public var inboundAccepted = 0
    public var dialsAttempted = 0
    public var dialsFailed = 0
    public var messagesReceived = 0
    public var messagesSent = 0
    /// Messages dropped because a peer's send queue was full.
    public var sendDrops = 0
    /// Messages that arrived with a protocol tag no handler is registered for.
    public var unknownTags = 0
    /// Reconciliations started with peers (anti-entropy), and statements they brought in.
    public var syncRounds = 0
    public var syncedStatements = 0
    /// Addresses accepted from peer exchange, and requests or answers refused by its rate limits.
    public var addressesLearned = 0
    public var peerExchangeRefused = 0
    /// Peer records accepted, refused as stale (replayed or older seq), forged (bad signature: the
    /// relaying peer is penalised), and refused for another reason (network, private address, future).
    public var recordsAccepted = 0
    public var recordsStale = 0
    public var recordsForged = 0
    public var recordsRefused = 0
    /// Statements of an epoch beyond the next one, ignored (never stored or forwarded).
    public var futureStatements = 0
    /// Reconcile messages dropped because a peer sent them faster than the node answers them.
    public var reconcilesThrottled = 0
    /// Statements of weightless authors ignored because their byte budget was spent.
    public var overBudget = 0
    /// Received statements not verified: the verification pool (or the sender's share of it) was
    /// full, or the store could not be read. Anti-entropy offers them again.
    public var verificationRefused = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case closes
        case handshakesCompleted = "handshakes_completed"
        case inboundAccepted = "inbound_accepted"
        case dialsAttempted = "dials_attempted"
        case dialsFailed = "dials_failed"
        case messagesReceived = "messages_received"
        case messagesSent = "messages_sent"
        case sendDrops = "send_drops"
        case unknownTags = "unknown_tags"
        case syncRounds = "sync_rounds"
        case syncedStatements = "synced_statements"
        case addressesLearned = "addresses_learned"
        case peerExchangeRefused = "peer_exchange_refused"
        case recordsAccepted = "records_accepted"
        case recordsStale = "records_stale"
        case recordsForged = "records_forged"
        case recordsRefused = "records_refused"
        case futureStatements = "future_statements"
        case reconcilesThrottled = "reconciles_throttled"
        case overBudget = "over_budget"
        case verificationRefused = "verification_refused"
    }
}
