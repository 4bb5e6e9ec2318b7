import ChorusCrypto

/// The deadlines of running suspicions in a min-heap, so the next one is found in O(log n) even when
/// a partition makes hundreds of members suspect at once. Deletion is lazy: a changed deadline is
/// pushed again, and the owner drops entries that no longer match a suspicion when they surface.
struct SuspicionDeadlines: Sendable {
    private struct Entry: Sendable {
        let time: MonotonicTime
        let member: Ed25519.PublicKey

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : member < other.member
        }
    }

    private var heap: [Entry] = []

    var top: (time: MonotonicTime, member: Ed25519.PublicKey)? { heap.first.map { ($0.time, $0.member) } }

    mutating func push(_ time: MonotonicTime, _ member: Ed25519.PublicKey) {
        heap.append(Entry(time: time, member: member))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popTop() {
        guard !heap.isEmpty else { return }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < heap.count, heap[left].precedes(heap[first]) { first = left }
            if right < heap.count, heap[right].precedes(heap[first]) { first = right }
            if first == parent { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
