import ChorusCrypto

/// Membership updates waiting to be disseminated, at most one per member (a newer update about a
/// member replaces the older one), each sent a bounded number of times (memberlist's transmit-limited
/// queue). When more are waiting than fit in a message, the least-sent go first, newest first among
/// equals, so fresh news spreads before old news is repeated.
struct BroadcastQueue: Sendable {
    private struct Entry: Sendable {
        var update: MemberUpdate
        var transmits: Int
        let order: UInt64
    }

    /// In enqueue order (a deterministic order for messages that carry every entry).
    private var entries: [Entry] = []
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    mutating func enqueue(_ update: MemberUpdate) {
        entries.removeAll { $0.update.member == update.member }
        entries.append(Entry(update: update, transmits: 0, order: nextOrder))
        nextOrder += 1
    }

    /// Up to `max` updates for one message; each counts as one transmission and is dropped after `limit`.
    mutating func take(max: Int, limit: Int) -> [MemberUpdate] {
        guard max > 0, !entries.isEmpty else { return [] }
        var chosen = Array(entries.indices)
        if entries.count > max {
            chosen.sort { a, b in
                let x = entries[a], y = entries[b]
                return x.transmits != y.transmits ? x.transmits < y.transmits : x.order > y.order
            }
            chosen.removeLast(chosen.count - max)
        }
        var out: [MemberUpdate] = []
        out.reserveCapacity(chosen.count)
        var spent: [Int] = []
        for i in chosen {
            out.append(entries[i].update)
            entries[i].transmits += 1
            if entries[i].transmits >= limit { spent.append(i) }
        }
        for i in spent.sorted(by: >) { entries.remove(at: i) }
        return out
    }
}
