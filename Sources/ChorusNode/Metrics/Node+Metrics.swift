import ChorusMesh
import ChorusProtocol
import Foundation

/// What the admin listener (ChorusAdmin) asks of the node: a metrics sample on each scrape and the
/// readiness checks of `/readyz`. Both read state the node keeps anyway; nothing here runs between
/// scrapes except the counters of `NodeMetrics` and the loop-lag probe.
extension Node {
    /// Samples the node's state into its metrics (README "Metrics and health"): sessions, bytes,
    /// handshakes and closes; gossip counters and meshes; SWIM members and health; the epoch, its
    /// stage, the last final table and this node's weight in it; PoC rates; the worker and its models.
    public func recordMetrics() {
        let m = metrics
        // Transport.
        var inbound = 0, outbound = 0
        for id in manager.establishedPeers.values {
            guard let link = links[id] else { continue }
            if link.direction == .inbound { inbound += 1 } else { outbound += 1 }
        }
        m.labelledGauge(NodeMetricNames.sessionsOpen, label: "direction", ["inbound": Double(inbound), "outbound": Double(outbound)])
        let live = links.values.reduce(into: (sent: 0, received: 0)) {
            $0.sent += $1.statistics.bytesSent
            $0.received += $1.statistics.bytesReceived
        }
        m.counter(NodeMetricNames.sentBytes, m.closedBytesSent + live.sent)
        m.counter(NodeMetricNames.receivedBytes, m.closedBytesReceived + live.received)
        let c = currentCounters
        m.counter(NodeMetricNames.handshakes, c.handshakesCompleted, label: ("result", "ok"))
        for reason in Self.closeReasonCodes where c.closes[reason] == nil { m.counter(NodeMetricNames.closes, 0, label: ("reason", reason)) }
        for (reason, count) in c.closes { m.counter(NodeMetricNames.closes, count, label: ("reason", reason)) }
        m.counter(NodeMetricNames.dials, c.dialsAttempted)
        m.counter(NodeMetricNames.dialFailures, c.dialsFailed)
        m.gauge(NodeMetricNames.uptime, Self.seconds(startedAt.duration(to: .now)))

        // Gossip.
        let router = gossip.router
        m.counter(NodeMetricNames.gossipDelivered, router.counters.firstDeliveries)
        m.counter(NodeMetricNames.gossipDuplicates, router.counters.duplicates)
        m.counter(NodeMetricNames.gossipInvalid, router.counters.invalid)
        var mesh: [String?: Double] = [:]
        for topic in router.subscriptions { mesh[topic] = Double(router.mesh[topic]?.count ?? 0) }
        m.labelledGauge(NodeMetricNames.meshPeers, label: "topic", mesh)

        // SWIM.
        if let membership {
            let counts = membership.counts
            m.labelledGauge(NodeMetricNames.swimMembers, label: "state",
                            ["alive": Double(counts.alive), "suspect": Double(counts.suspect), "dead": Double(counts.dead)])
            m.counter(NodeMetricNames.swimSuspicions, membership.machine.counters.suspicionsRaised)
            m.counter(NodeMetricNames.swimDeaths, membership.machine.counters.deathsDeclared)
            m.gauge(NodeMetricNames.swimLocalHealth, Double(membership.machine.localHealth))
        }

        // Epochs.
        if let state = epochs {
            let position = try? EpochClock(state.engine.parameters).position(atUnixMs: Self.unixMillis())
            let lastFinal = state.finalTables.keys.max()
            m.gauge(NodeMetricNames.epochCurrent, position.map { Double($0.epoch) })
            var stages: [String?: Double] = [:]
            for stage in EpochStage.allCases { stages[stage.description] = position?.stage == stage ? 1 : 0 }
            m.labelledGauge(NodeMetricNames.epochStage, label: "stage", stages)
            // Epoch 0 is the genesis table, final by the network file.
            m.gauge(NodeMetricNames.epochLastFinal, Double(lastFinal ?? 0))
            m.gauge(NodeMetricNames.certificateLag, position.map { Double($0.epoch - min($0.epoch, lastFinal ?? 0)) })
            let own = lastFinal.flatMap { state.finalTables[$0]?.table.entry(publicKey.raw) }
            var weights: [String?: Double] = [:]
            for model in state.engine.configuration.servedModels {
                weights[model] = Double(own?.models.first { $0.model == model }?.pocWeight ?? 0)
            }
            m.labelledGauge(NodeMetricNames.ownWeight, label: "model", weights)
        }

        // PoC and the worker.
        if let poc {
            let health = poc.worker.health
            m.gauge(NodeMetricNames.workerHealthy, health.healthy ? 1 : 0)
            m.counter(NodeMetricNames.workerFailures, health.failures)
            var rates: [String?: Double] = [:], resident: [String?: Double] = [:]
            var parameters: [String?: Double] = [:], bytes: [String?: Double] = [:]
            let sizes = poc.worker.modelSizes
            for model in health.models {
                let stats = poc.generationStats[model]
                rates[model] = stats?.running == true ? stats!.noncesPerSecond : 0
                resident[model] = 1
                if let size = sizes[model] {
                    parameters[model] = Double(size.parameters)
                    if let weightBytes = size.weightBytes { bytes[model] = Double(weightBytes) }
                }
            }
            m.labelledGauge(NodeMetricNames.noncesPerSecond, label: "model", rates)
            m.labelledGauge(NodeMetricNames.modelResident, label: "model", resident)
            m.labelledGauge(NodeMetricNames.modelParameters, label: "model", parameters)
            m.labelledGauge(NodeMetricNames.modelWeightBytes, label: "model", bytes)
        }
    }

