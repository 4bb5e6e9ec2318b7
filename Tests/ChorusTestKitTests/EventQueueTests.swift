import ChorusCrypto
import ChorusMesh
import ChorusTestKit
import Testing

@Suite struct EventQueueTests {
    @Test func popsByTimeThenByInsertionOrder() {
        var q = EventQueue<String>()
        q.push("c", at: .seconds(2))
        q.push("a1", at: .seconds(1))
        q.push("d", at: .seconds(3))
        q.push("a2", at: .seconds(1))
        q.push("b", at: .seconds(1.5))
        q.push("a3", at: .seconds(1))
        var order: [String] = []
        while let (_, p) = q.pop() { order.append(p) }
        #expect(order == ["a1", "a2", "a3", "b", "c", "d"])
    }

    @Test func matchesASortedReferenceOnRandomInput() {
        var q = EventQueue<Int>()
        var g = SplitMix64(seed: 99)
        var reference: [(UInt64, Int)] = []
        for i in 0..<2000 {
            let t = g.next() % 50
            q.push(i, at: MonotonicTime(nanoseconds: t))
            reference.append((t, i))
            if i % 3 == 0, let (time, payload) = q.pop() {
                let best = reference.indices.min { reference[$0] < reference[$1] }!
                #expect(reference[best] == (time.nanoseconds, payload))
                reference.remove(at: best)
            }
        }
        reference.sort { $0 < $1 }
        var rest: [(UInt64, Int)] = []
        while let (time, payload) = q.pop() { rest.append((time.nanoseconds, payload)) }
        #expect(rest.map(\.0) == reference.map(\.0) && rest.map(\.1) == reference.map(\.1))
    }
}
