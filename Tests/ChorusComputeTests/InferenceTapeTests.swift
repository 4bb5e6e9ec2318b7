import ChorusCrypto
import ChorusWorkerAPI
import Foundation
import Testing
@testable import ChorusCompute

/// The tape sampler (`InferenceTape`, Specs/inference.md §4) against `vectors/inference.json`
/// (computed by the pure-Python reference Tools/vectors/inference_vectors.py; the numpy worker's
/// tests load the same cases, so Swift and Python choose the same tokens), and the built-in
/// worker's use of it.
@Suite struct InferenceTapeTests {
    typealias JSON = [String: Any]

    static func vectors() throws -> JSON {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.vector("inference.json"))) as? JSON)
    }

    static func f32(_ hex: String) throws -> Float {
        let b = try Hex.decode(hex)
        return Float(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
    }

    static func f64(_ hex: String) throws -> Double {
        let b = try Hex.decode(hex)
        return Double(bitPattern: b.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    }

    static func seed(_ any: Any?) throws -> Bytes32 { try Bytes32(hex: try #require(any as? String)) }

    @Test func wordsUniformsAndGumbelsMatchVectors() throws {
        let tape = try #require(try Self.vectors()["tape"] as? JSON)
        for stream in try #require(tape["streams"] as? [JSON]) {
            let t = InferenceTape(seed: try Self.seed(stream["seed"]))
            for e in try #require(stream["entries"] as? [JSON]) {
                let (p, id, v) = (try #require(e["position"] as? Int), try #require(e["token"] as? Int), try #require(e["vocab"] as? Int))
                let counter = InferenceTape.counter(position: p, token: id, vocabularySize: v)
                #expect(counter == UInt64(try #require(e["counter"] as? Int)))
                #expect(String(t.word(counter), radix: 16).leftPad(16) == e["word"] as? String)
                #expect(t.uniform(position: p, token: id, vocabularySize: v) == (try Self.f64(try #require(e["u"] as? String))))
                // glibc's log on both sides: the same bits.
                #expect(t.gumbel(position: p, token: id, vocabularySize: v) == (try Self.f64(try #require(e["g"] as? String))))
            }
        }
        for e in try #require(tape["extremes"] as? [JSON]) {
            let text = try #require(e["word"] as? String)
            let w = try #require(UInt64(text, radix: 16))
            let u = InferenceTape.unit(w)
            #expect(u > 0 && u < 1)
            #expect(u == (try Self.f64(try #require(e["u"] as? String))))
            #expect(InferenceTape.gumbel(u).isFinite)
            #expect(InferenceTape.gumbel(u) == (try Self.f64(try #require(e["g"] as? String))))
        }
    }

    /// The tape's words are the counter generator's (one definition in the spec, two in code).
    @Test func tapeWordsAreTheCounterGeneratorsWords() {
        for key in [Bytes32.zero, Blake2b.hash256(Array("key".utf8))] {
            let tape = InferenceTape(seed: key), rng = CounterRNG(key: key)
            for c in [UInt64(0), 1, 255, 1 << 20, 0xFFFF_FFFF_FFFF, .max] { #expect(tape.word(c) == rng.word(c)) }
        }
    }

    @Test func choicesMatchVectors() throws {
        let cases = try #require(try Self.vectors()["choices"] as? [JSON])
        #expect(cases.count >= 20)
        for c in cases {
            let name = try #require(c["name"] as? String)
            let logits = try #require(c["logits"] as? [String]).map { try Self.f32($0) }
            let sampling = TapeSampling(temperatureMillionths: UInt32(try #require(c["temperature"] as? Int)),
                                        topK: UInt32(try #require(c["top_k"] as? Int)), topPMillionths: UInt32(try #require(c["top_p"] as? Int)))
            let against = c["against"] as? Int
            let choice = try InferenceTape.choose(logits[...], sampling: sampling, tape: InferenceTape(seed: try Self.seed(c["seed"])),
                                                  position: try #require(c["position"] as? Int), against: against)
            #expect(choice.token == c["token"] as? Int, "\(name)")
            #expect(choice.usedTape == c["used_tape"] as? Bool, "\(name)")
            #expect(choice.kept == c["kept"] as? Int, "\(name)")
            if let margin = c["margin"] as? Double {
                #expect(abs(choice.margin - margin) <= 1e-9 * max(1, abs(margin)), "\(name): \(choice.margin) vs \(margin)")
            } else {
                #expect(choice.margin == .infinity, "\(name)")
            }
            if against != nil {
                if let m = c["margin_to_other"] as? Double {
                    #expect(abs((choice.marginToOther ?? .nan) - m) <= 1e-9 * max(1, abs(m)), "\(name)")
                } else {
                    #expect(choice.marginToOther == .infinity, "\(name)")
                }
            }
        }
    }

    /// The sampler skips the logarithms of ids that cannot win; a brute-force scoring of every kept
    /// id (the spec's text, written out here) must give the same choice and margins.
    @Test func prunedScoringEqualsScoringEveryKeptID() throws {
        var state: UInt64 = 7
        func next() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) * 0x1p-53 }
        for trial in 0..<80 {
            let v = [8, 100, 1000, 4096, 49152][trial % 5]
            let spread = [0.5, 3, 10, 40][(trial / 4) % 4]
            let row = (0..<v).map { _ in Float((next() - 0.5) * spread) }
            let sampling = TapeSampling(temperature: [1, 0.3, 2][trial % 3], topK: [0, 0, 7, 300][trial % 4], topP: [1, 0.9, 1, 0.5, 0.99][trial % 5])
            let tape = InferenceTape(seed: Blake2b.hash256([UInt8(trial)]))
            let against = trial % v
            let got = try InferenceTape.choose(row[...], sampling: sampling, tape: tape, position: trial, against: against)
            // Brute force.
            let z = row.map { Double($0) / sampling.temperature }
            var order = Array(0..<v).sorted { z[$0] != z[$1] ? z[$0] > z[$1] : $0 < $1 }
            if sampling.topK > 0 && sampling.topK < v { order = Array(order.prefix(sampling.topK)) }
            if sampling.topP < 1 {
                let total = order.sorted().reduce(0.0) { $0 + exp(z[$1] - z[order[0]]) }  // S in id order
                var sums: [Double] = [], sum = 0.0
                for id in order { sum += exp(z[id] - z[order[0]]); sums.append(sum) }
                order = Array(order.prefix((sums.firstIndex { $0 >= sampling.topP * total } ?? order.count - 1) + 1))
            }
            let scores = order.map { (id: $0, s: z[$0] + tape.gumbel(position: trial, token: $0, vocabularySize: v)) }
            let best = scores.max { $0.s != $1.s ? $0.s < $1.s : $0.id > $1.id }!
            let second = scores.filter { $0.id != best.id }.map(\.s).max()
            #expect(got.token == best.id, "trial \(trial)")
            #expect(got.kept == order.count, "trial \(trial)")
            #expect(got.margin == (second.map { best.s - $0 } ?? .infinity), "trial \(trial)")
            #expect(got.marginToOther == (scores.first { $0.id == against }.map { best.s - $0.s } ?? .infinity), "trial \(trial)")
        }
    }

    @Test func keptSetsFollowTopKAndTopP() throws {
        var row = [Float](repeating: -5, count: 256)
        row[10] = 3; row[20] = 2.9; row[30] = 1
        let topTwo = TapeSampling(temperature: 5, topK: 2)
        var seen = Set<Int>()
        for p in 0..<200 {
            seen.insert(try InferenceTape.choose(row[...], sampling: topTwo, tape: InferenceTape(seed: .zero), position: p).token)
        }
        #expect(seen == [10, 20])
        let nucleus = TapeSampling(temperature: 1, topP: 0.3)
        for p in 0..<50 { #expect(try InferenceTape.choose(row[...], sampling: nucleus, tape: InferenceTape(seed: .zero), position: p).token == 10) }
        #expect(try InferenceTape.choose(row[...], sampling: .greedy, tape: nil, position: 0).token == 10)
        row[40] = 3
        #expect(try InferenceTape.choose(row[...], sampling: .greedy, tape: nil, position: 0).token == 10)
        // Large top-k (the sorted path) and small top-k (the selection path) agree with the full order.
        let r = (0..<512).map { Float(sin(Double($0) * 0.37) * 4) }
        for k in [3, 255, 256, 257, 600] {
            let s = TapeSampling(temperature: 0.8, topK: k)
            let c = try InferenceTape.choose(r[...], sampling: s, tape: InferenceTape(seed: .zero), position: 9)
            #expect(c.kept == min(k, 512))
        }
    }

    /// Sampling is Gumbel-max: over many positions the choices follow softmax(z / T).
    @Test func tapeFrequenciesFollowTheSoftmax() throws {
        let row: [Float] = [2, 1, 0, -1]
        let tape = InferenceTape(seed: Blake2b.hash256(Array("frequencies".utf8)))
        var counts = [0, 0, 0, 0]
        let n = 20_000
        for p in 0..<n { counts[try InferenceTape.choose(row[...], sampling: TapeSampling(temperature: 1), tape: tape, position: p).token] += 1 }
        let e = row.map { exp(Double($0)) }
        let total = e.reduce(0, +)
        for i in 0..<4 {
            let expected = e[i] / total * Double(n)
            // Five standard deviations of a binomial count.
            #expect(abs(Double(counts[i]) - expected) < 5 * sqrt(expected), "token \(i): \(counts[i]) vs \(expected)")
        }
    }

    @Test func badRowsAndParametersAreTypedErrors() {
        let tape = InferenceTape(seed: .zero)
        #expect(throws: TapeError.emptyRow) { try InferenceTape.choose([Float]()[...], sampling: .greedy, tape: nil, position: 0) }
        #expect(throws: TapeError.nonFiniteLogit(index: 1)) { try InferenceTape.choose([1, .nan, 2][...], sampling: .greedy, tape: nil, position: 0) }
        #expect(throws: TapeError.nonFiniteLogit(index: 2)) {
            try InferenceTape.choose([1, 2, .infinity][...], sampling: TapeSampling(temperature: 1), tape: tape, position: 0)
        }
        #expect(throws: TapeError.self) { try InferenceTape.choose([1, 2][...], sampling: TapeSampling(temperature: 1), tape: nil, position: 0) }
        #expect(throws: TapeError.self) { try InferenceTape.choose([1, 2][...], sampling: TapeSampling(temperature: -1), tape: tape, position: 0) }
        #expect(throws: TapeError.self) { try InferenceTape.choose([1, 2][...], sampling: TapeSampling(temperature: 1, topP: 0), tape: tape, position: 0) }
        #expect(throws: TapeError.tokenOutOfRange(token: 2, vocabularySize: 2)) {
            try InferenceTape.choose([1, 2][...], sampling: .greedy, tape: nil, position: 0, against: 2)
        }
    }

    /// The worker's sampled tokens are the tape's choices: re-running each position from the full
    /// sequence (as a validator does) recomputes the same token at every step.
    @Test func sampledGenerationIsTheTapeChoiceAtEveryPosition() throws {
        let model = TestModels.small
        let prompt = TestModels.tokens(5, salt: 11)
        let seed = Blake2b.hash256(Array("generation tape".utf8))
        let sampling = SamplingParameters(temperature: 1.1, topP: 0.95, topK: 60, tapeSeed: seed)
        let result = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 12, sampling: sampling)])[0]
        var sequence = prompt
        for (t, generated) in result.tokens.enumerated() {
            let logits = try model.forward([ForwardSequence(tokens: sequence)]).logits[0][0]
            let recomputed = try InferenceTape.choose(logits, sampling: sampling.tape, tape: InferenceTape(seed: seed), position: t)
            #expect(recomputed.token == generated.token, "position \(t)")
            #expect(generated.choice?.usedTape == true && generated.choice?.kept == recomputed.kept)
            sequence.append(generated.token)
        }
        // Another seed gives another output.
        let other = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 12,
                                                          sampling: SamplingParameters(temperature: 1.1, topP: 0.95, topK: 60, tapeSeed: .zero))])[0]
        #expect(other.tokens.map(\.token) != result.tokens.map(\.token))
    }

    /// Swift against the numpy worker on the same synthetic model and tapes
    /// (`vectors/tape-synthetic.json`, Tools/pyworker/make_vectors.py): the same sampled tokens.
    /// The smallest margin in those runs is ~0.007, far above the two backends' logit differences.
    @Test func sampledTokensMatchThePythonWorker() async throws {
        let v = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.vector("tape-synthetic.json"))) as? JSON)
        #expect(v["synthetic_seed"] as? String == SyntheticModel.devnetSeed.hex)
        let service = try await WorkerServiceTests.service()
        let cases = try #require(v["cases"] as? [JSON])
        #expect(cases.count >= 4)
        for c in cases {
            let reply = try await service.generate(GenerateRequest(
                model: "chorus/synthetic-tiny", promptTokens: try #require(c["prompt"] as? [Int]), maxTokens: try #require(c["max_tokens"] as? Int),
                sampling: .init(temperature: try #require(c["temperature"] as? Double), topK: try #require(c["top_k"] as? Int),
                                topP: try #require(c["top_p"] as? Double), tapeSeed: try #require(c["tape_seed"] as? String)),
                stopTokens: [])) { _ in true }
            #expect(reply.tokens.map(\.id) == c["tokens"] as? [Int])
            #expect(reply.tokens.map { $0.tape?.kept ?? 0 } == c["kept"] as? [Int])
        }
    }

    @Test func workerTakesATapeSeedAndReportsTheTape() async throws {
        let service = try await WorkerServiceTests.service()
        let prompt = [1, 2, 3, 4]
        let seedHex = Blake2b.hash256(Array("worker tape".utf8)).hex
        let reply = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt, maxTokens: 6,
                                                               sampling: .init(temperature: 0.9, topK: 40, tapeSeed: seedHex), stopTokens: [])) { _ in true }
        #expect(reply.seed == nil)
        #expect(reply.tokens.allSatisfy { $0.tape?.choice == $0.id && ($0.tape?.kept ?? 0) >= 1 })
        let again = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt, maxTokens: 6,
                                                               sampling: .init(temperature: 0.9, topK: 40, tapeSeed: seedHex), stopTokens: [])) { _ in true }
        #expect(again.tokens.map(\.id) == reply.tokens.map(\.id))
        // A u64 seed keys the tape through BLAKE2b-256("chorus/worker/sample/1\0" ‖ u64 seed).
        let bySeed = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt, maxTokens: 6,
                                                                sampling: .init(temperature: 0.9, topK: 40, seed: 5), stopTokens: [])) { _ in true }
        let derived = SamplingParameters.tapeSeed(workerSeed: 5).hex
        let byKey = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt, maxTokens: 6,
                                                               sampling: .init(temperature: 0.9, topK: 40, tapeSeed: derived), stopTokens: [])) { _ in true }
        #expect(bySeed.seed == 5 && bySeed.tokens.map(\.id) == byKey.tokens.map(\.id))
        // Greedy lines carry no tape.
        let greedy = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt, maxTokens: 3)) { _ in true }
        #expect(greedy.tokens.allSatisfy { $0.tape == nil })
        for bad in ["00", String(repeating: "g", count: 64), String(repeating: "AB", count: 32)] {
            await #expect(throws: WorkerError.self) {
                _ = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt,
                                                               sampling: .init(temperature: 1, tapeSeed: bad))) { _ in true }
            }
        }
        await #expect(throws: WorkerError.self) {
            _ = try await service.generate(GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: prompt,
                                                           sampling: .init(temperature: 1, seed: 1, tapeSeed: seedHex))) { _ in true }
        }
    }
}

private extension String {
    func leftPad(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
