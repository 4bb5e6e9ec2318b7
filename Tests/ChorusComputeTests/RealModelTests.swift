import ChorusWorkerAPI
import Foundation
import Testing
@testable import ChorusCompute

/// The real-model tier: SmolLM2-135M-Instruct, checked against Specs/vectors/smollm2-reference.json
/// (HF tokenizers + an independent numpy forward, Tools/vectors/smollm2_reference.py).
/// Opt-in: run `Tools/test-real-model.sh` (fetches the model, sets CHORUS_MODEL_TESTS=1).
enum RealModelTier {
    static var enabled: Bool { ProcessInfo.processInfo.environment["CHORUS_MODEL_TESTS"] == "1" }
}

@Suite(.enabled(if: RealModelTier.enabled, "set CHORUS_MODEL_TESTS=1 (Tools/test-real-model.sh)"), .serialized)
struct RealModelTests {
    static var modelPath: String {
        ProcessInfo.processInfo.environment["CHORUS_MODEL_PATH"]
            ?? (ProcessInfo.processInfo.environment["CHORUS_MODEL_DIR"] ?? NSHomeDirectory() + "/.cache/chorus/models")
            + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    struct Reference: Decodable {
        struct Tokenized: Decodable { let text: String; let ids: [Int] }
        struct Top: Decodable { let token: Int; let logit: Float; let logprob: Double }
        let tokenize: [Tokenized]
        let chat_prompt: String
        let prompt_last_logits_top10: [Top]
        let greedy_continuation: [Int]
        let greedy_text: String
    }

    /// Loaded once for the suite (loading dequantizes ~135 M weights).
    static let loaded: Result<ResidentModel, any Error> = Result { try ResidentModel(id: "smollm2", path: modelPath) }

    let reference: Reference
    let model: ResidentModel

    init() throws {
        reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: TestPaths.vector("smollm2-reference.json")))
        model = try Self.loaded.get()
    }

    @Test func configurationIsSmolLM2() {
        let c = model.model.config
        #expect(c == LlamaConfig(hiddenSize: 576, layerCount: 30, headCount: 9, kvHeadCount: 3, feedForwardSize: 1536,
                                 vocabularySize: 49152, contextLength: 8192, ropeBase: 100_000, rmsEpsilon: c.rmsEpsilon,
                                 tiedEmbeddings: true))
        #expect(abs(c.rmsEpsilon - 1e-5) < 1e-10)
        #expect(model.tokenizer?.eosID == 2 && model.tokenizer?.bosID == 1)
    }

    @Test func tokenizationMatchesHuggingFace() throws {
        let tokenizer = try #require(model.tokenizer)
        for t in reference.tokenize {
            #expect(tokenizer.encode(t.text) == t.ids, "\(t.text.debugDescription)")
            #expect(tokenizer.decode(t.ids, renderSpecial: true) == t.text)
        }
    }

    @Test func chatTemplateRendersTheReferencePrompt() throws {
        let prompt = try model.renderChat([ChatMessage(role: "user", content: "What is the capital of France?")])
        #expect(prompt == reference.chat_prompt)
    }

    @Test func logitsMatchTheNumpyReference() throws {
        let tokens = try #require(model.tokenizer).encode(reference.chat_prompt)
        let logits = try model.model.forward([ForwardSequence(tokens: tokens)]).logits[0][0]
        let lse = LogProbabilities.logSumExp(logits)
        let top = LogProbabilities.top(10, of: logits, logSumExp: lse)
        #expect(Array(top.map(\.token).prefix(5)) == Array(reference.prompt_last_logits_top10.map(\.token).prefix(5)))
        for r in reference.prompt_last_logits_top10 {
            #expect(abs(logits[logits.startIndex + r.token] - r.logit) < 2e-2, "token \(r.token)")
            #expect(abs((Double(logits[logits.startIndex + r.token]) - lse) - r.logprob) < 2e-2)
        }
    }

    @Test func greedyAnswerNamesParis() throws {
        let result = try model.chat([ChatMessage(role: "user", content: "What is the capital of France?")], maxTokens: 24)
        #expect(result.text.contains("Paris"), "answer: \(result.text)")
        #expect(result.generation.tokens.map(\.token) == reference.greedy_continuation)
        #expect(result.generation.finishReason == .stop)
    }

    @Test func scoringTheAnswerAgreesWithGeneration() throws {
        let tokenizer = try #require(model.tokenizer)
        let prompt = tokenizer.encode(reference.chat_prompt)
        let generated = try model.model.generate([GenerationRequest(promptTokens: prompt, maxTokens: 12, stopTokens: [2], topLogprobs: 5)])[0]
        let scored = try model.model.score([ScoreRequest(promptTokens: prompt, completionTokens: generated.tokens.map(\.token), topLogprobs: 5)])[0]
        for (s, g) in zip(scored, generated.tokens) {
            #expect(abs(s.logprob - g.logprob) < 1e-3)
            #expect(s.top.first?.token == g.token)
        }
        #expect(scored.allSatisfy { $0.top.reduce(0.0) { $0 + exp($1.logprob) } <= 1 + 1e-9 })
    }
}
