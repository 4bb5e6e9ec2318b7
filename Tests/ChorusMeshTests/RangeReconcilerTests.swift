import ChorusCrypto
import Testing
@testable import ChorusMesh

@Suite struct RangeReconcilerTests {
    /// Runs the protocol between two in-memory sets until quiet; returns the final sets and rounds.
    func reconcile(_ a: [SyncScope: Set<Bytes32>], _ b: [SyncScope: Set<Bytes32>]) -> (Set<Bytes32>, Set<Bytes32>, Int, Int) {
        var sets = [a, b]
        let r = RangeReconciler()
        func sorted(_ s: [SyncScope: Set<Bytes32>]) -> [SyncScope: [Bytes32]] { s.mapValues { $0.sorted() } }
        var items = r.start(scopes: Array(Set(a.keys).union(b.keys)), local: sorted(sets[0]))
        var side = 1, rounds = 0, itemsSent = items.count
        while !items.isEmpty {
            rounds += 1
            precondition(rounds < 100)
            let (reply, missing) = r.respond(to: items, local: sorted(sets[side]))
            // "Fetch": the other side has these ids, so copy them over.
            for (scope, ids) in missing { sets[side][scope, default: []].formUnion(ids) }
            items = reply
            itemsSent += reply.count
            side = 1 - side
        }
        let flat = sets.map { $0.values.reduce(into: Set<Bytes32>()) { $0.formUnion($1) } }
        return (flat[0], flat[1], rounds, itemsSent)
    }

    func ids(_ range: Range<Int>, salt: UInt8 = 0) -> Set<Bytes32> {
        Set(range.map { Blake2b.hash256([salt, UInt8($0 & 0xff), UInt8($0 >> 8)]) })
    }

    let scope = SyncScope(topic: "poc-commit", epoch: 3)

    /// Like `reconcile`, but every round goes through the wire: items are split into messages with
    /// `SyncMessage.reconcileMessages` and each must decode (a message a peer refuses would get the
    /// sender banned). `initiatorScopes` are the scopes the initiator lists (its own, as the node does).
    func reconcileOverTheWire(_ a: [SyncScope: Set<Bytes32>], _ b: [SyncScope: Set<Bytes32>]) throws -> (Set<Bytes32>, Set<Bytes32>, messages: Int) {
        var sets = [a, b]
        let r = RangeReconciler()
        func sorted(_ s: [SyncScope: Set<Bytes32>]) -> [SyncScope: [Bytes32]] { s.mapValues { $0.sorted() } }
        var messages = 0
        func overTheWire(_ items: [ReconcileItem]) throws -> [ReconcileItem] {
            var out: [ReconcileItem] = []
            for message in SyncMessage.reconcileMessages(items) {
                let bytes = message.encoded()
                #expect(bytes.count <= (1 << 20) + 4096)
                guard case let .reconcile(decoded) = try SyncMessage(decoding: bytes[...], maxStatement: 1 << 20) else {
                    Issue.record("not a reconcile message")
                    continue
                }
                messages += 1
                out += decoded
            }
            return out
        }
        var items = try overTheWire(r.start(scopes: Array(a.keys), local: sorted(sets[0])))
        var side = 1, rounds = 0
        while !items.isEmpty {
            rounds += 1
            precondition(rounds < 100)
            let (reply, missing) = r.respond(to: items, local: sorted(sets[side]))
            for (scope, ids) in missing { sets[side][scope, default: []].formUnion(ids) }
            items = try overTheWire(reply)
            side = 1 - side
        }
        let flat = sets.map { $0.values.reduce(into: Set<Bytes32>()) { $0.formUnion($1) } }
        return (flat[0], flat[1], messages)
    }

