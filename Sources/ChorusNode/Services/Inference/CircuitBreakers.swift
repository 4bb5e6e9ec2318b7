import ChorusCrypto
import ChorusMesh

/// A gateway's health view of executors (Specs/inference-routing.md §3): after
/// `failureThreshold` consecutive failures (errors, timeouts, lost sessions) an executor's
/// circuit opens and it is skipped for `openFor`; then one request may probe it (half-open): a
/// success closes the circuit, a failure opens it again. Gonka's draw had no such filter and kept
/// sending users to executors that missed 28 % of requests. Bounded: one entry per executor in
/// the current group, and entries of closed circuits are dropped.
struct CircuitBreakers {
    struct Settings: Equatable {
        var failureThreshold = 3
        var openFor: Duration = .seconds(30)
    }

    private struct Entry {
        var consecutiveFailures = 0
        var openUntil: MonotonicTime?
        var probing = false
    }

    let settings: Settings
    private var entries: [Bytes32: Entry] = [:]
    /// Executors tracked at most: a group is bounded by the table, this by a constant.
    static let capacity = 4_096

    init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Whether a request may go to `executor` now; a half-open circuit admits one probe.
    mutating func admits(_ executor: Bytes32, now: MonotonicTime) -> Bool {
        guard var entry = entries[executor], let until = entry.openUntil else { return true }
        guard now >= until, !entry.probing else { return false }
        entry.probing = true
        entries[executor] = entry
        return true
    }

    /// Executors whose circuit is open now (skipped by the draw).
    func open(now: MonotonicTime) -> Set<Bytes32> {
        Set(entries.compactMap { id, e in e.openUntil.map { now < $0 || e.probing } == true ? id : nil })
    }

    mutating func succeeded(_ executor: Bytes32) {
        entries[executor] = nil
    }

    mutating func failed(_ executor: Bytes32, now: MonotonicTime) {
        var entry = entries[executor] ?? Entry()
        entry.consecutiveFailures += 1
        entry.probing = false
        if entry.consecutiveFailures >= settings.failureThreshold { entry.openUntil = now + settings.openFor }
        if entries[executor] == nil, entries.count >= Self.capacity {
            // Forget a closed circuit first; a full table of open ones keeps its oldest verdicts.
            guard let closed = entries.first(where: { $0.value.openUntil == nil })?.key else { return }
            entries[closed] = nil
        }
        entries[executor] = entry
    }

    var count: Int { entries.count }
}
