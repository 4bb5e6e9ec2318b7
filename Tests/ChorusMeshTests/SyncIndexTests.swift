import ChorusCrypto
import Testing
@testable import ChorusMesh

/// The in-memory index anti-entropy reconciles from: sorted ids per scope, a cached whole-scope
/// fingerprint, and a bound that drops whole scopes, least important first.
@Suite struct SyncIndexTests {
    static func id(_ n: Int) -> Bytes32 { Blake2b.hash256(Array("id-\(n)".utf8)) }

    @Test func insertsInAnyOrderAndReadsSortedUnique() {
        var index = SyncIndex(capacity: 1000)
        let scope = SyncScope(topic: "text", epoch: 3)
        var rng = SplitMix64(seed: 5)
        let ids = (0..<200).map(Self.id)
        let inserted = ids.shuffled(using: &rng).map { index.insert($0, into: scope) }
        #expect(inserted.allSatisfy { $0 })
        let sorted = index.ids(of: scope)
        #expect(sorted == ids.sorted())
        // Some again, some new while others are still unsorted.
        let again = ids.prefix(100).map { index.insert($0, into: scope) }
        #expect(again.allSatisfy { !$0 })
        for n in 200..<210 { index.insert(Self.id(n), into: scope) }
        let repeated = index.insert(Self.id(205), into: scope)
        #expect(!repeated)
        let all = index.ids(of: scope)
        #expect(all == (0..<210).map(Self.id).sorted())
        #expect(index.count == 210 && index.count(of: scope) == 210)
        #expect(index.contains(Self.id(7), in: scope) && !index.contains(Self.id(7), in: SyncScope(topic: "text", epoch: 4)))
    }

    @Test func summaryIsTheReconcilersFingerprintAndFollowsChanges() {
        var index = SyncIndex(capacity: 1000)
        let scope = SyncScope(topic: "vote", epoch: 1)
        for n in 0..<50 { index.insert(Self.id(n), into: scope) }
        let first = index.summary(of: scope)
        #expect(first.count == 50)
        #expect(first.fingerprint == RangeReconciler.fingerprint((0..<50).map(Self.id).sorted()[...]))
        index.insert(Self.id(50), into: scope)
        let second = index.summary(of: scope)
        #expect(second.count == 51 && second.fingerprint == RangeReconciler.fingerprint((0...50).map(Self.id).sorted()[...]))
        let none = index.summary(of: SyncScope(topic: "none", epoch: 0))
        #expect(none.count == 0)
    }

    @Test func aFullIndexDropsOtherTopicsFirstThenOlderEpochs() {
        var index = SyncIndex(capacity: 100, priorityTopics: ["vote"])
        let votesOld = SyncScope(topic: "vote", epoch: 1), votesNew = SyncScope(topic: "vote", epoch: 5)
        let textNew = SyncScope(topic: "text", epoch: 5), textOld = SyncScope(topic: "text", epoch: 2)
        for n in 0..<30 { index.insert(Self.id(n), into: votesOld) }
        for n in 30..<60 { index.insert(Self.id(n), into: votesNew) }
        for n in 60..<80 { index.insert(Self.id(n), into: textOld) }
        for n in 80..<100 { index.insert(Self.id(n), into: textNew) }
        #expect(index.count == 100 && index.dropped.isEmpty)
        // One more: the oldest scope of a non-priority topic goes, whole.
        do { let r = index.insert(Self.id(100), into: textNew); #expect(r) }
        #expect(index.dropped == [textOld] && index.count == 81)
        do { let r = index.insert(Self.id(101), into: textOld); #expect(!r) }  // a dropped scope takes nothing
        // Priority scopes give way only when nothing else is left.
        for n in 200..<240 { index.insert(Self.id(n), into: votesNew) }
        #expect(index.dropped == [textOld, textNew])
        #expect(index.count <= index.capacity)
        for n in 300..<320 { index.insert(Self.id(n), into: votesNew) }
        #expect(index.dropped.contains(votesOld) && index.count == 90 && index.heldScopes == [votesNew])
        #expect(index.scopesDropped == 3)
        // Whatever happened, what is held never passes the capacity.
        #expect(index.count == index.heldScopes.reduce(0) { $0 + index.count(of: $1) })
    }

    @Test func loadTakesWholeScopesThatFitAndRemoveForgetsThem() {
        var index = SyncIndex(capacity: 10)
        let a = SyncScope(topic: "text", epoch: 1), b = SyncScope(topic: "text", epoch: 2), c = SyncScope(topic: "vote", epoch: 2)
        do { let r = index.load((0..<6).map(Self.id).sorted(), into: a); #expect(r) }
        do { let r = index.load((10..<15).map(Self.id).sorted(), into: b); #expect(!r) }  // 11 > 10: dropped unread
        do { let r = index.load((20..<24).map(Self.id).sorted(), into: c); #expect(r) }
        #expect(index.count == 10 && index.isDropped(b))
        let removed = index.remove { $0.epoch < 2 }
        #expect(removed == 6)
        #expect(index.count == 4 && index.heldScopes == [c] && index.isDropped(b))
        index.remove { $0.epoch == 2 }
        #expect(index.count == 0 && index.dropped.isEmpty)
        do { let r = index.insert(Self.id(10), into: b); #expect(r) }  // forgotten, so indexed again
    }
}
