import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

@Suite struct BinomialTestTests {
    typealias F = FixturesForTests

    static func ratio(_ any: Any?) throws -> Ratio {
        let pair = try #require(any as? [NSNumber])
        return try Ratio(pair[0].uint64Value, pair[1].uint64Value)
    }

    static func millionths(_ any: Any?) throws -> Ratio {
        let value = try #require((any as? NSNumber)?.doubleValue)
        return Ratio(millionths: UInt64((value * 1_000_000).rounded()))
    }

    /// The kernel spec's vectors (p-values from the Python float reference, thresholds).
    @Test func matchesPoCKernelVectors() throws {
        let v = try #require(try RepositoryPathsForTests.loadJSON("poc-stat-test.json") as? [String: Any])
        for c in try #require(v["p_values"] as? [[String: Any]]) {
            let n = Int(try F.uint(c["n"]))
            let m = Int(try F.uint(c["mismatches"]))
            let expected = try #require((c["p_value"] as? NSNumber)?.doubleValue)
            let got = BinomialTest.pValue(mismatches: m, samples: n, pMismatch: try Self.millionths(c["p_mismatch"]))
            #expect(abs(got - expected) <= 1e-9 * expected, "m=\(m) n=\(n): \(got) vs \(expected)")
        }
        for c in try #require(v["fraud_thresholds"] as? [[String: Any]]) {
            let n = Int(try F.uint(c["n"]))
            let got = BinomialTest.minimumMismatchesForFraud(
                samples: n, pMismatch: try Self.millionths(c["p_mismatch"]), pValueThreshold: try Self.millionths(c["p_value_threshold"]))
            #expect(got == Int(try F.uint(c["min_mismatches_for_fraud"])))
        }
    }

    @Test func exactThresholdsAndDetectionMatchVectors() throws {
        let v = try #require(try RepositoryPathsForTests.loadJSON("validation.json") as? [String: Any])
        for c in try #require(v["thresholds"] as? [[String: Any]]) {
            let n = Int(try F.uint(c["samples"]))
            let p = try Self.ratio(c["p_mismatch"])
            let alpha = try Self.ratio(c["p_value_threshold"])
            let expected = (c["min_mismatches_for_fraud"] as? NSNumber)?.intValue
            #expect(BinomialTest.minimumMismatchesForFraud(samples: n, pMismatch: p, pValueThreshold: alpha) == expected, "n=\(n) p=\(p)")
            if let expected {
                #expect(BinomialTest.isFraud(mismatches: expected, samples: n, pMismatch: p, pValueThreshold: alpha))
                #expect(!BinomialTest.isFraud(mismatches: expected - 1, samples: n, pMismatch: p, pValueThreshold: alpha))
            }
        }
        for c in try #require(v["detection"] as? [[String: Any]]) {
            let n = Int(try F.uint(c["samples"]))
            let (f, p, alpha) = (try Self.ratio(c["fraud_rate"]), try Self.ratio(c["p_mismatch"]), try Self.ratio(c["p_value_threshold"]))
            let expected = try #require((c["probability"] as? NSNumber)?.doubleValue)
            let got = BinomialTest.detectionProbability(samples: n, fraudRate: f, pMismatch: p, pValueThreshold: alpha)
            #expect(abs(got - expected) <= 1e-12, "\(got) vs \(expected)")
            let atLeast99 = try #require(c["at_least_99_percent"] as? Bool)
            #expect(BinomialTest.detects(samples: n, fraudRate: f, pMismatch: p, pValueThreshold: alpha, atLeast: Ratio(millionths: 990_000)) == atLeast99)
        }
    }

    /// The requirement of issue 5: a node faking 10 % of its artifacts is caught with ≥ 99 %
    /// probability at the devnet's sample size, for every devnet model.
    @Test func devnetCatchesTenPercentFakers() throws {
        for model in F.devnet.models {
            #expect(BinomialTest.detects(
                samples: Int(model.sampleSize), fraudRate: try Ratio(1, 10), pMismatch: model.pMismatch,
                pValueThreshold: model.pValueThreshold, atLeast: try Ratio(99, 100)), "\(model.id)")
        }
    }
}

@Suite struct LeafSamplingAndVoteTests {
    typealias F = FixturesForTests

