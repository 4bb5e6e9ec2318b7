import ChorusCrypto

/// How many reconcile messages each peer may make this node answer: a token bucket per peer.
/// Answering one reads the local scopes and their ids, so a peer sending reconciles as fast as it
/// can (241 messages of 22 KB in 21 s once took 96 % of a core and slowed the control socket from
/// 0.1 to 1.5 s) is throttled; the excess is dropped and counted, never treated as misbehaviour
/// (a correct peer's round is a few messages every 30 s, far below the rate).
///
/// Pure: time comes in. At most `maxPeers` buckets are kept; the one used longest ago makes room.
public struct SyncThrottle: Sendable {
    public var burst: Double
    public var perSecond: Double
    public let maxPeers: Int
    private var buckets: [Ed25519.PublicKey: (tokens: Double, at: MonotonicTime)] = [:]

    public init(burst: Double = 64, perSecond: Double = 4, maxPeers: Int = 1024) {
        self.burst = burst
        self.perSecond = perSecond
        self.maxPeers = maxPeers
    }

    /// Takes one token for `peer`; false when its bucket is empty.
    public mutating func allow(_ peer: Ed25519.PublicKey, now: MonotonicTime) -> Bool {
        var bucket = buckets[peer] ?? (burst, now)
        let elapsed = Double(now.since(bucket.at).nanoseconds) / 1e9
        bucket = (min(burst, bucket.tokens + elapsed * perSecond), now)
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        if buckets[peer] == nil, buckets.count >= maxPeers,
           let oldest = buckets.min(by: { $0.value.at < $1.value.at })?.key {
            buckets[oldest] = nil
        }
        buckets[peer] = bucket
        return allowed
    }

    /// Forgets a peer (its session closed).
    public mutating func forget(_ peer: Ed25519.PublicKey) { buckets[peer] = nil }
}
