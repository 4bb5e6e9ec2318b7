import ChorusLoop
import CoreMetrics

/// The node's swift-metrics handles, made once per node from the factory it was given (each node
/// of a test process can have a registry of its own; without one, swift-metrics' no-op handlers).
///
/// Events the node does not count elsewhere are counted here as they happen (commits, votes,
/// mismatches, failed handshakes, bytes of closed links). Everything else is state the node already
/// keeps: `Node.recordMetrics()` samples it on each scrape and `record` moves counters forward by
/// what changed since the last scrape, so the exported values equal the node's own counters.
/// Confined to the node's actor.
final class NodeMetrics {
    let factory: any MetricsFactory
    let commits: Counter
    let votes: Counter
    let mismatches: Counter
    let handshakesFailed: Counter
    /// Bytes of links that have closed (the open ones are summed at each scrape).
    private(set) var closedBytesSent = 0
    private(set) var closedBytesReceived = 0
    private var lagTimer: LoopTimer?

    private var counters: [SeriesKey: (handle: Counter, last: Int)] = [:]
    private var gauges: [SeriesKey: Gauge] = [:]

    struct SeriesKey: Hashable {
        let name: String
        let label: String?
        let value: String?
    }

    init(factory: any MetricsFactory) {
        self.factory = factory
        commits = Counter(label: NodeMetricNames.commits, dimensions: [], factory: factory)
        votes = Counter(label: NodeMetricNames.votes, dimensions: [], factory: factory)
        mismatches = Counter(label: NodeMetricNames.mismatches, dimensions: [], factory: factory)
        handshakesFailed = Counter(label: NodeMetricNames.handshakes, dimensions: [("result", "failed")], factory: factory)
    }

    /// Starts the loop-lag probe's timer on `loop` (from `Node.start`).
    func startProbe(_ probe: LoopLagProbe, on loop: EventLoop) {
        let timer = LoopTimer(on: loop)
        probe.started()
        timer.schedule(after: LoopLagProbe.interval, repeatingEvery: LoopLagProbe.interval) { probe.ran() }
        lagTimer = timer
    }

    func stopProbe(_ probe: LoopLagProbe) {
        lagTimer?.close()
        lagTimer = nil
        probe.stopped()
    }

    /// A link closed: its bytes join the closed total; one that never authenticated is a failed handshake.
    func linkClosed(bytesSent: Int, bytesReceived: Int, authenticated: Bool) {
        closedBytesSent += bytesSent
        closedBytesReceived += bytesReceived
        if !authenticated { handshakesFailed.increment() }
    }

    // MARK: - Sampled state

    /// Sets the counter `name` (one series per `label` value) to `total`: it moves by the difference
    /// since the last call (by `total` itself if the source was reset, e.g. a restarted service).
    func counter(_ name: String, _ total: Int, label: (String, String)? = nil) {
        let key = SeriesKey(name: name, label: label?.0, value: label?.1)
        var entry = counters[key] ?? (Counter(label: name, dimensions: label.map { [$0] } ?? [], factory: factory), 0)
        let delta = total >= entry.last ? total - entry.last : total
        if delta > 0 { entry.handle.increment(by: Int64(delta)) }
        entry.last = total
        counters[key] = entry
    }

    /// Sets the unlabelled gauge `name`, or removes its series when `value` is nil.
    func gauge(_ name: String, _ value: Double?) {
        labelledGauge(name, label: nil, [nil: value].compactMapValues { $0 })
    }

    /// Sets one series of gauge `name` per entry of `values` (by the value of `label`) and removes
    /// the series of values no longer present (a topic left, a model unloaded).
    func labelledGauge(_ name: String, label: String?, _ values: [String?: Double]) {
        for (value, number) in values {
            let key = SeriesKey(name: name, label: label, value: value)
            let gauge = gauges[key] ?? Gauge(label: name, dimensions: label.flatMap { l in value.map { [(l, $0)] } } ?? [], factory: factory)
            gauge.record(number)
            gauges[key] = gauge
        }
        for key in gauges.keys where key.name == name && values[key.value] == nil {
            gauges.removeValue(forKey: key)?.destroy()
        }
    }
}
