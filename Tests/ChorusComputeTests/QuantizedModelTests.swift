import Foundation
import Testing
@testable import ChorusCompute

/// A small Llama stored with Q4_0/Q4_1/Q8_0 matrices (SmolLM2's mix: Q4_1 layers, Q8_0 tied
/// embeddings), loaded from a GGUF: decode steps run from the blocks, prefill from fp32
/// expansions, and the two agree; prefill is bit-identical to the same weights stored as F32.
@Suite(.serialized)
struct QuantizedModelTests {
    static let config = LlamaConfig(hiddenSize: 64, layerCount: 2, headCount: 4, kvHeadCount: 2, feedForwardSize: 96,
                                    vocabularySize: 80, contextLength: 64, ropeBase: 10_000, rmsEpsilon: 1e-5, tiedEmbeddings: true)

    /// The same random blocks written twice: as blocks, and widened to F32.
    static func files() throws -> (quantized: URL, dense: URL) {
        var rng = QuantizedKernelTests.SeededRandomForTests(state: 42)
        let model = SyntheticModel(config: config, seed: SyntheticModel.devnetSeed)
        var q = GGUFWriterForTests.llama(model), f = GGUFWriterForTests.llama(model)
        q.tensors.removeAll()
        f.tensors.removeAll()
        for (i, (name, dims)) in LlamaWeights.tensorShapes(config).enumerated() {
            if dims.count == 1 {
                let ones = [Float](repeating: 1, count: dims[0])
                q.addF32(name, dimensions: dims, values: ones)
                f.addF32(name, dimensions: dims, values: ones)
                continue
            }
            let type: GGMLType = name == "token_embd.weight" ? .q8_0 : [.q4_1, .q4_0, .q8_0][i % 3]
            let bytes = QuantizedKernelTests.randomBlocks(type, rows: dims[1], columns: dims[0], rng: &rng)
            q.addTensor(name, dimensions: dims, type: type, data: bytes)
            f.addF32(name, dimensions: dims, values: QuantizedKernelTests.dequantized(type, bytes, count: dims[0] * dims[1]))
        }
        let qURL = try TestPaths.temporaryFile("quantized.gguf"), fURL = try TestPaths.temporaryFile("dense.gguf")
        try q.write(to: qURL)
        try f.write(to: fURL)
        return (qURL, fURL)
    }

    static func load(_ url: URL) throws -> LlamaModel {
        try LlamaModel(gguf: try GGUFFile(path: url.path))
    }

    @Test func prefillIsBitIdenticalToF32WeightsAndDecodeAgrees() throws {
        let (qURL, fURL) = try Self.files()
        defer { TestPaths.removeTemporary(qURL); TestPaths.removeTemporary(fURL) }
        let quantized = try Self.load(qURL), dense = try Self.load(fURL)
        #expect(Set(quantized.weights.layers[0].qkv.parts.map(\.format)) == [.q4_0, .q4_1, .q8_0])
        #expect(quantized.weights.tokenEmbedding.parts[0].format == .q8_0)
        #expect(dense.weights.layers[0].qkv.parts.allSatisfy { $0.format == .f32 })
        #expect(quantized.weightBytes * 3 < dense.weightBytes)

        let prompt = [3, 17, 42, 5, 77, 9, 30]
        let a = try quantized.forward([ForwardSequence(tokens: prompt, logits: .all, hidden: .all)])
        let b = try dense.forward([ForwardSequence(tokens: prompt, logits: .all, hidden: .all)])
        #expect(a.logits[0].values.map(\.bitPattern) == b.logits[0].values.map(\.bitPattern))
        #expect(a.hidden[0].values.map(\.bitPattern) == b.hidden[0].values.map(\.bitPattern))

        // Decode steps (from the blocks) against the same positions in one prefill pass (sgemm).
        let cache = try KVCache(model: quantized, capacity: 16)
        _ = try quantized.forward([ForwardSequence(tokens: Array(prompt.prefix(3)), cache: cache)])
        for (i, token) in prompt.dropFirst(3).enumerated() {
            let step = try quantized.forward([ForwardSequence(tokens: [token], cache: cache)]).logits[0].values
            let full = Array(b.logits[0][3 + i])
            let scale = full.map { abs($0) }.max() ?? 1
            let worst = zip(step, full).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * max(scale, 1), "position \(3 + i): \(worst)")
        }
    }

    @Test func decodeLogitsDoNotDependOnTheBatch() throws {
        let (qURL, fURL) = try Self.files()
        defer { TestPaths.removeTemporary(qURL); TestPaths.removeTemporary(fURL) }
        let model = try Self.load(qURL)
        func caches(_ prompts: [[Int]]) throws -> [KVCache] {
            try prompts.map { p throws in
                let c = try KVCache(model: model, capacity: 16)
                _ = try model.forward([ForwardSequence(tokens: p, cache: c)])
                return c
            }
        }
        let prompts = [[1, 2, 3], [60, 61], [7, 7, 7, 7]]
        let alone = try caches([prompts[0]])
        let together = try caches(prompts)
        let one = try model.forward([ForwardSequence(tokens: [11], cache: alone[0])]).logits[0].values
        let three = try model.forward(zip([11, 12, 13], together).map { ForwardSequence(tokens: [$0], cache: $1) }).logits[0].values
        #expect(one.map(\.bitPattern) == three.map(\.bitPattern))
    }
}
