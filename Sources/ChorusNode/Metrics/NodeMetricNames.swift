/// Every metric family the node exports, with its Prometheus type and help text: the one list the
/// admin listener's factory takes help texts from (promtool rejects families without one), the
/// tests check a scrape against, and the Grafana dashboard (`Tools/grafana-dashboard.json`) may
/// refer to. Names follow Prometheus conventions: a `chorus_` prefix, the unit in the name, `_total`
/// on counters. Labels carry only model ids, topic names and fixed words (never keys, paths or
/// addresses), so a series count stays bounded by what the operator configured.
public enum NodeMetricNames {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public struct Family: Sendable, Equatable {
        public let name: String
        public let kind: Kind
        public let help: String
    }

    public static let sessionsOpen = "chorus_transport_sessions_open"
    public static let receivedBytes = "chorus_transport_received_bytes_total"
    public static let sentBytes = "chorus_transport_sent_bytes_total"
    public static let handshakes = "chorus_transport_handshakes_total"
    public static let closes = "chorus_transport_closes_total"
    public static let dials = "chorus_transport_dials_total"
    public static let dialFailures = "chorus_transport_dial_failures_total"
    public static let gossipDelivered = "chorus_gossip_delivered_total"
    public static let gossipDuplicates = "chorus_gossip_duplicates_total"
    public static let gossipInvalid = "chorus_gossip_invalid_total"
    public static let meshPeers = "chorus_gossip_mesh_peers"
    public static let swimMembers = "chorus_swim_members"
    public static let swimSuspicions = "chorus_swim_suspicions_total"
    public static let swimDeaths = "chorus_swim_deaths_total"
    public static let swimLocalHealth = "chorus_swim_local_health"
    public static let epochCurrent = "chorus_epoch_current"
    public static let epochStage = "chorus_epoch_stage"
    public static let epochLastFinal = "chorus_epoch_last_final"
    public static let ownWeight = "chorus_epoch_own_weight"
    public static let certificateLag = "chorus_epoch_certificate_lag_epochs"
    public static let noncesPerSecond = "chorus_poc_nonces_per_second"
    public static let commits = "chorus_poc_commits_total"
    public static let votes = "chorus_poc_votes_total"
    public static let mismatches = "chorus_poc_mismatches_total"
    public static let workerHealthy = "chorus_worker_healthy"
    public static let workerFailures = "chorus_worker_call_failures_total"
    public static let modelResident = "chorus_worker_model_resident"
    public static let modelParameters = "chorus_worker_model_parameters"
    public static let modelWeightBytes = "chorus_worker_model_weight_bytes"
    public static let loopLag = "chorus_loop_lag_seconds"
    public static let loopLagLast = "chorus_loop_lag_last_seconds"
    public static let uptime = "chorus_node_uptime_seconds"

    public static let all: [Family] = [
        Family(name: sessionsOpen, kind: .gauge, help: "Authenticated peer sessions open, by direction (inbound, outbound)."),
        Family(name: receivedBytes, kind: .counter, help: "Bytes received on peer connections (Noise frames, handshakes included)."),
        Family(name: sentBytes, kind: .counter, help: "Bytes sent on peer connections (Noise frames, handshakes included)."),
        Family(name: handshakes, kind: .counter, help: "Noise handshakes by result: ok (authenticated) or failed (the connection closed before)."),
        Family(name: closes, kind: .counter, help: "Connections closed or refused, by reason code (Specs/transport.md)."),
        Family(name: dials, kind: .counter, help: "Outbound connections attempted."),
        Family(name: dialFailures, kind: .counter, help: "Outbound connections that could not be made."),
        Family(name: gossipDelivered, kind: .counter, help: "Gossip messages delivered for the first time (valid, new)."),
        Family(name: gossipDuplicates, kind: .counter, help: "Gossip messages received again after their first delivery."),
        Family(name: gossipInvalid, kind: .counter, help: "Gossip messages that failed validation (their senders are penalised)."),
        Family(name: meshPeers, kind: .gauge, help: "Peers in this node's gossip mesh, by topic."),
        Family(name: swimMembers, kind: .gauge, help: "SWIM members known, by state (alive, suspect, dead); this node not counted."),
        Family(name: swimSuspicions, kind: .counter, help: "SWIM suspicions this node raised about members whose probes failed."),
        Family(name: swimDeaths, kind: .counter, help: "SWIM members this node declared dead."),
        Family(name: swimLocalHealth, kind: .gauge, help: "Lifeguard local health multiplier: 0 healthy; higher when this node misses its own deadlines."),
        Family(name: epochCurrent, kind: .gauge, help: "The network's current epoch by the wall clock (absent before genesis)."),
        Family(name: epochStage, kind: .gauge, help: "1 for the current stage of the current epoch, 0 for the others."),
        Family(name: epochLastFinal, kind: .gauge, help: "The last epoch whose weight table this node holds as final (certified); 0, the genesis table, before any."),
        Family(name: ownWeight, kind: .gauge, help: "This node's PoC weight per served model in the last final weight table (0 when absent)."),
        Family(name: certificateLag, kind: .gauge, help: "Epochs between the current epoch and the last final one."),
        Family(name: noncesPerSecond, kind: .gauge, help: "PoC nonces per second the worker reports for the running job, by model (0 when none runs)."),
        Family(name: commits, kind: .counter, help: "PoC commits (generation and confirmation) this node signed."),
        Family(name: votes, kind: .counter, help: "PoC votes this node signed."),
        Family(name: mismatches, kind: .counter, help: "Sampled PoC leaves this node's validations found mismatching (missing or recomputed differently)."),
        Family(name: workerHealthy, kind: .gauge, help: "1 when the PoC worker's last call succeeded, else 0."),
        Family(name: workerFailures, kind: .counter, help: "PoC worker calls that failed or ran past their deadline."),
        Family(name: modelResident, kind: .gauge, help: "1 for each model the worker holds resident for this node."),
        Family(name: modelParameters, kind: .gauge, help: "Parameters of each resident model, as the worker reports them."),
        Family(name: modelWeightBytes, kind: .gauge, help: "Bytes of each resident model's weights at the worker's compute dtype (parameters times dtype size)."),
        Family(name: loopLag, kind: .histogram, help: "How late the node's event loop ran a 100 ms timer: time the loop was busy elsewhere."),
        Family(name: loopLagLast, kind: .gauge, help: "The event loop's lag at its last probe (see chorus_loop_lag_seconds)."),
        Family(name: uptime, kind: .gauge, help: "Seconds since the node started."),
    ]

    /// Help text by family name.
    public static let help: [String: String] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.help) })
}