    /// A peer pushed 4,200 valid statements in 4,200 epochs to A: A's reconcile carried 4,200 items,
    /// more than a message may, and B banned A for it. Now A sends several messages.
    @Test func moreScopesThanOneMessageHoldsAreSentInSeveralMessages() throws {
        var many: [SyncScope: Set<Bytes32>] = [:]
        for epoch in 0..<4200 { many[SyncScope(topic: "text", epoch: UInt64(epoch))] = ids(epoch..<(epoch + 1), salt: 3) }
        let (a, b, messages) = try reconcileOverTheWire(many, [:])
        #expect(a == b && a.count == 4200)
        #expect(messages >= 2)
    }

    /// 5,000 statements in one scope: answering a newcomer's empty list once listed all 5,000 ids in
    /// one item (over the 4,096 a message may carry) and the newcomer banned the honest node.
    @Test func aScopeLargerThanOneMessageReconcilesWithAnEmptyPeer() throws {
        let big = ids(0..<5000, salt: 4)
        let (a, b, _) = try reconcileOverTheWire([scope: big], [scope: []])
        #expect(a == b && a.count == 5000)
        let (c, d, _) = try reconcileOverTheWire([scope: []], [scope: big])
        #expect(c == d && c.count == 5000)
    }

    @Test func equalSetsFinishInOneRound() {
        let s = ids(0..<1000)
        let (a, b, rounds, _) = reconcile([scope: s], [scope: s])
        #expect(a == b)
        #expect(rounds == 1)
    }

    @Test func smallDifferencesConvergeWithLittleTraffic() {
        let common = ids(0..<5000)
        let onlyA = ids(0..<3, salt: 1), onlyB = ids(0..<4, salt: 2)
        let (a, b, rounds, items) = reconcile([scope: common.union(onlyA)], [scope: common.union(onlyB)])
        #expect(a == b)
        #expect(a.count == 5007)
        #expect(rounds <= 8)
        #expect(items < 500)  // far less than listing 5000 ids
    }

    @Test func disjointAndEmptySetsConverge() {
        let (a, b, _, _) = reconcile([scope: ids(0..<300, salt: 5)], [scope: []])
        #expect(a == b && a.count == 300)
        let (c, d, _, _) = reconcile([:], [scope: ids(0..<40, salt: 6)])
        #expect(c == d && c.count == 40)
    }

    @Test func severalScopesReconcileIndependently() {
        let s2 = SyncScope(topic: "vote", epoch: 3)
        let (a, b, _, _) = reconcile([scope: ids(0..<100), s2: ids(0..<50, salt: 9)],
                                     [scope: ids(0..<120), s2: ids(10..<60, salt: 9)])
        #expect(a == b)
        #expect(a.count == 120 + 60)
    }

    @Test func fingerprintDependsOnEveryID() {
        let s = ids(0..<20).sorted()
        var t = s
        t[7] = Blake2b.hash256([0xff])
        #expect(RangeReconciler.fingerprint(s[...]) != RangeReconciler.fingerprint(t.sorted()[...]))
    }

    @Test func syncThrottleAllowsABurstThenTheRateAndForgetsOldPeers() {
        var t = SyncThrottle(burst: 4, perSecond: 2, maxPeers: 2)
        let a = Ed25519.SigningKey.generate().publicKey, b = Ed25519.SigningKey.generate().publicKey
        let c = Ed25519.SigningKey.generate().publicKey
        func allowed(_ peer: Ed25519.PublicKey, _ tries: Int, at seconds: Double) -> Int {
            var n = 0
            for _ in 0..<tries where t.allow(peer, now: .seconds(seconds)) { n += 1 }
            return n
        }
        #expect(allowed(a, 10, at: 1) == 4)
        #expect(allowed(a, 1, at: 1.2) == 0)
        #expect(allowed(a, 1, at: 1.6) == 1)  // 0.6 s at 2/s refilled one
        #expect(allowed(b, 1, at: 2) == 1)    // another peer has its own bucket
        #expect(allowed(c, 1, at: 3) == 1)    // a third evicts the longest unused (a)...
        #expect(allowed(a, 10, at: 3) == 4)   // ...which starts afresh
    }
}
