import Testing
@testable import ChorusNode

@Suite struct SendQueueTests {
    @Test func drainsByPriorityThenFIFO() {
        var queue = SendQueue(limits: .default)
        queue.enqueue([3], priority: .lazy)
        queue.enqueue([2, 1], priority: .forward)
        queue.enqueue([2, 2], priority: .forward)
        queue.enqueue([0], priority: .control)
        queue.enqueue([1], priority: .publish)
        var order: [[UInt8]] = []
        while let (message, _) = queue.dequeue() { order.append(message) }
        #expect(order == [[0], [1], [2, 1], [2, 2], [3]])
        #expect(queue.isEmpty && queue.byteCount == 0)
    }

    @Test func boundsEachPriorityAndCountsDrops() {
        var queue = SendQueue(limits: .init(bytes: [.control: 10, .publish: 10, .forward: 4, .lazy: 0]))
        let accepted = [
            queue.enqueue([1, 2, 3, 4], priority: .forward),
            queue.enqueue([5], priority: .forward),
            queue.enqueue([1], priority: .lazy),
            queue.enqueue([UInt8](repeating: 0, count: 10), priority: .control),
        ]
        #expect(accepted == [true, false, false, true])
        #expect(queue.drops == [.forward: 1, .lazy: 1])
        #expect(queue.totalDrops == 2)
        _ = queue.dequeue()
        _ = queue.dequeue()
        let again = queue.enqueue([5], priority: .forward)
        #expect(again)
    }

    @Test func longQueuesCompactWithoutLosingOrder() {
        var queue = SendQueue(limits: .init(bytes: [.control: 1 << 20, .publish: 0, .forward: 0, .lazy: 0]))
        for i in 0..<5000 { queue.enqueue([UInt8(i & 0xff), UInt8(i >> 8)], priority: .control) }
        for i in 0..<5000 {
            let (message, _) = queue.dequeue()!
            #expect(message == [UInt8(i & 0xff), UInt8(i >> 8)])
        }
        #expect(queue.dequeue() == nil)
    }
}
