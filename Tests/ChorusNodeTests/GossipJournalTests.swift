import ChorusCrypto
import ChorusMesh
import Testing
@testable import ChorusNode

/// The journal behind `chorus messages` and `chorus trace` is bounded whatever peers send.
@Suite struct GossipJournalTests {
    /// One valid statement in 64 copies per RPC, resent for 10 s, once grew one trace to a gigabyte.
    @Test func aTraceKeepsEachPeersFirstCopyAndAtMost64() {
        var journal = GossipJournal()
        let id = Blake2b.hash256([1])
        let peers = (0..<100).map { _ in Ed25519.SigningKey.generate().publicKey }
        for copy in 0..<10_000 { journal.received(id, from: peers[copy % 3], at: UInt64(copy)) }
        #expect(journal.trace(id)?.count == 3)
        #expect(journal.trace(id)?.first?.first == true)
        for (k, peer) in peers.enumerated() { journal.received(id, from: peer, at: UInt64(20_000 + k)) }
        #expect(journal.trace(id)?.count == GossipJournal.maxReceiptsPerMessage)
    }

    @Test func deliveriesOfATopicKeepAtMost32MiBOfData() {
        var journal = GossipJournal()
        for k in 0..<100 {
            let message = GossipMessage(topic: "statements", payload: [UInt8(k)] + [UInt8](repeating: 0x61, count: 1 << 20))
            journal.delivered(message, from: nil, at: UInt64(k))
        }
        let kept = journal.messages(topic: "statements", since: 0, limit: 10_000)
        #expect(kept.reduce(0) { $0 + $1.data.utf8.count } <= GossipJournal.maxDeliveryBytesPerTopic)
        #expect(kept.count >= 30 && kept.last?.index == 99)
    }
}
