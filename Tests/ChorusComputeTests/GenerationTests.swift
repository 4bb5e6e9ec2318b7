import ChorusCrypto
import Foundation
import Testing
@testable import ChorusCompute

@Suite struct GenerationTests {
    let model = TestModels.small

    @Test func splitMix64KnownOutputs() {
        var a = SplitMix64(seed: 0)
        #expect([a.next(), a.next(), a.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        var b = SplitMix64(seed: 12345)
        #expect([b.next(), b.next()] == [0x2211_8258_A9D1_11A0, 0x346E_DCE5_F713_F8ED])
        var c = SplitMix64(seed: 7)
        for _ in 0..<1000 {
            let u = c.nextUnit()
            #expect(u >= 0 && u < 1)
        }
    }

    @Test func greedyEqualsArgmaxOfFullRecompute() throws {
        let prompt = TestModels.tokens(5, salt: 3)
        let result = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 8, topLogprobs: 3)])[0]
        #expect(result.finishReason == .length)
        #expect(result.tokens.count == 8)
        var sequence = prompt
        for generated in result.tokens {
            let logits = try model.forward([ForwardSequence(tokens: sequence)]).logits[0][0]
            #expect(generated.token == LogProbabilities.argmax(logits))
            #expect(generated.top.first?.token == generated.token)
            #expect(abs(generated.top[0].logprob - generated.logprob) < 1e-12)
            #expect(generated.top.count == 3)
            #expect(zip(generated.top, generated.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
            sequence.append(generated.token)
        }
    }

    @Test func sampledGenerationIsDeterministicPerSeed() throws {
        let prompt = TestModels.tokens(4, salt: 1)
        func run(_ seed: UInt64) throws -> [Int] {
            let sampling = SamplingParameters(temperature: 1.3, topP: 0.95, topK: 50, seed: seed)
            return try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 24, sampling: sampling)])[0].tokens.map(\.token)
        }
        let a = try run(42), b = try run(42), c = try run(43)
        #expect(a == b)
        #expect(a != c)
        #expect(a != (try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 24)])[0].tokens.map(\.token)))
    }

    @Test func batchedGenerationEqualsSeparateRuns() throws {
        let requests = [
            GenerationRequest(promptTokens: TestModels.tokens(3, salt: 1), maxTokens: 6),
            GenerationRequest(promptTokens: TestModels.tokens(9, salt: 2), maxTokens: 10,
                              sampling: SamplingParameters(temperature: 0.8, topK: 20, seed: 9)),
            GenerationRequest(promptTokens: TestModels.tokens(1, salt: 3), maxTokens: 4,
                              sampling: SamplingParameters(temperature: 1, topP: 0.9, seed: 1)),
        ]
        var streamed: [[Int]] = [[], [], []]
        let together = try model.generate(requests) { s, token in
            streamed[s].append(token.token)
            return true
        }
        for (i, r) in requests.enumerated() {
            let alone = try model.generate([r])[0]
            #expect(together[i].tokens.map(\.token) == alone.tokens.map(\.token))
            #expect(streamed[i] == alone.tokens.map(\.token))
            for (x, y) in zip(together[i].tokens, alone.tokens) { #expect(abs(x.logprob - y.logprob) < 1e-4) }
        }
    }

    @Test func stopTokensCancellationAndLimits() throws {
        let prompt = TestModels.tokens(6, salt: 4)
        let free = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 6)])[0].tokens.map(\.token)
        let stopAt = free[2]
        let stopped = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 6, stopTokens: [stopAt])])[0]
        let firstStop = free.firstIndex(of: stopAt)!
        #expect(stopped.finishReason == .stop)
        #expect(stopped.tokens.map(\.token) == Array(free.prefix(firstStop + 1)))

        var seen = 0
        let cancelled = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 6)]) { _, _ in
            seen += 1
            return seen < 2
        }[0]
        #expect(cancelled.finishReason == .cancelled)
        #expect(cancelled.tokens.count == 2)

        #expect(try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 0)])[0].tokens.isEmpty)
        // 510 prompt tokens in a 512 context leave room for 3 generated tokens.
        let long = try model.generate([GenerationRequest(promptTokens: TestModels.tokens(510), maxTokens: 10)])[0]
        #expect(long.tokens.count == 3 && long.finishReason == .length)
    }

    @Test func invalidRequestsAreTypedErrors() {
        #expect(throws: ComputeError.contextOverflow(needed: 513, capacity: 512)) {
            try model.generate([GenerationRequest(promptTokens: TestModels.tokens(513), maxTokens: 1)])
        }
        #expect(throws: ComputeError.unknownToken(id: 300, vocabularySize: 256)) {
            try model.generate([GenerationRequest(promptTokens: [1, 300], maxTokens: 1)])
        }
        #expect(throws: ComputeError.emptySequence(index: 0)) {
            try model.generate([GenerationRequest(promptTokens: [], maxTokens: 1)])
        }
        for bad in [SamplingParameters(temperature: -1), SamplingParameters(topP: 0), SamplingParameters(topP: 1.5),
                    SamplingParameters(topK: -1), SamplingParameters(temperature: .nan)] {
            #expect(throws: ComputeError.self) {
                try model.generate([GenerationRequest(promptTokens: [1], maxTokens: 1, sampling: bad)])
            }
        }
        #expect(throws: ComputeError.self) { try model.score([ScoreRequest(promptTokens: [1], completionTokens: [])]) }
        #expect(throws: ComputeError.self) { try model.score([ScoreRequest(promptTokens: [], completionTokens: [1])]) }
        #expect(throws: ComputeError.unknownToken(id: 256, vocabularySize: 256)) {
            try model.score([ScoreRequest(promptTokens: [1], completionTokens: [256])])
        }
    }

    @Test func scoringAgreesWithGenerationAndIsNormalised() throws {
        let prompt = TestModels.tokens(7, salt: 8)
        let generated = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 12,
                                                              sampling: SamplingParameters(temperature: 1, seed: 3), topLogprobs: 5)])[0]
        let completion = generated.tokens.map(\.token)
        let scored = try model.score([ScoreRequest(promptTokens: prompt, completionTokens: completion, topLogprobs: 5),
                                      ScoreRequest(promptTokens: [1], completionTokens: [2, 3], topLogprobs: 256)])
        #expect(scored[0].map(\.token) == completion)
        for (s, g) in zip(scored[0], generated.tokens) {
            #expect(abs(s.logprob - g.logprob) < 1e-4)
            #expect(s.top.map(\.token) == g.top.map(\.token))
        }
        for position in scored[1] {
            #expect(position.top.count == 256)
            let mass = position.top.reduce(0.0) { $0 + exp($1.logprob) }
            #expect(abs(mass - 1) < 1e-9)
            #expect(position.logprob <= 0)
            #expect(position.top.contains { $0.token == position.token && $0.logprob == position.logprob })
        }
        let again = try model.score([ScoreRequest(promptTokens: prompt, completionTokens: completion, topLogprobs: 5)])
        #expect(again[0] == scored[0] || zip(again[0], scored[0]).allSatisfy { abs($0.logprob - $1.logprob) < 1e-5 })
        let repeatSame = try model.score([ScoreRequest(promptTokens: prompt, completionTokens: completion, topLogprobs: 5)])
        #expect(repeatSame[0] == again[0], "the same request scores bit-identically")
    }
}
