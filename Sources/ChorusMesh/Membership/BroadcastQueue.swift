import ChorusCrypto

/// Membership updates waiting to be disseminated, at most one per member (a newer update about a
/// member replaces the older one), each sent a bounded number of times (memberlist's transmit-limited
/// queue). The least-sent updates go first, newest first among equals, so fresh news spreads before
/// old news is repeated.
struct BroadcastQueue: Sendable {
    private struct Entry: Sendable {
        var update: MemberUpdate
        var transmits: Int
        let order: UInt64
    }

    private var entries: [Ed25519.PublicKey: Entry] = [:]
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    mutating func enqueue(_ update: MemberUpdate) {
        entries[update.member] = Entry(update: update, transmits: 0, order: nextOrder)
        nextOrder += 1
    }

    /// Up to `max` updates for one message; each counts as one transmission and is dropped after `limit`.
    mutating func take(max: Int, limit: Int) -> [MemberUpdate] {
        guard max > 0, !entries.isEmpty else { return [] }
        let chosen = entries.values.sorted {
            $0.transmits != $1.transmits ? $0.transmits < $1.transmits : $0.order > $1.order
        }.prefix(max)
        var out: [MemberUpdate] = []
        out.reserveCapacity(chosen.count)
        for entry in chosen {
            out.append(entry.update)
            if entry.transmits + 1 >= limit {
                entries[entry.update.member] = nil
            } else {
                entries[entry.update.member]?.transmits += 1
            }
        }
        return out
    }
}
