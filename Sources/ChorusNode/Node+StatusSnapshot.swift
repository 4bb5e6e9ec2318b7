import ChorusCrypto
import ChorusProtocol

/// What the admin listener's status page shows (`GET /status.json`, README "Status page"): the
/// node's `status`, its peers and meshes, the epoch timeline, the last final weight table and
/// weights over recent final epochs, worker and inference counters, in one call into the actor so
/// the page sees one consistent moment. Every list is cut to `Limits` (largest first where an
/// order matters) and `truncated` names each list that was cut with its full length: a page polled
/// every 2 s must stay small however many peers or participants the network has.
public struct NodeStatusSnapshot: Codable, Sendable, Equatable {
    public struct Limits: Sendable, Equatable {
        /// Peer sessions listed (by public key).
        public var peers = 64
        /// Peers listed per topic mesh, and peer scores listed.
        public var meshPeers = 64
        /// Epochs in the timeline, ending at the current one.
        public var epochs = 12
        /// Skip reasons and divergences listed per timeline epoch.
        public var notesPerEpoch = 4
        /// Participants of the last final table listed (by weight, largest first), and confirmation records.
        public var participants = 64
        /// Final epochs in the weight history.
        public var history = 16

        public init() {}
    }

    /// The epoch clock now and the last `Limits.epochs` epochs, newest last.
    public struct Timeline: Codable, Sendable, Equatable {
        /// One stage of the current epoch and when it starts and ends (Unix ms).
        public struct Stage: Codable, Sendable, Equatable {
            public var stage: String
            public var startUnixMs: Int64
            public var endUnixMs: Int64
            enum CodingKeys: String, CodingKey {
                case stage
                case startUnixMs = "start_unix_ms"
                case endUnixMs = "end_unix_ms"
            }
        }

        public var current: UInt64
        public var stage: String
        public var stages: [Stage]
        public var lastFinalEpoch: UInt64?
        public var epochs: [EpochStatus]

        enum CodingKeys: String, CodingKey {
            case current, stage, stages, epochs
            case lastFinalEpoch = "last_final_epoch"
        }
    }

    /// One final epoch's weights: the table's total, this node's share, and per model the summed
    /// PoC weight and this node's.
    public struct WeightPoint: Codable, Sendable, Equatable {
        public var epoch: UInt64
        public var totalWeight: UInt64
        public var ownWeight: UInt64
        public var modelWeight: [String: UInt64]
        public var ownModelWeight: [String: UInt64]

        enum CodingKeys: String, CodingKey {
            case epoch
            case totalWeight = "total_weight"
            case ownWeight = "own_weight"
            case modelWeight = "model_weight"
            case ownModelWeight = "own_model_weight"
        }
    }

    public var unixMs: Int64
    /// The same answer as `chorus status --json` (worker and PoC under `poc`, SWIM counts under `members`).
    public var status: NodeStatus
    public var peers: [PeerInfo]
    public var mesh: [MeshStatus.TopicMesh]
    public var scores: [MeshStatus.PeerScoreEntry]
    /// The network's models (network-file order) and those this node serves.
    public var models: [String]
    public var servedModels: [String]
    /// nil on a node without a network file (a relay).
    public var timeline: Timeline?
    /// The last final table, participants by weight (largest first); nil before any.
    public var weights: WeightsResult?
    /// This node's row of that table, listed or not.
    public var ownEntry: WeightsResult.Participant?
    public var history: [WeightPoint]
    /// List name → its length before it was cut to `Limits` (only the lists that were cut).
    public var truncated: [String: Int]

    enum CodingKeys: String, CodingKey {
        case status, peers, mesh, scores, models, timeline, weights, history, truncated
        case unixMs = "unix_ms"
        case servedModels = "served_models"
        case ownEntry = "own_entry"
    }

    /// The first `limit` elements of `list`; records `name` in `truncated` when it was longer.
    static func cut<T>(_ list: [T], to limit: Int, name: String, into truncated: inout [String: Int]) -> [T] {
        guard list.count > limit else { return list }
        truncated[name] = list.count
        return Array(list.prefix(max(limit, 0)))
    }
}

