import ChorusCrypto

/// One running suspicion with Lifeguard's dynamic timeout.
///
/// The timeout starts at `maxTimeout` and falls towards `minTimeout` as independent confirmations
/// (suspicions of the same member raised by other nodes) arrive:
/// `max(min, max − (max − min) · log(C + 1) / log(k + 1))`. A lone, possibly slow accuser thus gives
/// the member a long time to refute, while a member many nodes cannot reach is declared dead fast.
struct Suspicion: Sendable {
    let start: MonotonicTime
    let origin: Ed25519.PublicKey
    let confirmationsNeeded: Int
    let minTimeout: Duration
    let maxTimeout: Duration
    private(set) var confirmers: [Ed25519.PublicKey] = []
    /// `start + timeout`, kept current by `confirm` (read on every input to schedule the next tick).
    private(set) var timeoutAt: MonotonicTime
    /// Set when the deadline passed while the node itself stalled: a short grace to read its inbox.
    var deferredUntil: MonotonicTime?

    init(start: MonotonicTime, origin: Ed25519.PublicKey, clusterSize: Int, settings: MembershipSettings) {
        self.start = start
        self.origin = origin
        let n = max(clusterSize, 1)
        confirmationsNeeded = max(0, min(settings.suspicionConfirmations, n - 2))
        let minSeconds = max(Suspicion.seconds(settings.suspicionMinFloor),
                             Suspicion.seconds(settings.suspicionMinPerLog10N) * DeterministicMath.log10(Double(n)))
        minTimeout = .nanoseconds(Int64(minSeconds * 1e9))
        maxTimeout = minTimeout * settings.suspicionMaxMultiplier
        timeoutAt = start
            + Suspicion.timeout(confirmations: 0, needed: confirmationsNeeded, min: minTimeout, max: maxTimeout)
    }

    var timeout: Duration {
        Suspicion.timeout(confirmations: confirmers.count, needed: confirmationsNeeded, min: minTimeout, max: maxTimeout)
    }

    static func timeout(confirmations: Int, needed: Int, min: Duration, max: Duration) -> Duration {
        guard needed > 0 else { return min }
        let lo = seconds(min), hi = seconds(max)
        let fraction = DeterministicMath.log(Double(confirmations + 1))
            / DeterministicMath.log(Double(needed + 1))
        return .nanoseconds(Int64(Swift.max(lo, hi - (hi - lo) * fraction) * 1e9))
    }

    var deadline: MonotonicTime { deferredUntil ?? timeoutAt }

    /// Counts `source` as an independent confirmation. Returns false for the origin, a repeat, or
    /// once enough confirmations are in (then there is nothing more to learn or to re-gossip).
    mutating func confirm(_ source: Ed25519.PublicKey) -> Bool {
        guard source != origin, confirmers.count < confirmationsNeeded, !confirmers.contains(source) else {
            return false
        }
        confirmers.append(source)
        timeoutAt = start + timeout
        return true
    }

    static func seconds(_ d: Duration) -> Double { Double(d.nanoseconds) / 1e9 }
}
