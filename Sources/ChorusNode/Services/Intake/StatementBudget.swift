import ChorusCrypto
import ChorusMesh

/// How many bytes of statements the node stores for authors who hold no weight: a token bucket per
/// author and one shared by all of them. A fresh key once had 60 statements of 1 MiB stored and
/// forwarded by every node in 6 s; now such an author gets `authorBurst` and then `authorPerSecond`,
/// and all weightless authors together `sharedBurst`, then `sharedPerSecond` (minting keys does not
/// multiply the shared budget). Participants of the last final table are not budgeted: their
/// statements decide tables, so every node must take the same ones, and they have weight at stake.
///
/// A statement over budget is ignored (not stored, not forwarded, not held against the relaying
/// peer: an honest relay may have taken it within its own budget). The intake checks and charges a
/// statement only after its signature verified and just before committing it, one statement at a
/// time on the loop: a forged statement cannot drain an author's budget, and a sync batch cannot
/// overrun it between checks. (Verifying first costs an Ed25519 check per over-budget statement;
/// the verification pool's per-peer share bounds that work.)
/// Pure: time comes in. At most `maxAuthors` buckets; the longest unused makes room.
struct StatementBudget {
    var authorBurst = 1 << 20
    var authorPerSecond = 16 << 10
    var sharedBurst = 16 << 20
    var sharedPerSecond = 256 << 10
    var maxAuthors = 4096
    private var authors: [Ed25519.PublicKey: Bucket] = [:]
    private var shared: Bucket?

    struct Bucket {
        var bytes: Double
        var at: MonotonicTime

        mutating func refill(burst: Int, perSecond: Int, now: MonotonicTime) {
            bytes = min(Double(burst), bytes + Double(now.since(at).nanoseconds) / 1e9 * Double(perSecond))
            at = now
        }
    }

    /// Whether `author` may have `size` more bytes stored now.
    mutating func allows(_ author: Ed25519.PublicKey, size: Int, now: MonotonicTime) -> Bool {
        var mine = authors[author] ?? Bucket(bytes: Double(authorBurst), at: now)
        mine.refill(burst: authorBurst, perSecond: authorPerSecond, now: now)
        var all = shared ?? Bucket(bytes: Double(sharedBurst), at: now)
        all.refill(burst: sharedBurst, perSecond: sharedPerSecond, now: now)
        shared = all
        if authors[author] != nil { authors[author] = mine }
        return mine.bytes >= Double(size) && all.bytes >= Double(size)
    }

    /// Charges a stored statement of `size` bytes to `author`.
    mutating func charge(_ author: Ed25519.PublicKey, size: Int, now: MonotonicTime) {
        var mine = authors[author] ?? Bucket(bytes: Double(authorBurst), at: now)
        mine.refill(burst: authorBurst, perSecond: authorPerSecond, now: now)
        mine.bytes -= Double(size)
        if authors[author] == nil, authors.count >= maxAuthors,
           let oldest = authors.min(by: { $0.value.at < $1.value.at })?.key {
            authors[oldest] = nil
        }
        authors[author] = mine
        var all = shared ?? Bucket(bytes: Double(sharedBurst), at: now)
        all.refill(burst: sharedBurst, perSecond: sharedPerSecond, now: now)
        all.bytes -= Double(size)
        shared = all
    }

    var trackedAuthors: Int { authors.count }
}
