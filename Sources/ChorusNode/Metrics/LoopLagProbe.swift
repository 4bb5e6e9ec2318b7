import CoreMetrics
import Synchronization

/// Measures how late the node's event loop runs a repeating timer (the time it spent on other
/// work), and remembers when it last ran. Its reading is taken from any thread without entering
/// the node: a loop that is stuck would never answer an actor call, and `/healthz` must still say so.
public final class LoopLagProbe: Sendable {
    /// How often the loop is probed.
    public static let interval: Duration = .milliseconds(100)

    /// What `/healthz` reads.
    public struct Reading: Sendable, Equatable {
        /// False before the node starts and after it stops.
        public var running: Bool
        /// Time since the loop last ran the probe (nil before the first run).
        public var sinceLastRun: Duration?
        /// The lag measured at the last run.
        public var lastLag: Duration
    }

    private struct State {
        var running = false
        var lastRun: ContinuousClock.Instant?
        var lastLag: Duration = .zero
    }

    private let state = Mutex(State())
    private let histogram: CoreMetrics.Timer
    private let last: Gauge

    init(factory: any MetricsFactory) {
        histogram = CoreMetrics.Timer(label: NodeMetricNames.loopLag, dimensions: [], factory: factory)
        last = Gauge(label: NodeMetricNames.loopLagLast, dimensions: [], factory: factory)
    }

    /// The node started its probe timer.
    func started(now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.running = true
            $0.lastRun = now
        }
    }

    func stopped() {
        state.withLock { $0.running = false }
    }

    /// The probe timer ran: its lag is the time past the interval since the previous run.
    func ran(now: ContinuousClock.Instant = .now) {
        let lag = state.withLock { s -> Duration in
            let lag = s.lastRun.map { max(.zero, $0.duration(to: now) - Self.interval) } ?? .zero
            s.lastRun = now
            s.lastLag = lag
            return lag
        }
        histogram.recordNanoseconds(lag.nanosecondsClamped)
        last.record(Double(lag.nanosecondsClamped) / 1e9)
    }

    public func reading(now: ContinuousClock.Instant = .now) -> Reading {
        state.withLock { s in
            Reading(running: s.running, sinceLastRun: s.lastRun.map { $0.duration(to: now) }, lastLag: s.lastLag)
        }
    }

    /// Why the loop is not healthy, or nil when it is: the node stopped, the loop has not run the
    /// probe for longer than `bound` past its interval (stuck), or its last lag exceeded `bound`.
    public func problem(bound: Duration, now: ContinuousClock.Instant = .now) -> String? {
        let r = reading(now: now)
        guard r.running else { return "the node is not running" }
        if let since = r.sinceLastRun, since > Self.interval + bound {
            return "the event loop has not run for \(Self.format(since)) (bound \(Self.format(bound)))"
        }
        if r.lastLag > bound {
            return "the event loop lagged \(Self.format(r.lastLag)) (bound \(Self.format(bound)))"
        }
        return nil
    }

    static func format(_ d: Duration) -> String {
        let seconds = Double(d.nanosecondsClamped) / 1e9
        return seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : "\((seconds * 100).rounded() / 100) s"
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to Int64 (swift-metrics' timer unit).
    var nanosecondsClamped: Int64 {
        let (s, atto) = components
        guard s < Int64.max / 1_000_000_000 else { return .max }
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
