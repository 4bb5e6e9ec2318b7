import ChorusCrypto
import ChorusWorkerAPI
import Foundation
import Testing
@testable import ChorusCompute

@Suite struct PoCKernelTests {
    @Test func counterRNGPrimitivesMatchReference() throws {
        let v = try PoCVectorFiles.load(PoCVectorFiles.CounterRNGFile.self, "counter-rng-poc.json")
        #expect(v.streams.count == 2)
        for s in v.streams {
            let rng = CounterRNG(key: try Bytes32(hex: s.key))
            #expect((0..<UInt64(s.words.count)).map { rng.word($0) } == s.words.map { UInt64($0, radix: 16) ?? 0 })
            #expect((0..<UInt64(s.centered_sums.count)).map { rng.centeredSum($0) } == s.centered_sums)
            #expect(rng.normals(count: s.normals.count) == s.normals)
            #expect(rng.normals(count: s.normals_from_1000.count, startIndex: 1000) == s.normals_from_1000)
        }
        #expect(!v.unit_vectors.isEmpty)
        for u in v.unit_vectors {
            let unit = CounterRNG(key: try Bytes32(hex: u.key)).unitVector(count: u.count, start: u.start)
            #expect(unit.map(\.bitPattern) == (try u.f64_hex.map(PoCVectorFiles.littleEndianBits)))
            #expect(unit.map { Float($0).bitPattern } == (try u.f32_hex.map { UInt32(try PoCVectorFiles.littleEndianBits($0)) }))
        }
        #expect(v.uniform_below.count == 4)
        for u in v.uniform_below {
            let rng = CounterRNG(key: try Bytes32(hex: u.key))
            let m = try #require(UInt64(u.m))
            var c: UInt64 = 0
            var values: [UInt64] = []
            for _ in u.values {
                let (value, next) = rng.uniform(below: m, counter: c)
                values.append(value)
                c = next
            }
            #expect(values == u.values.compactMap { UInt64($0) })
            #expect(c == u.next_counter)
        }
    }

    @Test(arguments: ["tiny", "devnet"])
    func syntheticModelsMatchNumpyReference(name: String) throws {
        let file = try PoCVectorFiles.load(PoCVectorFiles.KernelFile.self, "poc-synthetic.json")
        #expect(file.spec == PoCKernel.spec)
        let c = try #require(file.cases.first { $0.name == name })
        let config = try #require(c.config).llama
        #expect(SyntheticModel.presets[name] == config)
        let synthetic = SyntheticModel(config: config, seed: try Bytes32(hex: try #require(c.synthetic_seed)))
        #expect(synthetic.digest == c.model_digest)
        let worst = try PoCVectorFiles.checkCase(c, model: try synthetic.build()) { ok, what in
            #expect(ok, "\(name): \(what)")
        }
        #expect(worst <= c.dist_threshold / 10)
    }

    @Test func artifactsDoNotDependOnBatching() throws {
        let model = try SyntheticModel(config: .syntheticTiny, seed: SyntheticModel.devnetSeed).build()
        let task = try PoCTask(seed: Blake2b.hash256(Array("epoch".utf8)), participant: Blake2b.hash256(Array("p".utf8)),
                               modelID: "chorus/synthetic-tiny", sequenceLength: 16)
        let computer = try PoCComputer(model: model, task: task)
        let together = try computer.compute([5, 2, 9, 2])
        let alone = try [5, 2, 9].map { try computer.compute([$0])[0] }
        #expect(together[1] == together[3])
        for (a, b) in zip([together[0], together[1], together[2]], alone) {
            #expect(Self.distance(a, b) < 1e-3)
        }
        // Another participant's artifacts are unrelated.
        let other = try PoCComputer(model: model, task: PoCTask(seed: task.seed, participant: Blake2b.hash256(Array("q".utf8)),
                                                                modelID: task.modelID, sequenceLength: 16))
        #expect(Self.distance(try other.compute([5])[0], together[0]) > 0.3)
    }

    /// The distance of two vectors that must both exist and be finite (infinity otherwise).
    static func distance(_ a: PoCVector?, _ b: PoCVector?) -> Double {
        guard let a, let b, let d = a.distance(to: b) else { return .infinity }
        return d
    }

    @Test func verificationReportsDistancesAndMismatches() throws {
        let model = try SyntheticModel(config: .syntheticTiny, seed: SyntheticModel.devnetSeed).build()
        let task = try PoCTask(seed: .zero, participant: .zero, modelID: "m", sequenceLength: 4)
        let computer = try PoCComputer(model: model, task: task)
        let honest = try computer.compute([0, 1, 2])
        let nan = try #require(PoCVector(bytes: [UInt8](repeating: 0xFF, count: 24)))
        let result = try computer.verify([0, 1, 2, 0], claimed: [honest[0], honest[0], nan, nil])
        let distances = try #require(result.distances)
        #expect((distances[0] ?? 1) < 1e-6)
        #expect((distances[1] ?? 0) > 0.3)
        #expect(distances[2] == nil)
        #expect(distances[3] == nil)
        let outcome = FraudTest(distThreshold: 0.05).evaluate(distances: distances)
        #expect(outcome.mismatches == 3)
    }

    @Test func projectionSkipsNonFiniteAndZeroStates() {
        let key = Blake2b.hash256([1])
        #expect(PoCKernel.project(hidden: [Float](repeating: 0, count: 64), nonceKey: key) == nil)
        var h = [Float](repeating: 1, count: 64)
        h[3] = .nan
        #expect(PoCKernel.project(hidden: h, nonceKey: key) == nil)
        h[3] = 1
        let v = PoCKernel.project(hidden: h, nonceKey: key)
        let norm = v.map { $0.values.reduce(0) { $0 + Double($1) * Double($1) } }
        #expect(abs((norm ?? 0) - 1) < 1e-3)
    }

    @Test func vectorsParseOnlyFromExactlyFortyEightHexCharacters() {
        #expect(PoCVector(hex: String(repeating: "ab", count: 24))?.hex == String(repeating: "ab", count: 24))
        #expect(PoCVector(hex: String(repeating: "ab", count: 23)) == nil)
        #expect(PoCVector(hex: String(repeating: "zz", count: 24)) == nil)
        #expect(PoCVector(bytes: [1, 2]) == nil)
    }

    @Test func tasksRejectBadModelIDsAndLengths() throws {
        #expect(throws: PoCError.invalidModelID(byteCount: 0)) {
            try PoCTask(seed: .zero, participant: .zero, modelID: "", sequenceLength: 8)
        }
        #expect(throws: PoCError.invalidModelID(byteCount: 256)) {
            try PoCTask(seed: .zero, participant: .zero, modelID: String(repeating: "m", count: 256), sequenceLength: 8)
        }
        #expect(throws: PoCError.self) { try PoCTask(seed: .zero, participant: .zero, modelID: "m", sequenceLength: 0) }
        let model = try SyntheticModel(config: .syntheticTiny, seed: .zero).build()
        let tooLong = try PoCTask(seed: .zero, participant: .zero, modelID: "m", sequenceLength: 513)
        #expect(throws: PoCError.self) { try PoCComputer(model: model, task: tooLong) }
    }
}

