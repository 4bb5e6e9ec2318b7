import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

@Suite struct SparseMerkleSumTreeTests {
    typealias F = FixturesForTests

    @Test func rootsAndProofsMatchVectors() throws {
        let v = try #require(try RepositoryPathsForTests.loadJSON("poc-commitments.json") as? [String: Any])
        let empty = try #require(v["empty"] as? [String])
        for (h, hex) in empty.enumerated() { #expect(MerkleHashing.empty[h] == (try Bytes32(hex: hex))) }
        for c in try #require(v["cases"] as? [[String: Any]]) {
            let depth = UInt8(try F.uint(c["depth"]))
            var tree = SparseMerkleSumTree(depth: depth)
            // Insert in reverse order: the root depends on the set, not the order.
            for leaf in (try #require(c["leaves"] as? [[String: Any]])).reversed() {
                try tree.insert(nonce: try F.uint(leaf["nonce"]), artifact: try F.bytes(leaf["artifact"]))
            }
            let root = try F.hex(c["root"])
            let count = try F.uint(c["count"])
            #expect(tree.root == root, "\(c["name"] ?? "")")
            #expect(tree.count == count)
            for p in try #require(c["proofs"] as? [[String: Any]]) {
                let siblings = try (try #require(p["siblings"] as? [[String: Any]])).map {
                    MerkleProof.Sibling(hash: try F.hex($0["hash"]), count: try F.uint($0["count"]))
                }
                let expected = MerkleProof(index: try F.uint(p["index"]), nonce: try F.uint(p["nonce"]), artifact: try F.bytes(p["artifact"]), siblings: siblings)
                #expect(tree.proof(index: expected.index) == expected)
                try expected.verify(root: root, count: count, depth: depth, artifactLength: 24)
                #expect(try MerkleProof(decoding: expected.encodedBytes()) == expected)
            }
            #expect(tree.proof(index: count) == nil)
        }
    }

    @Test func everyProofVerifiesAndTamperingFails() throws {
        var tree = SparseMerkleSumTree(depth: 10)
        let nonces: [UInt64] = [3, 1, 4, 15, 9, 2, 6, 535, 897, 1023]
        for n in nonces { try tree.insert(nonce: n, artifact: [UInt8](repeating: UInt8(n & 0xff), count: 24)) }
        #expect(throws: SparseMerkleSumTree.InsertError.duplicateNonce(4)) { try tree.insert(nonce: 4, artifact: []) }
        #expect(throws: SparseMerkleSumTree.InsertError.nonceOutOfRange(nonce: 1024, depth: 10)) { try tree.insert(nonce: 1024, artifact: []) }
        let sorted = nonces.sorted()
        for i in 0..<UInt64(nonces.count) {
            let proof = try #require(tree.proof(index: i))
            #expect(proof.nonce == sorted[Int(i)])
            try proof.verify(root: tree.root, count: tree.count, depth: 10)
            // Claiming another index, count, root, artifact or nonce fails.
            let wrongIndex = MerkleProof(index: (i + 1) % 10, nonce: proof.nonce, artifact: proof.artifact, siblings: proof.siblings)
            #expect(throws: ProtocolError.self) { try wrongIndex.verify(root: tree.root, count: tree.count, depth: 10) }
            #expect(throws: ProtocolError.self) { try proof.verify(root: tree.root, count: tree.count + 1, depth: 10) }
            #expect(throws: ProtocolError.self) { try proof.verify(root: Blake2b.hash256([0]), count: tree.count, depth: 10) }
            #expect(throws: ProtocolError.self) { try proof.verify(root: tree.root, count: tree.count, depth: 10, artifactLength: 12) }
            let forged = MerkleProof(index: i, nonce: proof.nonce, artifact: [UInt8](repeating: 0xee, count: 24), siblings: proof.siblings)
            #expect(throws: ProtocolError.self) { try forged.verify(root: tree.root, count: tree.count, depth: 10) }
            let moved = MerkleProof(index: i, nonce: proof.nonce ^ 1, artifact: proof.artifact, siblings: proof.siblings)
            #expect(throws: ProtocolError.self) { try moved.verify(root: tree.root, count: tree.count, depth: 10) }
            #expect(throws: ProtocolError.self) { try proof.verify(root: tree.root, count: tree.count, depth: 11) }
        }
    }

    @Test func proofDecodingIsStrict() throws {
        var tree = SparseMerkleSumTree(depth: 4)
        try tree.insert(nonce: 2, artifact: [1, 2, 3])
        let bytes = try #require(tree.proof(index: 0)).encodedBytes()
        #expect(throws: WireError.self) { try MerkleProof(decoding: bytes + [0]) }
        #expect(throws: WireError.self) { try MerkleProof(decoding: Array(bytes.dropLast())) }
        var tooMany = WireWriter()
        tooMany.writeU8(1); tooMany.writeU64(0); tooMany.writeU64(0); tooMany.writeBytes([])
        tooMany.writeU32(41)
        #expect(throws: WireError.self) { try MerkleProof(decoding: tooMany.bytes) }
    }
}

@Suite struct CommitLedgerTests {
    typealias F = FixturesForTests

    func commit(_ key: Ed25519.SigningKey, count: UInt64, root: UInt8, seq: UInt64, model: String = FixturesForTests.smol, basis: [Bytes32] = [], epoch: UInt64 = 3) throws -> SignedStatement {
        try F.sign(PoCCommitBody(model: model, count: count, root: Blake2b.hash256([root]), depth: 24, seedBasis: basis), key: key, epoch: epoch, seq: seq)
    }

