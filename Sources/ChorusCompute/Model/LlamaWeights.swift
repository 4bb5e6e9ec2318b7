/// Where fp32 tensor values come from when a model is assembled: a GGUF file or a synthetic
/// generator. `fill` writes exactly `dimensions.reduce(1, *)` values in ggml order.
protocol TensorSource {
    func fill(_ name: String, dimensions: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws(GGUFError)
}

/// One transformer block's weights, with projections fused so each step is a single GEMM:
/// `qkv` stacks the rows of Wq, Wk, Wv ([queryWidth + 2·kvWidth] × hidden), `gateUp` stacks
/// Wgate and Wup ([2·ffn] × hidden). All matrices are row-major with one row per output feature,
/// exactly as GGUF stores them.
struct LayerWeights {
    let attentionNorm: FloatBuffer
    let qkv: FloatBuffer
    let attentionOutput: FloatBuffer
    let ffnNorm: FloatBuffer
    let gateUp: FloatBuffer
    let down: FloatBuffer
}

/// A model's weights as fp32, assembled once and never written again.
struct LlamaWeights {
    let tokenEmbedding: FloatBuffer
    let layers: [LayerWeights]
    let outputNorm: FloatBuffer
    /// The same buffer as `tokenEmbedding` when the embeddings are tied.
    let output: FloatBuffer

    /// The tensors a Llama GGUF holds for `config`, with their ggml dimensions (innermost first).
    static func tensorShapes(_ config: LlamaConfig) -> [(name: String, dimensions: [Int])] {
        let d = config.hiddenSize
        var shapes: [(name: String, dimensions: [Int])] = [("token_embd.weight", [d, config.vocabularySize])]
        for l in 0..<config.layerCount {
            let p = "blk.\(l)."
            shapes += [
                (p + "attn_norm.weight", [d]),
                (p + "attn_q.weight", [d, config.queryWidth]),
                (p + "attn_k.weight", [d, config.kvWidth]),
                (p + "attn_v.weight", [d, config.kvWidth]),
                (p + "attn_output.weight", [config.queryWidth, d]),
                (p + "ffn_norm.weight", [d]),
                (p + "ffn_gate.weight", [d, config.feedForwardSize]),
                (p + "ffn_up.weight", [d, config.feedForwardSize]),
                (p + "ffn_down.weight", [config.feedForwardSize, d]),
            ]
        }
        shapes.append(("output_norm.weight", [d]))
        if !config.tiedEmbeddings { shapes.append(("output.weight", [d, config.vocabularySize])) }
        return shapes
    }

    init(config: LlamaConfig, source: some TensorSource) throws(GGUFError) {
        let d = config.hiddenSize
        func load(_ name: String, _ dims: [Int]) throws(GGUFError) -> FloatBuffer {
            let buffer = FloatBuffer(count: dims.reduce(1, *))
            try source.fill(name, dimensions: dims, into: buffer.buffer)
            return buffer
        }
        /// Loads several [in × out_i] matrices into one buffer, one after another (row-stacked).
        func stacked(_ parts: [(String, [Int])]) throws(GGUFError) -> FloatBuffer {
            let total = parts.reduce(0) { $0 + $1.1.reduce(1, *) }
            let buffer = FloatBuffer(count: total)
            var offset = 0
            for (name, dims) in parts {
                let n = dims.reduce(1, *)
                try source.fill(name, dimensions: dims, into: UnsafeMutableBufferPointer(rebasing: buffer.buffer[offset..<(offset + n)]))
                offset += n
            }
            return buffer
        }

        tokenEmbedding = try load("token_embd.weight", [d, config.vocabularySize])
        var layers: [LayerWeights] = []
        layers.reserveCapacity(config.layerCount)
        for l in 0..<config.layerCount {
            let p = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: try load(p + "attn_norm.weight", [d]),
                qkv: try stacked([(p + "attn_q.weight", [d, config.queryWidth]),
                                  (p + "attn_k.weight", [d, config.kvWidth]),
                                  (p + "attn_v.weight", [d, config.kvWidth])]),
                attentionOutput: try load(p + "attn_output.weight", [config.queryWidth, d]),
                ffnNorm: try load(p + "ffn_norm.weight", [d]),
                gateUp: try stacked([(p + "ffn_gate.weight", [d, config.feedForwardSize]),
                                     (p + "ffn_up.weight", [d, config.feedForwardSize])]),
                down: try load(p + "ffn_down.weight", [config.feedForwardSize, d])))
        }
        self.layers = layers
        outputNorm = try load("output_norm.weight", [d])
        output = config.tiedEmbeddings ? tokenEmbedding : try load("output.weight", [d, config.vocabularySize])
    }
}

/// Reads tensors from a GGUF file, checking presence and shape.
struct GGUFTensorSource: TensorSource {
    let file: GGUFFile

    func fill(_ name: String, dimensions: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws(GGUFError) {
        guard let info = file.tensor(named: name) else { throw GGUFError(file: file.path, .missingTensor(name: name)) }
        guard info.dimensions == dimensions else {
            throw GGUFError(file: file.path, .shapeMismatch(tensor: name, expected: dimensions, found: info.dimensions))
        }
        file.dequantize(info, into: destination)
    }
}
