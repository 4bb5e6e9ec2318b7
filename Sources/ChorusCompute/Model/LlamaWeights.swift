/// Where tensor values come from when a model is assembled: a GGUF file or a synthetic
/// generator. `fill` writes exactly `dimensions.reduce(1, *)` fp32 values in ggml order;
/// `matrix` gives a `[in, out]` matrix in the form the model keeps (fp32 unless the source has
/// quantized blocks).
protocol TensorSource {
    func fill(_ name: String, dimensions: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws(GGUFError)
    func matrix(_ name: String, dimensions: [Int]) throws(GGUFError) -> QuantizedMatrix
}

extension TensorSource {
    func matrix(_ name: String, dimensions: [Int]) throws(GGUFError) -> QuantizedMatrix {
        try QuantizedMatrix(rows: dimensions[1], columns: dimensions[0]) { (buffer) throws(GGUFError) in
            try fill(name, dimensions: dimensions, into: buffer)
        }
    }
}

/// One transformer block's weights, with projections fused so each step is a single GEMM:
/// `qkv` stacks the rows of Wq, Wk, Wv ([queryWidth + 2·kvWidth] × hidden), `gateUp` stacks
/// Wgate and Wup ([2·ffn] × hidden). All matrices are row-major with one row per output feature,
/// exactly as GGUF stores them, and kept in the file's block format (`WeightMatrix`).
struct LayerWeights {
    let attentionNorm: FloatBuffer
    let qkv: WeightMatrix
    let attentionOutput: WeightMatrix
    let ffnNorm: FloatBuffer
    let gateUp: WeightMatrix
    let down: WeightMatrix
}

/// A model's weights, assembled once and never written again: norms in fp32, matrices in their
/// stored block format.
struct LlamaWeights {
    let tokenEmbedding: WeightMatrix
    let layers: [LayerWeights]
    let outputNorm: FloatBuffer
    /// The same matrix as `tokenEmbedding` when the embeddings are tied.
    let output: WeightMatrix

    /// The most fp32 elements one layer matrix expands to (the prefill scratch's lower bound).
    var largestLayerMatrix: Int {
        layers.map { [$0.qkv, $0.attentionOutput, $0.gateUp, $0.down].map { $0.rows * $0.columns }.max() ?? 0 }.max() ?? 0
    }

    /// Bytes held by all matrices and norms.
    var byteCount: Int {
        var total = tokenEmbedding.byteCount + 4 * outputNorm.count
        if output.parts.first !== tokenEmbedding.parts.first { total += output.byteCount }
        for l in layers {
            total += l.qkv.byteCount + l.attentionOutput.byteCount + l.gateUp.byteCount + l.down.byteCount
            total += 4 * (l.attentionNorm.count + l.ffnNorm.count)
        }
        return total
    }

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
        /// Several [in × out_i] matrices stacked by rows, each kept in its own format.
        func stacked(_ parts: [(String, [Int])]) throws(GGUFError) -> WeightMatrix {
            var matrices: [QuantizedMatrix] = []
            for (name, dims) in parts { matrices.append(try source.matrix(name, dimensions: dims)) }
            return WeightMatrix(matrices)
        }

        tokenEmbedding = try stacked([("token_embd.weight", [d, config.vocabularySize])])
        var layers: [LayerWeights] = []
        layers.reserveCapacity(config.layerCount)
        for l in 0..<config.layerCount {
            let p = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: try load(p + "attn_norm.weight", [d]),
                qkv: try stacked([(p + "attn_q.weight", [d, config.queryWidth]),
                                  (p + "attn_k.weight", [d, config.kvWidth]),
                                  (p + "attn_v.weight", [d, config.kvWidth])]),
                attentionOutput: try stacked([(p + "attn_output.weight", [config.queryWidth, d])]),
                ffnNorm: try load(p + "ffn_norm.weight", [d]),
                gateUp: try stacked([(p + "ffn_gate.weight", [d, config.feedForwardSize]),
                                     (p + "ffn_up.weight", [d, config.feedForwardSize])]),
                down: try stacked([(p + "ffn_down.weight", [config.feedForwardSize, d])])))
        }
        self.layers = layers
        outputNorm = try load("output_norm.weight", [d])
        output = config.tiedEmbeddings ? tokenEmbedding : try stacked([("output.weight", [d, config.vocabularySize])])
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

    /// The tensor's blocks as stored (Q4_0, Q4_1, Q8_0), other types widened to fp32.
    func matrix(_ name: String, dimensions: [Int]) throws(GGUFError) -> QuantizedMatrix {
        guard let info = file.tensor(named: name) else { throw GGUFError(file: file.path, .missingTensor(name: name)) }
        guard info.dimensions == dimensions else {
            throw GGUFError(file: file.path, .shapeMismatch(tensor: name, expected: dimensions, found: info.dimensions))
        }
        return file.withRawBytes(info) { QuantizedMatrix(rows: dimensions[1], columns: dimensions[0], type: info.type, source: $0) }
    }
}
