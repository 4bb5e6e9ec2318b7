import ChorusInference
import ChorusHTTP
import Synchronization

/// Who may call the API and how often. With no keys configured the API is open (the devnet's
/// loopback default) and all callers share one budget; with keys, each request must carry one
/// (`Authorization: Bearer KEY`, compared in constant time against every key, so timing reveals
/// neither which key nor how much of it matched) and each key has its own token bucket.
/// The buckets are bounded by the number of configured keys (plus the shared one), never by
/// what clients send.
public final class APIAccess: Sendable {
    public struct Rate: Sendable, Equatable {
        /// Requests per minute a key may sustain, and how many it may send at once after idling.
        public var perMinute: Double
        public var burst: Double

        public init(perMinute: Double, burst: Double) {
            self.perMinute = perMinute
            self.burst = burst
        }

        public static let standard = Rate(perMinute: 600, burst: 60)
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private struct State {
        var keys: [String]
        var rate: Rate
        /// Index in `keys`, or `keys.count` for the shared anonymous bucket.
        var buckets: [Int: Bucket] = [:]
    }

    private let state: Mutex<State>
    /// Seconds on a monotonic clock; injected so tests drive the buckets with a manual clock.
    private let now: @Sendable () -> Double

    public init(keys: [String], rate: Rate = .standard, now: @escaping @Sendable () -> Double = APIAccess.monotonicSeconds) {
        state = Mutex(State(keys: keys, rate: rate))
        self.now = now
    }

    public static func monotonicSeconds() -> Double {
        let d = ContinuousClock.now - ContinuousClock.Instant.zeroReference
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Replaces the keys and rate (a SIGHUP reload); buckets start full again.
    public func reload(keys: [String], rate: Rate) {
        state.withLock { $0 = State(keys: keys, rate: rate) }
    }

    public var requiresKey: Bool { state.withLock { !$0.keys.isEmpty } }

    /// Checks the `Authorization` header and takes one request from its bucket.
    public func admit(authorization: String?) throws(OpenAIError) {
        let t = now()
        let result: Result<Void, OpenAIError> = state.withLock { s in
            let slot: Int
            if s.keys.isEmpty {
                slot = 0
            } else {
                let presented = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
                var match = -1
                for (i, key) in s.keys.enumerated() where constantTimeEqual(presented, key) && match < 0 { match = i }
                guard match >= 0 else { return .failure(.unauthorized) }
                slot = match
            }
            var bucket = s.buckets[slot] ?? Bucket(tokens: s.rate.burst, updated: t)
            bucket.tokens = min(s.rate.burst, bucket.tokens + max(0, t - bucket.updated) * s.rate.perMinute / 60)
            bucket.updated = t
            guard bucket.tokens >= 1 else {
                s.buckets[slot] = bucket
                let wait = (1 - bucket.tokens) * 60 / max(s.rate.perMinute, 1e-9)
                return .failure(.rateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up)))))
            }
            bucket.tokens -= 1
            s.buckets[slot] = bucket
            return .success(())
        }
        try result.get()
    }
}

extension ContinuousClock.Instant {
    /// A fixed origin for turning instants into seconds.
    fileprivate static let zeroReference = ContinuousClock.now
}
