import ChorusCrypto
import ChorusWire
import Testing
@testable import ChorusMesh

/// Which peer records the address book takes: verified, newer, on this network, not from the
/// future, and without private addresses unless the network allows them.
@Suite struct PeerRecordBookTests {
    static let me = PeerRecordTests.key(100)
    static let alice = PeerRecordTests.key(101)
    static let now: UInt64 = 1_767_225_600_000

    func book(allowPrivate: Bool = false, capacity: Int = 4096) -> PeerRecordBook {
        var settings = PeerRecordBook.Settings(networkID: "chorus-test", allowPrivateAddresses: allowPrivate)
        settings.capacity = capacity
        return PeerRecordBook(localIdentity: Self.me.publicKey, settings: settings)
    }

    func record(_ key: Ed25519.SigningKey = alice, seq: UInt64, address: String = "203.0.113.9:7700",
                network: String = "chorus-test", issuedAt: UInt64 = now) throws -> PeerRecord {
        try PeerRecord(signingWith: key, networkID: network, seq: seq, issuedAtMs: issuedAt, role: .full,
                       addresses: [try NetAddress(parsing: address)], models: ["m"])
    }

    @Test func newerRecordsReplaceOlderOnesAndReplaysAreStale() throws {
        var b = book()
        #expect(b.consider(try record(seq: 5), nowMs: Self.now) == .accepted(replaced: nil))
        #expect(b.consider(try record(seq: 5), nowMs: Self.now) == .stale(held: 5))   // replayed
        #expect(b.consider(try record(seq: 4, address: "198.51.100.1:1"), nowMs: Self.now) == .stale(held: 5))  // older
        #expect(b.record(for: Self.alice.publicKey)?.addresses.map(\.description) == ["203.0.113.9:7700"])
        #expect(b.consider(try record(seq: 6, address: "198.51.100.1:1"), nowMs: Self.now) == .accepted(replaced: 5))
        #expect(b.record(for: Self.alice.publicKey)?.seq == 6)
    }

    @Test func forgedRecordsAreRefusedEvenWhenTheyWouldBeStale() throws {
        var b = book()
        _ = b.consider(try record(seq: 5), nowMs: Self.now)
        // A relay rewrites the address and the seq of alice's record; the signature no longer fits.
        let genuine = try record(seq: 7)
        var bytes = genuine.encoded()
        let seqOffset = 1 + 4 + "chorus-test".utf8.count + 32
        bytes[seqOffset] = 0xff
        let tampered = try PeerRecord(decoding: bytes[...])
        #expect(b.consider(tampered, nowMs: Self.now) == .forged)
        // Signed by someone else under alice's key: forged too, and it does not replace her record.
        let mallory = PeerRecordTests.key(66)
        let impostor = try PeerRecord(decoding: {
            var w = WireWriter()
            w.writeRaw(genuine.signedBody)
            w.writeSignature(mallory.sign(PeerRecord.signingDomain + genuine.signedBody))
            return w.bytes
        }()[...])
        #expect(b.consider(impostor, nowMs: Self.now) == .forged)
        #expect(b.record(for: Self.alice.publicKey)?.seq == 5)
    }

    @Test func privateAndLoopbackAddressesOnlyWhereTheNetworkAllowsThem() throws {
        for address in ["127.0.0.1:7700", "10.1.2.3:7700", "192.168.1.1:7700", "[0:0:0:0:0:0:0:1]:7700"] {
            var strict = book(allowPrivate: false)
            #expect(strict.consider(try record(seq: 1, address: address), nowMs: Self.now) == .privateAddress, "\(address)")
            #expect(strict.count == 0)
            var devnet = book(allowPrivate: true)
            #expect(devnet.consider(try record(seq: 1, address: address), nowMs: Self.now) == .accepted(replaced: nil), "\(address)")
        }
    }

    @Test func otherNetworksFutureRecordsAndOwnRecordAreNotFiled() throws {
        var b = book()
        #expect(b.consider(try record(seq: 1, network: "chorus-other"), nowMs: Self.now) == .wrongNetwork)
        #expect(b.consider(try record(seq: 1, issuedAt: Self.now + 11 * 60 * 1000), nowMs: Self.now) == .fromTheFuture)
        #expect(b.consider(try record(seq: 1, issuedAt: Self.now + 9 * 60 * 1000), nowMs: Self.now) == .accepted(replaced: nil))
        #expect(b.consider(try record(Self.me, seq: 1), nowMs: Self.now) == .own)
        #expect(b.count == 1)
    }

    @Test func aFullBookDropsTheRecordSignedLongestAgo() throws {
        var b = book(capacity: 3)
        for i in 0..<4 {
            let key = PeerRecordTests.key(UInt8(10 + i))
            #expect(b.consider(try record(key, seq: 1, issuedAt: Self.now + UInt64(i)), nowMs: Self.now) == .accepted(replaced: nil))
        }
        #expect(b.count == 3)
        #expect(b.record(for: PeerRecordTests.key(10).publicKey) == nil)
        #expect(b.record(for: PeerRecordTests.key(13).publicKey) != nil)
    }
}
