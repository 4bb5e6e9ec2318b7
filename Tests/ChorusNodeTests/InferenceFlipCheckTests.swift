import ChorusCompute
import ChorusCrypto
import ChorusProtocol
import Testing

/// The inference check of Specs/inference.md §7 end to end on the built-in engine: an executor
/// generates from the tape, a validator re-runs the model teacher-forced and counts flips with
/// `FlipCheck`. Honest executors (alone or batched with other requests) flip nowhere; one that
/// generates with another model fails, whatever logprobs it would report (laundering).
@Suite struct InferenceFlipCheckTests {
    static let real: LlamaModel = try! SyntheticModel(config: .syntheticSmall, seed: Blake2b.hash256(Array("real".utf8))).build()
    static let cheap: LlamaModel = try! SyntheticModel(config: .syntheticTiny, seed: Blake2b.hash256(Array("cheap".utf8))).build()

    static func request(temperature: UInt32 = 1_000_000, topK: UInt32 = 0, topP: UInt32 = 1_000_000, maxTokens: UInt32 = 32) throws -> InferenceRequest {
        try InferenceRequest(model: "chorus/synthetic-small", promptTokens: [72, 101, 108, 108, 111, 44, 32],
                             maxTokens: maxTokens, temperatureMillionths: temperature, topK: topK, topPMillionths: topP)
    }

    /// What an executor with `model` sends: the request's output from the tape.
    static func execute(_ request: InferenceRequest, seed: Bytes32, on model: LlamaModel, batchedWith others: Int = 0) throws -> [UInt32] {
        let s = request.sampling
        let sampling = SamplingParameters(temperature: s.temperature, topP: s.topP, topK: s.topK, tapeSeed: seed)
        let mine = GenerationRequest(promptTokens: request.promptTokens.map { Int($0) }, maxTokens: Int(request.maxTokens), sampling: sampling)
        let noise = (0..<others).map { i in
            GenerationRequest(promptTokens: [(i * 31) % 256, 5, 9], maxTokens: 20, sampling: SamplingParameters(temperature: 0.9, seed: UInt64(i)))
        }
        return try model.generate(noise + [mine])[others].tokens.map { UInt32($0.token) }
    }

    /// The validator's re-run: one teacher-forced pass of `model`, each position's choice recomputed.
    static func check(_ request: InferenceRequest, seed: Bytes32, output: [UInt32], on model: LlamaModel) throws -> FlipCheck {
        let prompt = request.promptTokens.map { Int($0) }
        let first = prompt.count - 1
        let out = try model.forward([ForwardSequence(tokens: prompt + output.dropLast().map { Int($0) },
                                                     logits: .rows(first..<(first + output.count)))])
        var check = FlipCheck(request: request, seed: seed)
        for (t, token) in output.enumerated() { try check.add(logits: out.logits[0][t], executorToken: token) }
        return check
    }

    @Test(arguments: [(1_000_000 as UInt32, 0 as UInt32, 1_000_000 as UInt32), (700_000, 40, 950_000), (1_300_000, 0, 900_000), (0, 0, 1_000_000)])
    func honestExecutorsPassAloneAndBatched(temperature: UInt32, topK: UInt32, topP: UInt32) throws {
        let request = try Self.request(temperature: temperature, topK: topK, topP: topP)
        let parameters = InferenceCheckParameters.defaults
        for (i, others) in [0, 3].enumerated() {
            let seed = Blake2b.hash256(Array("honest \(temperature) \(i)".utf8))
            let output = try Self.execute(request, seed: seed, on: Self.real, batchedWith: others)
            #expect(output.count == Int(request.maxTokens))
            let check = try Self.check(request, seed: seed, output: output, on: Self.real)
            #expect(check.positions == output.count)
            #expect(check.flips == 0, "batch of \(others + 1): \(check.flips) flips")
            #expect(check.verdict(parameters) == .valid)
        }
    }

    @Test(arguments: [(1_000_000 as UInt32, 0 as UInt32, 1_000_000 as UInt32), (700_000, 40, 950_000), (0, 0, 1_000_000)])
    func anotherModelFails(temperature: UInt32, topK: UInt32, topP: UInt32) throws {
        let request = try Self.request(temperature: temperature, topK: topK, topP: topP)
        let seed = Blake2b.hash256(Array("substitute \(temperature)".utf8))
        let output = try Self.execute(request, seed: seed, on: Self.cheap)
        let check = try Self.check(request, seed: seed, output: output, on: Self.real)
        let limit = FlipTest.maxHonestFlips(positions: check.positions, parameters: .defaults)
        #expect(check.flips > limit, "\(check.flips) flips of \(check.positions), \(limit) allowed")
        #expect(check.verdict(.defaults) == .invalid)
        #expect(check.flipMargins.count + check.outOfSet == check.flips)
        #expect(check.flipMargins.allSatisfy { $0 >= 0 })
    }

    /// An executor that ignores the tape (samples with its own randomness from the right model)
    /// fails as well: only the tape's choices pass.
    @Test func ignoringTheTapeFails() throws {
        let request = try Self.request()
        let seed = Blake2b.hash256(Array("tape".utf8))
        let output = try Self.execute(request, seed: Blake2b.hash256(Array("another tape".utf8)), on: Self.real)
        let check = try Self.check(request, seed: seed, output: output, on: Self.real)
        #expect(check.verdict(.defaults) == .invalid, "\(check.flips) flips of \(check.positions)")
    }
}