    /// Every close reason, exported at 0 before it first happens (so `rate()` has a series to read).
    static let closeReasonCodes: [String] = [
        CloseReason.duplicateSession, .inboundLimit, .groupLimit, .banned, .selfConnection, .handshakeTimeout, .handshakeFailed(""),
        .protocolViolation(""), .idleTimeout, .peerClosed, .connectionFailed(""), .shuttingDown, .memberDead,
        .networkMismatch(""),
    ].map(\.code)

    /// The checks of `/readyz`: the node has peers, its worker (if it has one) is healthy, and it
    /// is caught up with the network's epochs (if it follows them).
    public func readiness() -> NodeReadiness {
        var failed: [String: String] = [:]
        let peers = manager.establishedPeers.count
        if !isRunning { failed["running"] = "the node is not running" }
        if peers == 0 { failed["peers"] = "no peer session is established" }
        var workerHealthy: Bool?
        if let poc {
            let health = poc.worker.health
            workerHealthy = health.healthy
            if !health.healthy { failed["worker"] = "the worker is unhealthy: \(health.lastError ?? "no answer")" }
        }
        var current: UInt64?, lastFinal: UInt64?
        if let state = epochs, let position = try? EpochClock(state.engine.parameters).position(atUnixMs: Self.unixMillis()) {
            current = position.epoch
            lastFinal = state.finalTables.keys.max()
            if let problem = NodeReadiness.epochProblem(current: position.epoch, lastFinal: lastFinal) { failed["epochs"] = problem }
        }
        return NodeReadiness(peers: peers, workerHealthy: workerHealthy, epoch: current, lastFinalEpoch: lastFinal, failed: failed)
    }
}

/// `/readyz`'s answer: what was checked, and each check that failed with why.
public struct NodeReadiness: Sendable, Equatable {
    public var peers: Int
    /// nil when the node has no worker.
    public var workerHealthy: Bool?
    /// The current epoch and the last final one, when the node follows epochs (after genesis).
    public var epoch: UInt64?
    public var lastFinalEpoch: UInt64?
    /// Failed checks (`running`, `peers`, `worker`, `epochs`) and why.
    public var failed: [String: String]

    public var ready: Bool { failed.isEmpty }

    /// Epochs a node may trail the final tables and still be caught up: table `e` becomes final in
    /// epoch `e`'s tally stage, so until then the last final one is `e − 1` (Specs/epochs.md).
    public static let maxCertificateLag: UInt64 = 1

    /// Why a node at epoch `current` whose last final table is `lastFinal` is not caught up, or nil.
    /// The first epoch after genesis has no final table yet and counts as caught up.
    public static func epochProblem(current: UInt64, lastFinal: UInt64?) -> String? {
        guard current > 1 else { return nil }
        guard let lastFinal else { return "no final weight table yet at epoch \(current)" }
        let lag = current - min(current, lastFinal)
        guard lag > maxCertificateLag else { return nil }
        return "the last final epoch is \(lastFinal), \(lag) behind the current epoch \(current) (at most \(maxCertificateLag) allowed)"
    }
}
