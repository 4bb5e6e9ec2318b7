/// The shape of a Llama-family decoder: pre-RMSNorm blocks with rotary attention (grouped-query)
/// and a SwiGLU feed-forward. Read from GGUF metadata (`<arch>.*` keys) or set by a synthetic model.
public struct LlamaConfig: Sendable, Equatable, Hashable, Codable {
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int
    public var feedForwardSize: Int
    public var vocabularySize: Int
    /// Positions the model was trained for; sequences may not exceed it.
    public var contextLength: Int
    /// RoPE base θ (`<arch>.rope.freq_base`).
    public var ropeBase: Float
    /// Leading dimensions of each head that RoPE rotates (`<arch>.rope.dimension_count`).
    public var ropeDimensions: Int
    /// RMSNorm epsilon (`<arch>.attention.layer_norm_rms_epsilon`).
    public var rmsEpsilon: Float
    /// The output projection reuses `token_embd` (no `output.weight`).
    public var tiedEmbeddings: Bool

    public init(hiddenSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int, headDimension: Int? = nil,
                feedForwardSize: Int, vocabularySize: Int, contextLength: Int, ropeBase: Float = 10_000,
                ropeDimensions: Int? = nil, rmsEpsilon: Float = 1e-5, tiedEmbeddings: Bool = true) {
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        let hd = headDimension ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.headDimension = hd
        self.feedForwardSize = feedForwardSize
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeBase = ropeBase
        self.ropeDimensions = ropeDimensions ?? hd
        self.rmsEpsilon = rmsEpsilon
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Width of the query projection (heads × head dimension).
    public var queryWidth: Int { headCount * headDimension }
    /// Width of the key and value projections (KV heads × head dimension).
    public var kvWidth: Int { kvHeadCount * headDimension }

    /// Parameters, counting tied embeddings once. Only meaningful for a shape that passed
    /// `validationFailure` (which bounds every size, so this cannot overflow).
    public var parameterCount: Int { checkedParameterCount ?? .max }

    /// The largest value any one size may take (2^24): far above any real model (vocabularies of
    /// 256 K, hidden sizes of 16 K, contexts of 1 M positions), and small enough that the products
    /// the model computes (rows × columns, positions × KV width) stay far from `Int.max`. Sizes come
    /// from files and requests, so they are checked before any arithmetic (Specs/worker.md §4.4).
    public static let maxDimension = 1 << 24
    /// At most this many layers.
    public static let maxLayers = 4096

    /// The parameter count with every product and sum checked; nil on overflow.
    var checkedParameterCount: Int? {
        func mul(_ a: Int, _ b: Int) -> Int? {
            let (r, o) = a.multipliedReportingOverflow(by: b)
            return o ? nil : r
        }
        func add(_ values: Int?...) -> Int? {
            var sum = 0
            for v in values {
                guard let v else { return nil }
                let (r, o) = sum.addingReportingOverflow(v)
                if o { return nil }
                sum = r
            }
            return sum
        }
        guard let q = mul(headCount, headDimension), let kv = mul(kvHeadCount, headDimension),
              let qkv = add(q, mul(2, kv)),
              let perLayer = add(mul(2, hiddenSize), mul(hiddenSize, qkv), mul(q, hiddenSize),
                                 mul(3, mul(hiddenSize, feedForwardSize) ?? .max)),
              let embeddings = mul(mul(vocabularySize, hiddenSize) ?? .max, tiedEmbeddings ? 1 : 2)
        else { return nil }
        return add(embeddings, hiddenSize, mul(layerCount, perLayer))
    }

    /// Why the shape cannot run, or nil when it can.
    public var validationFailure: String? {
        if hiddenSize <= 0 || layerCount <= 0 || headCount <= 0 || kvHeadCount <= 0 || headDimension <= 0
            || feedForwardSize <= 0 || vocabularySize <= 0 || contextLength <= 0 {
            return "all sizes must be positive"
        }
        let sizes = [hiddenSize, headCount, kvHeadCount, headDimension, feedForwardSize, vocabularySize, contextLength]
        if sizes.contains(where: { $0 > Self.maxDimension }) || layerCount > Self.maxLayers {
            return "sizes must be at most \(Self.maxDimension) (layers at most \(Self.maxLayers))"
        }
        if headCount % kvHeadCount != 0 { return "head count \(headCount) is not a multiple of KV head count \(kvHeadCount)" }
        if ropeDimensions <= 0 || ropeDimensions > headDimension || ropeDimensions % 2 != 0 {
            return "RoPE dimension count \(ropeDimensions) must be even and at most the head dimension \(headDimension)"
        }
        if !(ropeBase > 0) || !ropeBase.isFinite { return "RoPE base \(ropeBase) must be positive" }
        if !(rmsEpsilon > 0) || !rmsEpsilon.isFinite { return "RMSNorm epsilon \(rmsEpsilon) must be positive" }
        if checkedParameterCount == nil { return "the parameter count overflows" }
        return nil
    }

    /// Reads the configuration of a `general.architecture = llama` GGUF file.
    public init(gguf file: GGUFFile) throws(GGUFError) {
        let arch = try file.requiredString("general.architecture")
        guard arch == "llama" else {
            throw GGUFError(file: file.path, .invalidMetadata(key: "general.architecture", expected: "\"llama\"", found: "\"\(arch)\""))
        }
        let hidden = try file.requiredInt("llama.embedding_length")
        let heads = try file.requiredInt("llama.attention.head_count")
        let kvHeads = try file.optionalInt("llama.attention.head_count_kv") ?? heads
        let headDim = try file.optionalInt("llama.attention.key_length") ?? (heads > 0 ? hidden / heads : 0)
        if let valueLength = try file.optionalInt("llama.attention.value_length"), valueLength != headDim {
            throw GGUFError(file: file.path, .invalidMetadata(key: "llama.attention.value_length", expected: "\(headDim) (equal to the key length)", found: "\(valueLength)"))
        }
        if let scaling = file.metadata["llama.rope.scaling.type"], scaling.stringValue != "none" {
            throw GGUFError(file: file.path, .invalidMetadata(key: "llama.rope.scaling.type", expected: "absent or \"none\"", found: scaling.summary))
        }
        let vocab: Int
        if let v = try file.optionalInt("llama.vocab_size") {
            vocab = v
        } else if let embedding = file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 {
            vocab = embedding.dimensions[1]
        } else {
            throw GGUFError(file: file.path, .missingMetadata(key: "llama.vocab_size"))
        }
        self.init(
            hiddenSize: hidden,
            layerCount: try file.requiredInt("llama.block_count"),
            headCount: heads,
            kvHeadCount: kvHeads,
            headDimension: headDim,
            feedForwardSize: try file.requiredInt("llama.feed_forward_length"),
            vocabularySize: vocab,
            contextLength: try file.requiredInt("llama.context_length"),
            ropeBase: Float(try file.optionalDouble("llama.rope.freq_base") ?? 10_000),
            ropeDimensions: try file.optionalInt("llama.rope.dimension_count") ?? headDim,
            rmsEpsilon: Float(try file.requiredDouble("llama.attention.layer_norm_rms_epsilon")),
            tiedEmbeddings: file.tensor(named: "output.weight") == nil)
        if let failure = validationFailure {
            throw GGUFError(file: file.path, .invalidMetadata(key: "llama.*", expected: "a consistent model shape", found: failure))
        }
    }
}