@Suite struct NonceScheduleTests {
    @Test func slotsNeverOverlapAndCoverDensely() throws {
        let slots = try (0..<3).map { try NonceSchedule(offset: 10 + UInt64($0), stride: 3, count: 5) }
        let all = slots.flatMap { Array($0) }
        #expect(Set(all).count == 15)
        #expect(Set(all) == Set(10..<25))
        #expect(slots[1].nonces(from: 2, limit: 10) == [17, 20, 23])
    }

    @Test func openEndedSchedulesStopAtTheEndOfU64() throws {
        let s = try NonceSchedule(offset: UInt64.max - 2, stride: 2)
        #expect(Array(s) == [UInt64.max - 2, UInt64.max])
        #expect(throws: PoCError.self) { try NonceSchedule(stride: 0) }
    }
}

@Suite struct FraudTestTests {
    @Test func pValuesMatchReference() throws {
        let v = try PoCVectorFiles.load(PoCVectorFiles.StatFile.self, "poc-stat-test.json")
        #expect(!v.p_values.isEmpty)
        for p in v.p_values {
            let got = FraudTest.binomialPValue(mismatches: p.mismatches, samples: p.n, p: p.p_mismatch)
            #expect(abs(got - p.p_value) <= 1e-9 * max(p.p_value, 1e-300), "m=\(p.mismatches) n=\(p.n) p=\(p.p_mismatch)")
        }
        for t in v.fraud_thresholds {
            let test = FraudTest(distThreshold: 0.1, pMismatch: t.p_mismatch, pValueThreshold: t.p_value_threshold)
            #expect(test.minimumMismatchesForFraud(samples: t.n) == t.min_mismatches_for_fraud)
        }
    }

    @Test func decisionsFollowTheThreshold() {
        let test = FraudTest(distThreshold: 0.1)
        let honest = test.evaluate(distances: [Double?](repeating: 0.01, count: 200))
        #expect(honest.mismatches == 0 && honest.pValue == 1 && !honest.fraudulent)
        let cheater = test.evaluate(distances: [Double?](repeating: 0.01, count: 172) + [Double?](repeating: nil, count: 28))
        #expect(cheater.mismatches == 28 && cheater.fraudulent)
        let noisy = test.evaluate(distances: [Double?](repeating: 0.01, count: 173) + [Double?](repeating: 1.4, count: 27))
        #expect(!noisy.fraudulent)
    }
}
