import ChorusMesh

/// A min-heap of timed events, ordered by time and then by insertion sequence, so events scheduled
/// for the same instant run in the order they were scheduled: the simulator's one source of order.
///
/// The heap itself holds only plain keys (time, sequence, slot); payloads stay put in a slot array,
/// so sifting never copies them (which matters for debug builds of large simulations).
public struct EventQueue<Payload> {
    private struct Key {
        let time: UInt64
        let sequence: UInt64
        let slot: Int

        func precedes(_ other: Key) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    private var heap: [Key] = []
    private var slots: [Payload?] = []
    private var freeSlots: [Int] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// The time of the earliest event.
    public var nextTime: MonotonicTime? { heap.first.map { MonotonicTime(nanoseconds: $0.time) } }

    public mutating func push(_ payload: Payload, at time: MonotonicTime) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = payload
        } else {
            slot = slots.count
            slots.append(payload)
        }
        heap.append(Key(time: time.nanoseconds, sequence: nextSequence, slot: slot))
        nextSequence += 1
        var child = heap.count - 1
        let key = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard key.precedes(heap[parent]) else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = key
    }

    /// Removes and returns the earliest event.
    public mutating func pop() -> (time: MonotonicTime, payload: Payload)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var child = left
                if left + 1 < count, heap[left + 1].precedes(heap[left]) { child = left + 1 }
                guard heap[child].precedes(last) else { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = last
        }
        guard let payload = slots[top.slot].take() else { return nil }
        freeSlots.append(top.slot)
        return (MonotonicTime(nanoseconds: top.time), payload)
    }
}
