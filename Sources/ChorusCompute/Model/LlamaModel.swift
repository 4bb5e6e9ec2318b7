/// A Llama-family decoder whose matrices stay in their stored block format (`WeightMatrix`):
/// decode steps multiply from the blocks; prefill, scoring and PoC passes run `cblas_sgemm` on
/// each matrix expanded to fp32 in a scratch buffer just before its GEMM (Specs/worker.md, numerics).
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

    /// fp32 expansion of one matrix (or slice of the output head) for the next GEMM. Used only
    /// inside `forward`, which holds the process-wide BLAS lock, so one pass at a time writes it.
    /// Empty when every matrix is already fp32 (synthetic models).
    private let scratch: FloatBuffer

    /// Rows of queries handled per attention block, which bounds the score buffer.
    static let attentionBlockRows = 256

    /// Rows of the vocabulary projection expanded at once outside decode steps (4,096 × hidden
    /// floats: 9 MB for SmolLM2).
    static let outputSliceRows = 4096

    init(config: LlamaConfig, source: some TensorSource) throws(GGUFError) {
        self.config = config
        weights = try LlamaWeights(config: config, source: source)
        rope = RoPETable(config: config)
        let all = weights.layers.flatMap { [$0.qkv, $0.attentionOutput, $0.gateUp, $0.down] } + [weights.output]
        let quantized = all.contains { !$0.isPlainFloat }
        scratch = FloatBuffer(count: quantized
            ? max(weights.largestLayerMatrix, min(Self.outputSliceRows, weights.output.rows) * weights.output.columns) : 0)
    }

    /// Bytes the weights take in memory.
    public var weightBytes: Int { weights.byteCount }

    /// Rows `range` of `w` as fp32 (row-major, `w.columns` apart), for a GEMM: the matrix's own
    /// storage when it is fp32, otherwise its expansion into `scratch`.
    /// Invariant: called only inside `forward` (under the BLAS lock); the pointer is valid until
    /// the next call.
    func expanded(_ w: WeightMatrix, rows range: Range<Int>) -> UnsafePointer<Float> {
        if w.isPlainFloat { return UnsafePointer(w.parts[0].floats + range.lowerBound * w.columns) }
        precondition(range.count * w.columns <= scratch.count, "scratch sized for every matrix at init")
        w.dequantize(rows: range, into: scratch.pointer)
        return UnsafePointer(scratch.pointer)
    }

    /// Loads a Llama GGUF, keeping Q4_0/Q4_1/Q8_0 matrices in their blocks (other types as fp32).
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
    /// Every sequence feeds exactly one token (a decode step): projections multiply from the
    /// quantized blocks. Anything else (prefill, scoring, PoC embeddings, a mixed batch) runs sgemm.
    let decodeStep: Bool
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
        decodeStep = sequences.allSatisfy { if case let .tokens(ids) = $0.input { ids.count == 1 } else { false } }
        startPositions = starts
        logitRows = logits
        hiddenRows = hidden
    }
}