    @Test func risingCountsAreAcceptedAndTheLatestWins() throws {
        var ledger = CommitLedger(parameters: F.devnet, epoch: 3)
        let k = F.keys[0]
        #expect(try ledger.add(try commit(k, count: 10, root: 1, seq: 1)) == .accepted)
        #expect(try ledger.add(try commit(k, count: 20, root: 2, seq: 2)) == .accepted)
        #expect(try ledger.add(try commit(k, count: 20, root: 2, seq: 3)) == .redundant)
        #expect(try ledger.add(try commit(k, count: 20, root: 2, seq: 3)) == .redundant)
        #expect(ledger.latest(author: k.publicKey.raw, model: F.smol)?.body.count == 20)
        #expect(ledger.latestCommits(model: F.smol).count == 1)
        #expect(ledger.latestCommits(model: F.synthetic).isEmpty)
    }

    @Test(arguments: [
        (UInt64(10), UInt8(9), UInt64(5), EquivocationKind.sameCount),
        (UInt64(5), UInt8(9), UInt64(1), EquivocationKind.sameSeq),
        (UInt64(5), UInt8(9), UInt64(3), EquivocationKind.countRegression),
    ])
    func conflictsYieldVerifiableEvidence(count: UInt64, root: UInt8, seq: UInt64, kind: EquivocationKind) throws {
        var ledger = CommitLedger(parameters: F.devnet, epoch: 3)
        let k = F.keys[1]
        #expect(try ledger.add(try commit(k, count: 1, root: 1, seq: 1)) == .accepted)
        #expect(try ledger.add(try commit(k, count: 10, root: 2, seq: 2)) == .accepted)
        guard case let .equivocation(proven, evidence) = try ledger.add(try commit(k, count: count, root: root, seq: seq)) else {
            Issue.record("no equivocation found")
            return
        }
        #expect(proven.kind == kind)
        #expect(ledger.latest(author: k.publicKey.raw, model: F.smol) == nil)
        // Anyone can verify the evidence from its bytes alone, after a round trip.
        let decoded = try EquivocationEvidenceBody(decoding: evidence.encodedBytes())
        #expect(try decoded.verify(networkID: "chorus-devnet") == proven)
        #expect(throws: ProtocolError.self) { try decoded.verify(networkID: "other-net") }
    }

    @Test func seedBasisChangeIsEquivocation() throws {
        var ledger = CommitLedger(parameters: F.devnet, epoch: 3)
        let k = F.keys[2]
        _ = try ledger.add(try commit(k, count: 1, root: 1, seq: 1, basis: [F.keys[0].publicKey.raw]))
        guard case let .equivocation(proven, _) = try ledger.add(try commit(k, count: 2, root: 2, seq: 2, basis: [F.keys[1].publicKey.raw])) else {
            Issue.record("basis change accepted")
            return
        }
        #expect(proven.kind == .seedBasisChange)
    }

    @Test func consistentPairsAreNotEvidence() throws {
        let k = F.keys[3]
        let evidence = EquivocationEvidenceBody(try commit(k, count: 1, root: 1, seq: 1), try commit(k, count: 2, root: 2, seq: 2))
        #expect(throws: ProtocolError.self) { try evidence.verify(networkID: "chorus-devnet") }
        let twoAuthors = EquivocationEvidenceBody(try commit(k, count: 1, root: 1, seq: 1), try commit(F.keys[4], count: 1, root: 2, seq: 1))
        #expect(throws: ProtocolError.self) { try twoAuthors.verify(networkID: "chorus-devnet") }
        let twoModels = EquivocationEvidenceBody(try commit(k, count: 1, root: 1, seq: 1), try commit(k, count: 1, root: 2, seq: 1, model: F.synthetic))
        #expect(throws: ProtocolError.self) { try twoModels.verify(networkID: "chorus-devnet") }
    }

    @Test func commitsForUnknownModelsWrongDepthOrEpochAreRefused() throws {
        var ledger = CommitLedger(parameters: F.devnet, epoch: 3)
        let k = F.keys[0]
        #expect(throws: ProtocolError.self) { try ledger.add(try commit(k, count: 1, root: 1, seq: 1, model: "unknown/model")) }
        #expect(throws: ProtocolError.self) { try ledger.add(try commit(k, count: 1, root: 1, seq: 1, epoch: 4)) }
        let shallow = try F.sign(PoCCommitBody(model: F.smol, count: 1, root: Blake2b.hash256([1]), depth: 8, seedBasis: []), key: k, epoch: 3, seq: 1)
        #expect(throws: ProtocolError.self) { try ledger.add(shallow) }
    }

    @Test func commitBodyDecodingIsStrict() throws {
        let body = PoCCommitBody(model: F.smol, count: 7, root: Blake2b.hash256([1]), depth: 24, seedBasis: [F.keys[1].publicKey.raw, F.keys[0].publicKey.raw])
        let bytes = body.encodedBytes()
        #expect(try PoCCommitBody(decoding: bytes) == body)
        #expect(throws: WireError.self) { try PoCCommitBody(decoding: bytes + [0]) }
        #expect(throws: WireError.self) { try PoCCommitBody(decoding: Array(bytes.dropLast())) }
        // Unsorted basis.
        var w = WireWriter()
        w.writeU8(1); w.writeString(F.smol); w.writeU64(7); w.writeBytes32(Blake2b.hash256([1])); w.writeU8(24)
        w.writeArray(body.seedBasis.reversed()) { $0.writeBytes32($1) }
        #expect(throws: WireError.self) { try PoCCommitBody(decoding: w.bytes) }
        // A count that cannot fit the depth.
        var big = WireWriter()
        big.writeU8(1); big.writeString(F.smol); big.writeU64(17); big.writeBytes32(Blake2b.hash256([1])); big.writeU8(4); big.writeU32(0)
        #expect(throws: WireError.self) { try PoCCommitBody(decoding: big.bytes) }
    }
}
