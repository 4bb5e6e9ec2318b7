import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

@Suite struct BeaconTests {
    typealias F = FixturesForTests

    @Test func commitmentsAndSeedsMatchVectors() throws {
        let v = try #require(try RepositoryPathsForTests.loadJSON("beacon.json") as? [String: Any])
        let network = try #require(v["network_id"] as? String)
        let epoch = try F.uint(v["epoch"])
        let previous = try F.hex(v["previous_table_digest"])
        for c in try #require(v["commitments"] as? [[String: Any]]) {
            let got = BeaconCommitBody.commitment(networkID: network, author: try F.hex(c["author"]), targetEpoch: epoch, reveal: try F.hex(c["reveal"]))
            #expect(got == (try F.hex(c["commitment"])))
        }
        for s in try #require(v["seeds"] as? [[String: Any]]) {
            let reveals = try (try #require(s["reveals"] as? [[String: Any]])).map { BeaconReveal(author: try F.hex($0["author"]), reveal: try F.hex($0["reveal"])) }
            let seed = try EpochSeed(networkID: network, epoch: epoch, previousTableDigest: previous, reveals: reveals)
            #expect(seed.value == (try F.hex(s["seed"])))
            let subs = try #require(s["sub_seeds"] as? [String: String])
            for purpose in SeedPurpose.allCases {
                #expect(seed.subSeed(purpose) == (try Bytes32(hex: try #require(subs[purpose.rawValue]))))
            }
            let windowSeeds = try #require(s["confirmation_window_seeds"] as? [String])
            for (w, hex) in windowSeeds.enumerated() {
                #expect(ConfirmationPoC.windowSeed(agreedSeed: seed, window: UInt32(w)) == (try Bytes32(hex: hex)))
            }
            // Order of the input does not matter; the seed sorts by author.
            #expect((try EpochSeed(networkID: network, epoch: epoch, previousTableDigest: previous, reveals: reveals.reversed())) == seed)
        }
    }

    func round() -> BeaconRound {
        var weights: [Bytes32: UInt64] = [:]
        for k in F.keys { weights[k.publicKey.raw] = 100 }
        return BeaconRound(networkID: "chorus-devnet", targetEpoch: 5, previousTableDigest: Blake2b.hash256([1]), votingWeights: weights)
    }

    func secret(_ i: Int) -> Bytes32 { Blake2b.hash256([UInt8(i), 9]) }

    func commit(_ i: Int, secret s: Bytes32? = nil, seq: UInt64 = 1) throws -> SignedStatement {
        let key = F.keys[i]
        let c = BeaconCommitBody.commitment(networkID: "chorus-devnet", author: key.publicKey.raw, targetEpoch: 5, reveal: s ?? secret(i))
        return try F.sign(BeaconCommitBody(targetEpoch: 5, commitment: c), key: key, epoch: 4, seq: seq)
    }

    func reveal(_ i: Int, secret s: Bytes32? = nil) throws -> SignedStatement {
        try F.sign(BeaconRevealBody(targetEpoch: 5, reveal: s ?? secret(i)), key: F.keys[i], epoch: 5, seq: 10)
    }

    @Test func revealsOpenCommitmentsAndNonRevealersAreRecorded() throws {
        var r = round()
        for i in 0..<5 { try r.addCommit(try commit(i)) }
        for i in 0..<3 { try r.addReveal(try reveal(i)) }
        #expect(r.revealed.count == 3)
        #expect(r.nonRevealers == [F.keys[3].publicKey.raw, F.keys[4].publicKey.raw].sorted())
        // A wrong secret does not open the commitment.
        #expect(throws: ProtocolError.self) { try r.addReveal(try reveal(3, secret: secret(99))) }
        // More than 1/3 of the weight (2 of 5) is a valid basis; 1 of 5 is not; an unrevealed author is not.
        let basis = [F.keys[0].publicKey.raw, F.keys[1].publicKey.raw]
        let seed = try r.seed(basis: basis, minShare: try Ratio(1, 3))
        #expect(seed == (try EpochSeed(networkID: "chorus-devnet", epoch: 5, previousTableDigest: Blake2b.hash256([1]), reveals: r.revealed.filter { basis.contains($0.author) })))
        #expect(throws: ProtocolError.self) { try r.seed(basis: [F.keys[0].publicKey.raw], minShare: try Ratio(1, 3)) }
        #expect(throws: ProtocolError.self) { try r.seed(basis: basis + [F.keys[4].publicKey.raw], minShare: try Ratio(1, 3)) }
        #expect(try r.seed() != seed)
    }

    @Test func wrongEpochsAndWeightlessAuthorsAreRefused() throws {
        var r = round()
        let outsider = F.key(42)
        let c = BeaconCommitBody.commitment(networkID: "chorus-devnet", author: outsider.publicKey.raw, targetEpoch: 5, reveal: secret(1))
        #expect(throws: ProtocolError.self) { try r.addCommit(try F.sign(BeaconCommitBody(targetEpoch: 5, commitment: c), key: outsider, epoch: 4, seq: 1)) }
        #expect(throws: ProtocolError.self) { try r.addCommit(try F.sign(BeaconCommitBody(targetEpoch: 5, commitment: c), key: F.keys[0], epoch: 5, seq: 1)) }
        #expect(throws: ProtocolError.self) { try r.addReveal(try reveal(0)) }  // no commitment yet
    }

    @Test func twoCommitmentsExcludeTheAuthor() throws {
        var r = round()
        try r.addCommit(try commit(0))
        try r.addCommit(try commit(0, secret: secret(50), seq: 2))
        #expect(r.equivocators == [F.keys[0].publicKey.raw])
        #expect(throws: ProtocolError.self) { try r.addReveal(try reveal(0)) }
        #expect(r.nonRevealers == [F.keys[0].publicKey.raw])
    }

    @Test func bodiesDecodeStrictly() throws {
        let body = BeaconCommitBody(targetEpoch: 9, commitment: Blake2b.hash256([3]))
        let bytes = body.encodedBytes()
        #expect(try BeaconCommitBody(decoding: bytes) == body)
        #expect(throws: WireError.self) { try BeaconCommitBody(decoding: bytes + [0]) }
        #expect(throws: WireError.self) { try BeaconCommitBody(decoding: Array(bytes.dropLast())) }
        #expect(throws: WireError.self) { try BeaconCommitBody(decoding: [2] + bytes.dropFirst()) }
        let reveal = BeaconRevealBody(targetEpoch: 9, reveal: Blake2b.hash256([4]))
        #expect(try BeaconRevealBody(decoding: reveal.encodedBytes()) == reveal)
        #expect(throws: WireError.self) { try BeaconRevealBody(decoding: reveal.encodedBytes() + [1]) }
    }
}
