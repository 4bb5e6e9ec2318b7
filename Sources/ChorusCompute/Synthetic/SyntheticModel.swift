public import ChorusCrypto

/// A Llama whose weights are derived from a 32-byte seed by `CounterRNG`, so any implementation
/// can rebuild it bit for bit without shipping a file: fast test models, and PoC models that need
/// no download. Specified in Specs/synthetic-models.md:
///
/// - tensor names and ggml shapes are those of a Llama GGUF (`token_embd.weight`,
///   `blk.N.attn_q.weight`, …; `output.weight` only when embeddings are untied);
/// - a 1-D tensor (an RMSNorm weight) is all 1.0;
/// - a 2-D tensor with ggml dimensions [n0, n1] (n0 innermost, the input width) holds
///   value j = normal(K, j) · 2^-s for j in 0 ..< n0·n1 in storage order, with
///   K = BLAKE2b-256("chorus/synthetic/v1/" ‖ seed ‖ name) and s = ⌈b / 2⌉ where b = ⌈log2 n0⌉,
///   so each output of x·Wᵀ has variance about 1 when x has unit variance.
public struct SyntheticModel: Sendable, Hashable {
    public var config: LlamaConfig
    public var seed: Bytes32

    public init(config: LlamaConfig, seed: Bytes32) {
        self.config = config
        self.seed = seed
    }

    static let domain = Array("chorus/synthetic/v1/".utf8)

    /// The generator key of tensor `name`.
    public static func tensorKey(seed: Bytes32, name: String) -> Bytes32 {
        Blake2b.hash256(domain + seed.bytes + Array(name.utf8))
    }

    /// The power-of-two scale exponent s of a matrix whose innermost dimension is `n0`.
    public static func scaleExponent(innerDimension n0: Int) -> Int {
        var b = 0
        while (1 << b) < n0 { b += 1 }
        return (b + 1) / 2
    }

    /// The values of tensor `name` with ggml `dimensions`, as the spec defines them.
    public func tensorValues(name: String, dimensions: [Int]) -> [Float] {
        let count = dimensions.reduce(1, *)
        if dimensions.count == 1 { return [Float](repeating: 1, count: count) }
        let rng = CounterRNG(key: SyntheticModel.tensorKey(seed: seed, name: name))
        return rng.normals(count: count, scaleExponent: SyntheticModel.scaleExponent(innerDimension: dimensions[0]))
    }

    /// Builds the model (generation is parallel; about 30 M values per second per core).
    public func build() throws(GGUFError) -> LlamaModel {
        if let failure = config.validationFailure {
            throw GGUFError(file: "synthetic", .invalidMetadata(key: "config", expected: "a consistent model shape", found: failure))
        }
        return try LlamaModel(config: config, source: SyntheticTensorSource(model: self))
    }
}

extension LlamaConfig {
    /// The smallest synthetic Llama: 2 layers, hidden 64, 4 heads / 2 KV heads, ffn 128,
    /// a 256-token byte-level vocabulary, 512 positions.
    public static let syntheticTiny = LlamaConfig(
        hiddenSize: 64, layerCount: 2, headCount: 4, kvHeadCount: 2, feedForwardSize: 128,
        vocabularySize: 256, contextLength: 512, ropeBase: 10_000, rmsEpsilon: 1e-5, tiedEmbeddings: true)

    /// As `syntheticTiny` with 4 layers and a separate output matrix (exercises the untied path).
    public static let syntheticSmall = LlamaConfig(
        hiddenSize: 64, layerCount: 4, headCount: 4, kvHeadCount: 2, feedForwardSize: 128,
        vocabularySize: 256, contextLength: 512, ropeBase: 10_000, rmsEpsilon: 1e-5, tiedEmbeddings: false)
}

/// Fills tensors from the synthetic definition.
struct SyntheticTensorSource: TensorSource {
    let model: SyntheticModel

    func fill(_ name: String, dimensions: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws(GGUFError) {
        if dimensions.count == 1 {
            destination.update(repeating: 1)
            return
        }
        let rng = CounterRNG(key: SyntheticModel.tensorKey(seed: model.seed, name: name))
        rng.fillNormals(destination, scaleExponent: SyntheticModel.scaleExponent(innerDimension: dimensions[0]))
    }
}