    @Test func indicesMatchVectors() throws {
        let v = try #require(try RepositoryPathsForTests.loadJSON("validation.json") as? [String: Any])
        for c in try #require(v["sampling"] as? [[String: Any]]) {
            let signature = try Ed25519.Signature(bytes: try F.bytes(c["signature"]))
            let seed = LeafSampler.seed(from: signature)
            #expect(seed == (try F.hex(c["seed"])))
            let expected = try #require(c["indices"] as? [NSNumber]).map(\.uint64Value)
            let got = LeafSampler.indices(seed: seed, count: try F.uint(c["count"]), sampleSize: UInt32(try F.uint(c["sample_size"])))
            #expect(got == expected)
            #expect(Set(got).count == got.count)
        }
    }

    @Test func counterWordsMatchKernelVectors() throws {
        let v = try #require(try RepositoryPathsForTests.loadJSON("counter-rng-poc.json") as? [String: Any])
        for c in try #require(v["uniform_below"] as? [[String: Any]]) {
            let words = CounterWords(key: try F.hex(c["key"]))
            let mText = try #require(c["m"] as? String)
            let m = try #require(UInt64(mText))
            var counter: UInt64 = 0
            let values = (0..<8).map { _ in words.uniform(below: m, counter: &counter) }
            #expect(values.map(String.init) == (c["values"] as? [String]))
            #expect(counter == (try F.uint(c["next_counter"])))
        }
    }

    func commit(count: UInt64, key: Ed25519.SigningKey = FixturesForTests.keys[0]) throws -> PoCCommit {
        let s = try F.sign(PoCCommitBody(model: F.smol, count: count, root: Blake2b.hash256([7]), depth: 24, seedBasis: []), key: key, epoch: 4, seq: 3)
        return try PoCCommit(s, parameters: F.devnet)
    }

    @Test func honestAndFraudulentVotesCheckOut() throws {
        let commit = try commit(count: 5000)
        let validator = F.keys[1]
        let (proof, seed) = LeafSampler.sign(commit: commit.statement, key: validator)
        let indices = LeafSampler.indices(seed: seed, count: 5000, sampleSize: 200)
        #expect(indices.count == 200)
        for (mismatches, verdict) in [(UInt32(0), Verdict.valid), (5, .valid), (6, .invalid), (200, .invalid)] {
            let body = try Vote.body(for: commit, proof: proof, mismatches: mismatches, parameters: F.devnet)
            #expect(body.verdict == verdict)
            let statement = try F.sign(body, key: validator, epoch: 4, seq: 9)
            let vote = try Vote(statement, commit: commit, parameters: F.devnet)
            #expect(vote.sampleSeed == seed)
            #expect(vote.sampledIndices(parameters: F.devnet) == indices)
            #expect(try VoteBody(decoding: body.encodedBytes()) == body)
        }
    }

    @Test func dishonestVotesAreRefused() throws {
        let commit = try commit(count: 5000)
        let validator = F.keys[1]
        let (proof, _) = LeafSampler.sign(commit: commit.statement, key: validator)
        var body = try Vote.body(for: commit, proof: proof, mismatches: 40, parameters: F.devnet)
        body.verdict = .valid  // contradicts the test
        #expect(throws: ProtocolError.self) { try Vote(try F.sign(body, key: validator, epoch: 4, seq: 9), commit: commit, parameters: F.devnet) }
        // A proof by another key does not verify for this voter.
        let (otherProof, _) = LeafSampler.sign(commit: commit.statement, key: F.keys[2])
        let stolen = try Vote.body(for: commit, proof: otherProof, mismatches: 0, parameters: F.devnet)
        #expect(throws: ProtocolError.self) { try Vote(try F.sign(stolen, key: validator, epoch: 4, seq: 9), commit: commit, parameters: F.devnet) }
        // Too few samples.
        var short = try Vote.body(for: commit, proof: proof, mismatches: 0, parameters: F.devnet)
        short.samples = 100
        #expect(throws: ProtocolError.self) { try Vote(try F.sign(short, key: validator, epoch: 4, seq: 9), commit: commit, parameters: F.devnet) }
        // A vote on another commit does not count for this one.
        let other = try self.commit(count: 4000)
        let elsewhere = try Vote.body(for: other, proof: proof, mismatches: 0, parameters: F.devnet)
        #expect(throws: ProtocolError.self) { try Vote(try F.sign(elsewhere, key: validator, epoch: 4, seq: 9), commit: commit, parameters: F.devnet) }
        // Wrong epoch.
        let good = try Vote.body(for: commit, proof: proof, mismatches: 0, parameters: F.devnet)
        #expect(throws: ProtocolError.self) { try Vote(try F.sign(good, key: validator, epoch: 5, seq: 9), commit: commit, parameters: F.devnet) }
    }

    @Test func smallCommitsAreFullySampled() throws {
        let commit = try commit(count: 12)
        let (proof, seed) = LeafSampler.sign(commit: commit.statement, key: F.keys[3])
        #expect(Set(LeafSampler.indices(seed: seed, count: 12, sampleSize: 200)) == Set(0..<12))
        let body = try Vote.body(for: commit, proof: proof, mismatches: 2, parameters: F.devnet)
        #expect(body.samples == 12)
        #expect(body.verdict == .invalid)  // 2 of 12 at p = 1 %: P ≈ 0.006 < 0.05
    }

    @Test func voteDecodingIsStrict() throws {
        let commit = try commit(count: 50)
        let (proof, _) = LeafSampler.sign(commit: commit.statement, key: F.keys[1])
        let bytes = try Vote.body(for: commit, proof: proof, mismatches: 0, parameters: F.devnet).encodedBytes()
        #expect(throws: WireError.self) { try VoteBody(decoding: bytes + [0]) }
        #expect(throws: WireError.self) { try VoteBody(decoding: Array(bytes.dropLast())) }
        var badVerdict = bytes
        let verdictOffset = 1 + 32 + 4 + F.smol.utf8.count + 32 + 32 + 8
        badVerdict[verdictOffset] = 3
        #expect(throws: WireError.self) { try VoteBody(decoding: badVerdict) }
        var tooManyMismatches = bytes
        tooManyMismatches[verdictOffset + 5] = 0xff
        #expect(throws: WireError.self) { try VoteBody(decoding: tooManyMismatches) }
    }
}
