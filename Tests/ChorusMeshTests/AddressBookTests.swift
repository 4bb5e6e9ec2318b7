import ChorusCrypto
import Testing
@testable import ChorusMesh

@Suite struct AddressBookTests {
    let key = Blake2b.hash256([1, 2, 3])
    func a(_ s: String) -> NetAddress { try! NetAddress(parsing: s) }
    func host(_ s: String) -> NetAddress.Host { a(s + ":1").host }

    @Test func addGoodSelectRoundTrip() {
        var book = AddressBook(key: key)
        let added = book.add(a("1.2.3.4:4000"), identity: nil, source: host("9.9.9.9"), now: .zero)
        #expect(added)
        let feeler = book.good(a("1.2.3.4:4000"), identity: nil, now: .seconds(1))
        #expect(feeler == nil)
        #expect(book.entry(a("1.2.3.4:4000"))?.tried == true)
        var rng = SplitMix64(seed: 1)
        #expect(book.select(using: &rng, now: .seconds(2)) == a("1.2.3.4:4000"))
        #expect(book.select(using: &rng, now: .seconds(2), exclude: [a("1.2.3.4:4000")]) == nil)
    }

    @Test func oneSourceCannotFloodTheNewTable() {
        var book = AddressBook(key: key)
        var stored = 0
        for i in 0..<20_000 {
            let addr = a("44.\(i % 250).\(i / 250).1:4000")
            if book.add(addr, identity: nil, source: host("66.6.6.6"), now: .zero) { stored += 1 }
        }
        // One source group reaches at most newBucketsPerSourceGroup buckets × bucketSize slots.
        #expect(stored <= book.settings.newBucketsPerSourceGroup * book.settings.bucketSize)
    }

    @Test func triedCollisionTestsTheIncumbentBeforeEvicting() {
        var s = AddressBook.Settings()
        s.triedBuckets = 1; s.bucketSize = 1; s.triedBucketsPerGroup = 1
        let old = a("5.5.5.5:1"), newcomer = a("6.6.6.6:1")
        // One tried slot; a roomier new table so both addresses fit there.
        var roomy = AddressBook(key: key, settings: { var x = s; x.newBuckets = 64; x.bucketSize = 1; return x }())
        roomy.add(old, identity: nil, source: host("1.1.1.1"), now: .zero)
        roomy.good(old, identity: nil, now: .zero)
        roomy.add(newcomer, identity: nil, source: host("2.2.2.2"), now: .zero)
        let feeler = roomy.good(newcomer, identity: nil, now: .seconds(1))
        #expect(feeler == old)
        #expect(roomy.entry(old)?.tried == true)
        // The incumbent fails its test: the newcomer takes the slot.
        roomy.failed(old, now: .seconds(2))
        #expect(roomy.entry(newcomer)?.tried == true)
        #expect(roomy.entry(old) == nil)
    }

    @Test func persistsAndRestores() {
        var book = AddressBook(key: key)
        for i in 0..<50 { book.add(a("7.\(i).0.1:4000"), identity: nil, source: host("8.8.\(i).8"), now: .zero) }
        for i in 0..<10 { book.good(a("7.\(i).0.1:4000"), identity: nil, now: .seconds(1)) }
        let restored = AddressBook(key: key, restoring: book.entries)
        #expect(restored.entries == book.entries)
    }

    /// Eclipse resistance (Specs/targets.md T4): an attacker controlling 80 % of the book's
    /// entries from 4 /16 groups rarely owns all 8 outbound picks.
    @Test func attackerFromFewGroupsRarelyTakesAllOutboundSlots() {
        var book = AddressBook(key: key)
        var honest: Set<NetAddress> = []
        for i in 0..<250 {
            let addr = a("\(20 + i % 200).\(i / 200 + 1).\(i % 7).9:4000")
            if book.add(addr, identity: nil, source: host("\(20 + i % 200).1.1.1"), now: .zero) { honest.insert(addr) }
            if i % 2 == 0 { book.good(addr, identity: nil, now: .zero) }
        }
        for i in 0..<4000 {
            let g = i % 4
            book.add(a("250.\(g).\(i / 256 % 256).\(i % 256):4000"), identity: nil, source: host("250.\(g).0.1"), now: .zero)
        }
        var eclipsed = 0
        let trials = 400
        var rng = SplitMix64(seed: 99)
        for _ in 0..<trials {
            var picks: Set<NetAddress> = []
            while picks.count < 8, let p = book.select(using: &rng, now: .seconds(5), exclude: picks) { picks.insert(p) }
            if picks.allSatisfy({ !honest.contains($0) }) { eclipsed += 1 }
        }
        #expect(Double(eclipsed) / Double(trials) <= 0.01)
    }
}
