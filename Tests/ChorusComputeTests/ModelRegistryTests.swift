import ChorusWorkerAPI
import Foundation
import Testing
import ChorusCrypto
@testable import ChorusCompute

@Suite struct ModelRegistryTests {
    @Test func loadLookUpUnload() throws {
        let registry = ModelRegistry()
        let loaded = try registry.load(id: "tiny", synthetic: TestModels.tinySpec)
        #expect(registry.ids == ["tiny"])
        #expect(try registry.model("tiny") === loaded)
        #expect(loaded.tokenizer?.vocabularySize == 256)
        #expect(loaded.source.hasPrefix("synthetic:"))
        #expect(throws: ModelLoadError.alreadyLoaded(id: "tiny")) { try registry.load(id: "tiny", synthetic: TestModels.smallSpec) }
        #expect(throws: ComputeError.unknownModel(id: "other")) { try registry.model("other") }
        #expect(throws: TokenizerError.self) { try loaded.renderChat([ChatMessage(role: "user", content: "hi")]) }
        #expect(registry.unload("tiny"))
        #expect(!registry.unload("tiny"))
        #expect(registry.ids.isEmpty)
        // A holder keeps using an unloaded model.
        #expect(try loaded.model.forward([ForwardSequence(tokens: [1, 2])]).logits[0].rows == 1)
    }

    @Test func loadingABadFileIsATypedError() throws {
        let registry = ModelRegistry()
        #expect(throws: ModelLoadError.self) { try registry.load(id: "x", path: "/nonexistent/model.gguf") }
        let url = try TestPaths.temporaryFile("model.gguf")
        defer { TestPaths.removeTemporary(url) }
        var writer = GGUFWriterForTests.llama(TestModels.tinySpec)
        writer.add("tokenizer.ggml.model", .string("llama"))
        try writer.write(to: url)
        #expect(throws: ModelLoadError.tokenizer(.unsupportedModel("llama"))) { try registry.load(id: "x", path: url.path) }
        #expect(registry.ids.isEmpty)
    }

    @Test func ggufWithTokenizerAndChatTemplateServesChat() throws {
        let url = try TestPaths.temporaryFile("model.gguf")
        defer { TestPaths.removeTemporary(url) }
        var writer = GGUFWriterForTests.llama(TestModels.tinySpec)
        // A byte-level vocabulary whose last two bytes stand in for ChatML's control tokens.
        var tokens = (0..<256).map { String(ByteLevel.byteToScalar[$0]) }
        tokens[254] = "<|im_start|>"
        tokens[255] = "<|im_end|>"
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string("smollm"))
        writer.add("tokenizer.ggml.tokens", .array(elementType: .string, tokens.map { .string($0) }))
        writer.add("tokenizer.ggml.token_type", .array(elementType: .int32, (0..<256).map { .int32($0 >= 254 ? 3 : 1) }))
        writer.add("tokenizer.ggml.merges", .array(elementType: .string, []))
        writer.add("tokenizer.ggml.eos_token_id", .uint32(255))
        writer.add("tokenizer.chat_template", .string(ChatTemplateTests.smolLM2))
        try writer.write(to: url)

        let registry = ModelRegistry()
        let model = try registry.load(id: "chat", path: url.path)
        #expect(model.tokenizer?.eosID == 255)
        let prompt = try model.renderChat([ChatMessage(role: "user", content: "hi")])
        #expect(model.tokenizer?.encode(prompt).first == 254)
        var streamed = 0
        let result = try model.chat([ChatMessage(role: "user", content: "hi")], maxTokens: 5) { _ in
            streamed += 1
            return true
        }
        #expect(streamed == result.generation.tokens.count)
        #expect(result.generation.tokens.count <= 5)
    }

    /// PoC-style passes (embeddings in, hooks rewriting every layer), generation and scoring from
    /// several tasks at once on one resident model: each result equals its sequential counterpart.
    @Test func pocGenerationAndScoringInterleave() async throws {
        let registry = ModelRegistry()
        let resident = try registry.load(id: "small", synthetic: TestModels.smallSpec)
        let model = resident.model
        let width = model.config.hiddenSize
        let rng = CounterRNG(key: Blake2b.hash256(Array("poc-inputs".utf8)))

        @Sendable func poc(_ nonce: Int) throws -> [Float] {
            let inputs = rng.normals(count: 8 * width, startIndex: UInt64(nonce * 8 * width))
            let hooks = ForwardHooks(afterLayer: { layer, hidden in
                // A reflection across the hyperplane orthogonal to e_layer: negate coordinate `layer`.
                for r in 0..<hidden.rowCount { hidden.row(r)[layer] = -hidden.row(r)[layer] }
            })
            return try model.forward([ForwardSequence(input: .embeddings(inputs), logits: .none, hidden: .last)], hooks: hooks).hidden[0].values
        }
        @Sendable func generate(_ seed: UInt64) throws -> [Int] {
            try model.generate([GenerationRequest(promptTokens: TestModels.tokens(5, salt: Int(seed)), maxTokens: 6,
                                                  sampling: SamplingParameters(temperature: 1, seed: seed))])[0].tokens.map(\.token)
        }
        @Sendable func score(_ salt: Int) throws -> [Double] {
            try model.score([ScoreRequest(promptTokens: TestModels.tokens(4, salt: salt), completionTokens: TestModels.tokens(6, salt: salt + 1))])[0].map(\.logprob)
        }

        let expectedPoC = try (0..<4).map(poc)
        let expectedGeneration = try (0..<3).map { try generate(UInt64($0)) }
        let expectedScores = try (0..<3).map(score)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<2 {
                for n in 0..<4 {
                    group.addTask {
                        let got = try poc(n)
                        #expect(got == expectedPoC[n], "round \(round)")
                    }
                }
                for s in 0..<3 {
                    group.addTask {
                        let got = try generate(UInt64(s))
                        #expect(got == expectedGeneration[s])
                    }
                }
                for s in 0..<3 {
                    group.addTask {
                        let got = try score(s)
                        #expect(got == expectedScores[s])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try registry.model("small") === resident)
    }
}
