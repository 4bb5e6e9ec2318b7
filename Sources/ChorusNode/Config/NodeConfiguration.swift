import ChorusMesh
import Logging

/// Everything a node needs to run besides its key and its store: which network, where to listen,
/// whom to dial first, and the transport's limits. Loaded from `config.toml` in the data directory
/// (see `ConfigFile`), with command-line flags layered on top.
public struct NodeConfiguration: Sendable, Equatable {
    /// The network id: mixed into every handshake (the Noise prologue) and every signed statement.
    public var networkID: String
    /// TCP addresses to listen on, `host:port` (`[v6]:port` for IPv6); port 0 picks a free port.
    public var listen: [String]
    /// The address announced to peers so they can dial back; nil derives it from the first listen
    /// address unless that is a wildcard (`0.0.0.0`, `[::]`), in which case nothing is announced.
    public var advertise: String?
    /// Addresses dialed at start in addition to the peers remembered in the store.
    public var seeds: [String]
    /// Connection budgets, handshake timeout, bans and re-dial backoff.
    public var connections: ConnectionSettings
    /// The largest application message a session carries.
    public var maxMessageSize: Int
    /// How often an established session is pinged (which also measures its RTT).
    public var keepaliveInterval: Duration
    /// A session that receives nothing for this long is closed.
    public var idleTimeout: Duration
    /// Per-priority bounds of each peer's send queue.
    public var sendLimits: SendQueue.Limits
    /// Topics the node subscribes to at start (its gossip meshes).
    public var topics: [String]
    /// Gossip mesh parameters (D, heartbeat, scores).
    public var gossip: GossipSettings
    /// Whether addresses in private ranges or loopback learned from peers are accepted (devnets and
    /// labs on one machine or one LAN); public networks leave it off.
    public var allowPrivateAddresses = false
    /// What this node's signed peer record says it does, and the models it serves; `chorusd run`
    /// sets them from `--verify-only` and the models its worker actually loaded.
    public var role: PeerRecord.Role = .full
    public var servedModels: [String] = []
    /// How often stored statements are reconciled with every peer (also on each new session).
    public var syncInterval: Duration = .seconds(30)
    /// Epochs of statements kept before the current one: older ones are deleted, and only the
    /// current epoch, these and the next are reconciled (Specs/gossip.md §4, "Retention"). At least
    /// 2: an epoch's tally reads the previous epoch's statements.
    public var retentionEpochs: UInt64 = NodeConfiguration.defaultRetentionEpochs
    /// Statement ids anti-entropy keeps in memory at most (Specs/gossip.md §4, "The index").
    public var syncIndexCapacity = NodeConfiguration.defaultSyncIndexCapacity
    /// The PoC worker: nil runs the built-in in-process worker; else an HTTP worker's base URL.
    public var workerURL: String?
    /// The file holding the HTTP worker's bearer token (`worker serve --token-file`); relative paths
    /// are taken in the data directory. `$CHORUS_WORKER_TOKEN` takes precedence.
    public var workerTokenFile: String?
    /// The OpenAI-compatible API's address (`HOST:PORT`); nil serves no API.
    public var apiListen: String?
    /// API keys, one per line (`#` comments); relative paths are taken in the data directory.
    /// Without it the API is open to whoever can reach `apiListen`.
    public var apiKeysFile: String?
    /// Network model ids (or `ID=PATH`) the node loads and runs PoC for.
    public var models: [String] = []
    /// SWIM failure detection over UDP on the listen addresses (Services/Membership).
    public var membership = MembershipSettings()
    /// SWIM senders tracked for replay at most; when full, the oldest non-member makes room.
    public var membershipSenders = 16_384
    /// The admin HTTP listener (`/metrics`, `/healthz`, `/readyz`; ChorusAdmin): `HOST:PORT`,
    /// `unix:PATH` or `off`; nil: loopback on the first listen port + 2000.
    public var adminListen: String?
    /// `chorusd run`'s logging, not the node's: the lowest level logged (nil: info, or `--log-level`),
    /// an optional JSON-lines file (relative: in the data directory) and its size bound.
    public var logLevel: Logger.Level?
    public var logFile: String?
    public var logFileMaxBytes = NodeConfiguration.defaultLogFileMaxBytes
    /// The API's per-key request budget (`[api]`); nil: `APIAccess.Rate.standard` (600/min, burst 60).
    /// Kept as numbers so that ChorusNode needs nothing of ChorusAPI.
    public var apiRequestsPerMinute: Int?
    public var apiBurst: Int?
    /// Threads that verify received statements (Services/Intake/VerificationPool.swift); nil: one per core.
    public var verificationThreads: Int?

    public init(networkID: String, listen: [String] = ["127.0.0.1:7700"], advertise: String? = nil,
                seeds: [String] = [], connections: ConnectionSettings = ConnectionSettings(),
                maxMessageSize: Int = 4 << 20, keepaliveInterval: Duration = .seconds(5),
                idleTimeout: Duration = .seconds(20), sendLimits: SendQueue.Limits = .default,
                topics: [String] = [NodeConfiguration.defaultTopic], gossip: GossipSettings = GossipSettings()) {
        self.networkID = networkID
        self.listen = listen
        self.advertise = advertise
        self.seeds = seeds
        self.connections = connections
        self.maxMessageSize = maxMessageSize
        self.keepaliveInterval = keepaliveInterval
        self.idleTimeout = idleTimeout
        self.sendLimits = sendLimits
        self.topics = topics
        self.gossip = gossip
    }

    /// The topic every node joins by default; `chorus publish` uses it unless told otherwise.
    public static let defaultTopic = "statements"

    /// Statements of the current epoch and the 8 before it are kept: an epoch's tally needs the one
    /// before it, `chorus epoch export N` needs N and N − 1, and a node away for up to 7 epochs can
    /// still fetch what it missed from its peers.
    public static let defaultRetentionEpochs: UInt64 = 8
    public static let minimumRetentionEpochs: UInt64 = 2
    /// About 32 MiB of ids (plus a few bytes of overhead each).
    public static let defaultSyncIndexCapacity = 1_000_000

    /// The log file is renamed to FILE.1 when it would pass this (64 MiB), so it takes at most twice that.
    public static let defaultLogFileMaxBytes = 64 << 20

    /// The default network of `chorusd init`.
    public static let defaultNetworkID = "chorus-devnet"
}