extension Node {
    /// The status page's snapshot (see `NodeStatusSnapshot`), bounded by `limits`.
    public func statusSnapshot(limits: NodeStatusSnapshot.Limits = .init()) -> NodeStatusSnapshot {
        var truncated: [String: Int] = [:]
        let now = Self.unixMillis()
        let mesh = meshStatus()
        var topics = mesh.topics.sorted { $0.topic < $1.topic }
        for i in topics.indices {
            topics[i].peers = NodeStatusSnapshot.cut(topics[i].peers.sorted(), to: limits.meshPeers,
                                                     name: "mesh.\(topics[i].topic)", into: &truncated)
        }
        var snapshot = NodeStatusSnapshot(
            unixMs: now, status: status(), peers: NodeStatusSnapshot.cut(peers(), to: limits.peers, name: "peers", into: &truncated),
            mesh: topics,
            scores: NodeStatusSnapshot.cut(mesh.scores.sorted { $0.score > $1.score }, to: limits.meshPeers, name: "scores", into: &truncated),
            models: [], servedModels: [], timeline: nil, weights: nil, ownEntry: nil, history: [],
            truncated: [:])
        if let state = epochs {
            let engine = state.engine
            snapshot.models = engine.parameters.models.map(\.id)
            snapshot.servedModels = engine.configuration.servedModels
            let clock = EpochClock(engine.parameters)
            if let position = try? clock.position(atUnixMs: now) {
                let first = position.epoch >= UInt64(limits.epochs) ? position.epoch - UInt64(limits.epochs) + 1 : 1
                let shown: [EpochStatus] = (first...position.epoch).compactMap { epoch in
                    guard var entry = epochStatus(epoch) else { return nil }
                    entry.skipped = NodeStatusSnapshot.cut(entry.skipped, to: limits.notesPerEpoch, name: "timeline.\(epoch).skipped", into: &truncated)
                    entry.divergences = NodeStatusSnapshot.cut(entry.divergences, to: limits.notesPerEpoch,
                                                               name: "timeline.\(epoch).divergences", into: &truncated)
                    return entry
                }
                let stages = EpochStage.allCases.map {
                    NodeStatusSnapshot.Timeline.Stage(stage: $0.description, startUnixMs: clock.start(of: $0, epoch: position.epoch),
                                                      endUnixMs: clock.end(of: $0, epoch: position.epoch))
                }
                snapshot.timeline = .init(current: position.epoch, stage: position.stage.description, stages: stages,
                                          lastFinalEpoch: state.finalTables.keys.max(), epochs: shown)
            }
            let finals = state.finalTables.keys.sorted()
            if let last = finals.last, let table = state.finalTables[last]?.table {
                (snapshot.weights, snapshot.ownEntry) = NodeStatusSnapshot.listed(table, own: publicKey.raw, limits: limits, truncated: &truncated)
            }
            snapshot.history = finals.suffix(max(limits.history, 0)).compactMap { epoch in
                state.finalTables[epoch].map { NodeStatusSnapshot.point($0.table, own: publicKey.raw) }
            }
        }
        snapshot.truncated = truncated
        return snapshot
    }
}

extension NodeStatusSnapshot {
    /// `table` as the page lists it: participants by weight (largest first, then by key) and
    /// confirmation records, each cut to `limits.participants`; and the row of `own`, listed or not.
    public static func listed(_ table: WeightTable, own: Bytes32, limits: Limits,
                              truncated: inout [String: Int]) -> (weights: WeightsResult, own: WeightsResult.Participant?) {
        var result = WeightsResult(table)
        let ownRow = result.participants.first { $0.participant == own.hex }
        result.participants.sort { ($0.weight, $1.participant) > ($1.weight, $0.participant) }
        result.participants = cut(result.participants, to: limits.participants, name: "weights.participants", into: &truncated)
        result.confirmations = cut(result.confirmations, to: limits.participants, name: "weights.confirmations", into: &truncated)
        return (result, ownRow)
    }

    /// One point of the weight history: `table`'s total weight, `own`'s, and per model the
    /// accepted PoC weight in all and `own`'s.
    public static func point(_ table: WeightTable, own: Bytes32) -> WeightPoint {
        var point = WeightPoint(epoch: table.epoch, totalWeight: 0, ownWeight: 0, modelWeight: [:], ownModelWeight: [:])
        for entry in table.entries {
            let isOwn = entry.participant == own
            point.totalWeight &+= entry.weight
            if isOwn { point.ownWeight = entry.weight }
            for model in entry.models where model.accepted {
                point.modelWeight[model.model, default: 0] &+= model.pocWeight
                if isOwn { point.ownModelWeight[model.model, default: 0] &+= model.pocWeight }
            }
        }
        return point
    }
}
