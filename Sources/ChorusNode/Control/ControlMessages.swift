/// The control protocol's messages (Specs/control.md): what `chorus` asks a running node over its
/// Unix socket and what the node answers. One JSON object per line each way.

/// The answer's envelope: `{"ok": true, "result": ...}` or `{"ok": false, "error": "...",
/// "error_code": "...", "error_details": {...}}` (see `ControlError`; `error_details` is left out
/// when the error has no fields).
public struct ControlResponse<Result: Codable & Sendable>: Codable, Sendable {
    public var ok: Bool
    public var result: Result?
    /// The human message (what clients before `error_code` read).
    public var error: String?
    public var errorCode: String?
    public var errorDetails: [String: String]?

    public init(result: Result) {
        self.ok = true
        self.result = result
    }

    public init(error: ControlError) {
        self.ok = false
        self.error = error.description
        self.errorCode = error.code
        let details = error.details
        self.errorDetails = details.isEmpty ? nil : details
    }

    /// The typed error of an error answer (`.other` for a code this client does not know, or
    /// none); nil for a success.
    public var controlError: ControlError? {
        guard !ok else { return nil }
        return ControlError(code: errorCode, message: error ?? "the node answered ok: false without an error", details: errorDetails ?? [:])
    }

    enum CodingKeys: String, CodingKey {
        case ok, result, error
        case errorCode = "error_code"
        case errorDetails = "error_details"
    }
}

/// `status`: who the node is and how it is doing.
public struct NodeStatus: Codable, Sendable, Equatable {
    public var publicKey: String
    public var networkID: String
    public var listenAddresses: [String]
    public var advertisedAddress: String?
    public var peerCount: Int
    public var inbound: Int
    public var outbound: Int
    public var connecting: Int
    public var knownAddresses: Int
    public var uptimeSeconds: Double
    public var counters: NodeCounters
    /// Peers in this node's topic meshes (summed over topics), and gossip deliveries so far.
    public var meshPeers: Int
    public var delivered: Int
    public var duplicates: Int
    public var invalid: Int
    /// "participant", "verify-only" (`chorusd run --verify-only`) or "relay" (no network file).
    public var role: String
    /// The PoC worker and activity; nil on a node without a worker.
    public var poc: PoCStatus? = nil
    /// SWIM's view: alive, suspect and dead members (nil when membership is not running).
    public var members: MemberCounts? = nil
    /// Peers whose network file differs from this node's (Specs/transport.md §2); nil when none.
    public var networkMismatches: [NetworkMismatchInfo]? = nil
    /// Inference routing, serving and checks (absent before inference is attached).
    public var inference: InferenceReport? = nil

    enum CodingKeys: String, CodingKey {
        case role, poc, inference
        case publicKey = "public_key"
        case networkID = "network_id"
        case listenAddresses = "listen_addresses"
        case advertisedAddress = "advertised_address"
        case peerCount = "peer_count"
        case inbound, outbound, connecting
        case knownAddresses = "known_addresses"
        case uptimeSeconds = "uptime_seconds"
        case counters
        case meshPeers = "mesh_peers"
        case delivered, duplicates, invalid, members
        case networkMismatches = "network_mismatches"
    }
}

/// `peers`: one established session.
public struct PeerInfo: Codable, Sendable, Equatable {
    public var publicKey: String
    /// The socket address of the connection (an ephemeral port for inbound peers).
    public var address: String
    /// The address the peer announced for dialing back, if any.
    public var advertisedAddress: String?
    public var direction: String
    /// The last measured round-trip time, in milliseconds; nil until the first pong.
    public var rttMilliseconds: Double?
    public var connectedSeconds: Double
    public var bytesSent: Int
    public var bytesReceived: Int
    public var messagesSent: Int
    public var messagesReceived: Int
    public var queuedMessages: Int
    public var drops: Int
    /// Bytes written to the socket that the peer has not taken yet (bounded: see Specs/transport.md §5).
    public var unsentBytes: Int
    /// Pongs not sent because the peer was not reading what it was sent.
    public var pongsWithheld: Int

    enum CodingKeys: String, CodingKey {
        case publicKey = "public_key"
        case address
        case advertisedAddress = "advertised_address"
        case direction
        case rttMilliseconds = "rtt_ms"
        case connectedSeconds = "connected_seconds"
        case bytesSent = "bytes_sent"
        case bytesReceived = "bytes_received"
        case messagesSent = "messages_sent"
        case messagesReceived = "messages_received"
        case queuedMessages = "queued_messages"
        case drops
        case unsentBytes = "unsent_bytes"
        case pongsWithheld = "pongs_withheld"
    }
}

/// `ping`: the round-trip time of one ping over the session.
public struct PingResult: Codable, Sendable, Equatable {
    public var publicKey: String
    public var rttMilliseconds: Double

    enum CodingKeys: String, CodingKey {
        case publicKey = "public_key"
        case rttMilliseconds = "rtt_ms"
    }
}

/// `publish`: the gossip message id (what `trace` takes) and the signed statement's own id.
public struct PublishResult: Codable, Sendable, Equatable {
    public var id: String
    public var statementID: String
    public var topic: String
    public var author: String
    public var seq: UInt64

    enum CodingKeys: String, CodingKey {
        case id, topic, author, seq
        case statementID = "statement_id"
    }
}

/// `weights`: a final weight table in JSON form (the signed form is its canonical encoding).
public struct WeightsResult: Codable, Sendable, Equatable {
    public struct Model: Codable, Sendable, Equatable {
        public var model: String
        public var mode: String
        public var committedCount: UInt64
        public var accepted: Bool
        public var pocWeight: UInt64
        public var votingPower: UInt64
        enum CodingKeys: String, CodingKey {
            case model, mode, accepted
            case committedCount = "committed_count"
            case pocWeight = "poc_weight"
            case votingPower = "voting_power"
        }
    }

    /// The previous epoch's confirmation PoC outcome for one (participant, model).
    public struct Confirmation: Codable, Sendable, Equatable {
        public var participant: String
        public var model: String
        public var expected: UInt64
        public var readings: [UInt64]
        /// The minimum reading.
        public var weight: UInt64
        public var passed: Bool
    }

    public struct Participant: Codable, Sendable, Equatable {
        public var participant: String
        public var weight: UInt64
        public var votingWeight: UInt64
        public var models: [Model]
        enum CodingKeys: String, CodingKey {
            case participant, weight, models
            case votingWeight = "voting_weight"
        }
    }

    public var epoch: UInt64
    public var tableDigest: String
    public var participants: [Participant]
    /// Confirmation PoC of epoch − 1, which this table applies.
    public var confirmations: [Confirmation]

    enum CodingKeys: String, CodingKey {
        case epoch, participants, confirmations
        case tableDigest = "table_digest"
    }
}
