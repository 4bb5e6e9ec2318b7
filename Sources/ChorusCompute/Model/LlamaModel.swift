/// A Llama-family decoder held in fp32, with a batched forward pass built on `cblas_sgemm`.
///
/// Thread safety: the weights are written only during `init` and never again, so the model may be
/// shared across threads (`Sendable`). `forward` may be called from any thread; passes are
/// serialised process-wide because each already uses every core through OpenBLAS, and running two
/// at once would only make both slower (and OpenBLAS is not reliably re-entrant). KV caches and
/// hooks belong to the caller and are used only on the calling thread.
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    let weights: LlamaWeights
    let rope: RoPETable

    /// Rows of queries handled per attention block, which bounds the score buffer.
    static let attentionBlockRows = 256

    init(config: LlamaConfig, source: some TensorSource) throws(GGUFError) {
        self.config = config
        weights = try LlamaWeights(config: config, source: source)
        rope = RoPETable(config: config)
    }

    /// Loads a Llama GGUF, dequantizing every tensor to fp32 once.
    public convenience init(gguf file: GGUFFile) throws(GGUFError) {
        try self.init(config: LlamaConfig(gguf: file), source: GGUFTensorSource(file: file))
    }

    /// Runs `sequences` through the model in one batched pass: all their new rows go through each
    /// projection as a single GEMM; attention is per sequence and causal, against the sequence's
    /// cache (if any) plus its own new rows.
    ///
    /// Input errors (unknown tokens, overflowing context, bad shapes, misused caches) are thrown
    /// before any cache is touched.
    public func forward(_ sequences: [ForwardSequence], hooks: ForwardHooks = ForwardHooks()) throws(ComputeError) -> ForwardOutput {
        let plan = try ForwardPlan(model: self, sequences: sequences)
        return BLAS.serialized {
            ForwardPass(model: self, plan: plan, sequences: sequences, hooks: hooks).run()
        }
    }
}

/// The validated shape of one batched call: where each sequence's rows are, where its positions
/// start and which rows it wants back.
struct ForwardPlan {
    let rowRanges: [Range<Int>]
    let startPositions: [Int]
    let logitRows: [Range<Int>]
    let hiddenRows: [Range<Int>]
    var totalRows: Int { rowRanges.last?.upperBound ?? 0 }

    init(model: LlamaModel, sequences: [ForwardSequence]) throws(ComputeError) {
        guard !sequences.isEmpty else { throw .invalidRequest(reason: "a forward pass needs at least one sequence") }
        let c = model.config
        var rows: [Range<Int>] = [], starts: [Int] = [], logits: [Range<Int>] = [], hidden: [Range<Int>] = []
        var caches = Set<ObjectIdentifier>()
        var total = 0
        for (s, sequence) in sequences.enumerated() {
            let n: Int
            switch sequence.input {
            case let .tokens(ids):
                for id in ids where id < 0 || id >= c.vocabularySize {
                    throw .unknownToken(id: id, vocabularySize: c.vocabularySize)
                }
                n = ids.count
            case let .embeddings(values):
                guard values.count % c.hiddenSize == 0 else {
                    throw .embeddingShape(count: values.count, hiddenSize: c.hiddenSize)
                }
                n = values.count / c.hiddenSize
            }
            guard n > 0 else { throw .emptySequence(index: s) }
            var start = 0
            if let cache = sequence.cache {
                guard cache.owner == ObjectIdentifier(model) else {
                    throw .cacheMismatch(reason: "it was created for a different model")
                }
                guard caches.insert(ObjectIdentifier(cache)).inserted else {
                    throw .cacheMismatch(reason: "the same cache is used by two sequences of one batch")
                }
                start = cache.count
                guard start + n <= cache.capacity else { throw .contextOverflow(needed: start + n, capacity: cache.capacity) }
            } else {
                guard n <= c.contextLength else { throw .contextOverflow(needed: n, capacity: c.contextLength) }
            }
            rows.append(total..<(total + n))
            starts.append(start)
            logits.append(try sequence.logits.resolve(rowCount: n, sequence: s))
            hidden.append(try sequence.hidden.resolve(rowCount: n, sequence: s))
            total += n
        }
        rowRanges = rows
        startPositions = starts
        logitRows = logits
        hiddenRows = hidden
    }
}
