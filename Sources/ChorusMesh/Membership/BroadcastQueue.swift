import ChorusCrypto

/// Membership updates waiting to be disseminated, at most one per member (a newer update about a
/// member replaces the older one), each sent a bounded number of times (memberlist's transmit-limited
/// queue). The least-sent updates go first, the most recently queued first among equals, so fresh
/// news spreads before old news is repeated.
///
/// Entries sit in one stack per transmission count, and a replaced entry is only skipped when met
/// (its member's current order no longer matches), so enqueueing and taking cost O(1) per update
/// even when a partition puts hundreds of updates in flight at once.
struct BroadcastQueue: Sendable {
    private struct Entry: Sendable {
        let update: MemberUpdate
        let order: UInt64
    }

    /// `stacks[t]`: entries sent `t` times so far, most recently pushed last.
    private var stacks: [[Entry]] = [[]]
    /// The order of each member's current entry; entries with another order are stale.
    private var current: [Ed25519.PublicKey: UInt64] = [:]
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { current.isEmpty }
    var count: Int { current.count }

    mutating func enqueue(_ update: MemberUpdate) {
        current[update.member] = nextOrder
        stacks[0].append(Entry(update: update, order: nextOrder))
        nextOrder += 1
    }

    /// Up to `max` updates for one message; each counts as one transmission and is dropped after `limit`.
    mutating func take(max: Int, limit: Int) -> [MemberUpdate] {
        guard max > 0, !current.isEmpty else { return [] }
        var out: [MemberUpdate] = []
        var promoted: [(Entry, Int)] = []
        var t = 0
        while out.count < max, t < stacks.count {
            while out.count < max, let entry = stacks[t].popLast() {
                guard current[entry.update.member] == entry.order else { continue }
                out.append(entry.update)
                if t + 1 >= limit {
                    current[entry.update.member] = nil
                } else {
                    promoted.append((entry, t + 1))
                }
            }
            t += 1
        }
        // Promoted after the loop, so no update goes twice into one message.
        for (entry, sent) in promoted {
            while stacks.count <= sent { stacks.append([]) }
            stacks[sent].append(entry)
        }
        if current.isEmpty { stacks = [[]] }  // drop stale leftovers
        return out
    }
}
