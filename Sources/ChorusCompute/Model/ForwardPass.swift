/// One execution of `LlamaModel.forward` over a validated plan. All rows of all sequences share the
/// projection GEMMs; only attention is done per sequence.
///
/// Buffers (T = rows in the batch):
///   x    [T × hidden]            residual stream
///   xn   [T × hidden]            RMSNorm output feeding a projection
///   qkv  [T × (qW + 2·kvW)]      fused Q|K|V projection (RoPE applied in place to Q and K)
///   attn [T × qW]                attention output, one head after another
///   gu   [T × 2·ffn]             fused gate|up projection; SwiGLU result overwrites the gate half
struct ForwardPass {
    let model: LlamaModel
    let plan: ForwardPlan
    let sequences: [ForwardSequence]
    let hooks: ForwardHooks

    private var c: LlamaConfig { model.config }
    private var qkvWidth: Int { c.queryWidth + 2 * c.kvWidth }

    func run() -> ForwardOutput {
        let w = model.weights
        let d = c.hiddenSize, rows = plan.totalRows
        let qW = c.queryWidth, ffn = c.feedForwardSize, qkvW = qkvWidth
        let x = FloatBuffer(count: rows * d)
        embed(into: x)
        let xn = FloatBuffer(count: rows * d)
        let qkv = FloatBuffer(count: rows * qkvW)
        let attn = FloatBuffer(count: rows * qW)
        let gu = FloatBuffer(count: rows * 2 * ffn)
        let view = HiddenStates(width: d, sequenceRows: plan.rowRanges, startPositions: plan.startPositions, base: x.pointer)

        for (l, layer) in w.layers.enumerated() {
            normalize(x, into: xn, weight: layer.attentionNorm, rows: rows)
            project(layer.qkv, xn.pointer, lda: d, rows: rows, into: qkv.pointer, ldc: qkvW)
            applyRoPE(qkv)
            attention(layer: l, qkv: qkv, out: attn)
            project(layer.attentionOutput, attn.pointer, lda: qW, rows: rows, into: x.pointer, ldc: d, accumulate: true)
            normalize(x, into: xn, weight: layer.ffnNorm, rows: rows)
            project(layer.gateUp, xn.pointer, lda: d, rows: rows, into: gu.pointer, ldc: 2 * ffn)
            swiGLU(gu, rows: rows)
            project(layer.down, gu.pointer, lda: 2 * ffn, rows: rows, into: x.pointer, ldc: d, accumulate: true)
            hooks.afterLayer?(l, view)
        }
        for (s, sequence) in sequences.enumerated() {
            sequence.cache?.count += plan.rowRanges[s].count
        }
        hooks.beforeFinalNorm?(view)
        return outputs(x)
    }

    // MARK: - Steps

    /// C[rows × W.rows] (+)= A[rows × W.columns] · Wᵀ. A decode step multiplies from the blocks
    /// (`WeightMatrix.multiply`); every other pass (prefill, scoring, PoC) runs the same
    /// `cblas_sgemm` on the fp32 values as when all weights were widened at load, expanded into
    /// the model's scratch right before the call, so its numerics are unchanged.
    private func project(_ w: WeightMatrix, _ a: UnsafePointer<Float>, lda: Int, rows: Int,
                         into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        if plan.decodeStep {
            w.multiply(a, count: rows, ldx: lda, out: c, ldo: ldc, accumulate: accumulate)
            return
        }
        BLAS.gemm(m: rows, n: w.rows, k: w.columns, a: a, lda: lda, b: model.expanded(w, rows: 0..<w.rows), ldb: w.columns,
                  transposeB: true, c: c, ldc: ldc, beta: accumulate ? 1 : 0)
    }

    private func embed(into x: FloatBuffer) {
        let d = c.hiddenSize
        let table = model.weights.tokenEmbedding.parts[0]
        for (s, sequence) in sequences.enumerated() {
            let dst = x.pointer + plan.rowRanges[s].lowerBound * d
            switch sequence.input {
            case let .tokens(ids):
                // Invariant: ForwardPlan checked 0 <= id < vocabularySize (the table's rows).
                for (i, id) in ids.enumerated() {
                    table.dequantize(rows: id..<(id + 1), into: dst + i * d)
                }
            case let .embeddings(values):
                values.withUnsafeBufferPointer { src in
                    if let base = src.baseAddress { dst.update(from: base, count: values.count) }
                }
            }
        }
    }

    private func normalize(_ x: FloatBuffer, into out: FloatBuffer, weight: FloatBuffer, rows: Int) {
        let d = c.hiddenSize, eps = c.rmsEpsilon
        let src = x.pointer, dst = out.pointer, w = weight.pointer
        Parallel.forEachChunk(rows, minimumChunk: 32) { range in
            for r in range {
                VectorMath.rmsNorm(src + r * d, weight: w, count: d, eps: eps, out: dst + r * d)
            }
        }
    }

    private func applyRoPE(_ qkv: FloatBuffer) {
        let qkvW = qkvWidth, hd = c.headDimension, heads = c.headCount + c.kvHeadCount
        let base = qkv.pointer
        let rope = model.rope
        for s in 0..<sequences.count {
            let rows = plan.rowRanges[s], start = plan.startPositions[s]
            Parallel.forEachChunk(rows.count, minimumChunk: 32) { range in
                for i in range {
                    // Q heads then K heads are contiguous at the start of each qkv row.
                    rope.apply(base + (rows.lowerBound + i) * qkvW, heads: heads, headDimension: hd, position: start + i)
                }
            }
        }
    }

    private func swiGLU(_ gu: FloatBuffer, rows: Int) {
        let ffn = c.feedForwardSize
        let base = gu.pointer
        Parallel.forEachChunk(rows, minimumChunk: 8) { range in
            for r in range {
                let row = base + r * 2 * ffn
                VectorMath.siluMultiply(gate: row, up: row + ffn, count: ffn)
            }
        }
    }

    /// Causal grouped-query attention of every sequence's new rows against its past and itself.
    /// With a cache, the new keys/values are first appended to it; without, they are read straight
    /// from the qkv buffer. The (sequence, head) pairs are independent; when there is enough work
    /// they are spread over the cores, each running single-threaded GEMMs (OpenBLAS's own
    /// fork/join on these small products costs more than it saves).
    private func attention(layer l: Int, qkv: FloatBuffer, out: FloatBuffer) {
        let qW = c.queryWidth, kvW = c.kvWidth, qkvW = qkvWidth, hd = c.headDimension
        var sources: [(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, ld: Int)] = []
        var widest = 0, tallest = 0
        var work = 0
        for (s, sequence) in sequences.enumerated() {
            let rows = plan.rowRanges[s], start = plan.startPositions[s], n = rows.count
            widest = max(widest, start + n)
            tallest = max(tallest, n)
            work += n * (start + n)
            if let cache = sequence.cache {
                for i in 0..<n {
                    let src = qkv.pointer + (rows.lowerBound + i) * qkvW + qW
                    let at = cache.rowOffset(layer: l, position: start + i)
                    (cache.keys.pointer + at).update(from: src, count: kvW)
                    (cache.values.pointer + at).update(from: src + kvW, count: kvW)
                }
                sources.append((UnsafePointer(cache.keys.pointer + cache.rowOffset(layer: l, position: 0)),
                                UnsafePointer(cache.values.pointer + cache.rowOffset(layer: l, position: 0)), kvW))
            } else {
                let keys = UnsafePointer(qkv.pointer + rows.lowerBound * qkvW + qW)
                sources.append((keys, keys + kvW, qkvW))
            }
        }
        let heads = c.headCount
        let items = sequences.count * heads
        let scoreRows = min(LlamaModel.attentionBlockRows, tallest)
        // About 4·hd FLOPs per (query, key) pair and head; below ~4 MFLOP a fork/join is not worth it.
        let parallel = Parallel.cores > 1 && items > 1 && work * heads * hd * 4 >= 4_000_000
        let saved = BLAS.threadCount
        if parallel { BLAS.threadCount = 1 }
        defer { if parallel { BLAS.threadCount = saved } }
        func run(_ range: Range<Int>) {
            let scores = FloatBuffer(count: scoreRows * widest)
            for item in range {
                headAttention(sequence: item / heads, head: item % heads, source: sources[item / heads], qkv: qkv, out: out, scores: scores)
            }
        }
        if parallel {
            Parallel.forEachChunk(items, run)
        } else {
            run(0..<items)
        }
    }

    /// Attention of one head of one sequence, in blocks of query rows so `scores` stays bounded.
    /// Invariant: `scores` holds at least min(blockRows, n) × (start + n) floats.
    private func headAttention(sequence s: Int, head h: Int,
                               source: (keys: UnsafePointer<Float>, values: UnsafePointer<Float>, ld: Int),
                               qkv: FloatBuffer, out: FloatBuffer, scores: FloatBuffer) {
        let qW = c.queryWidth, qkvW = qkvWidth, hd = c.headDimension
        let g = h / (c.headCount / c.kvHeadCount)
        let scale = 1 / Float(hd).squareRoot()
        let rows = plan.rowRanges[s], start = plan.startPositions[s], n = rows.count
        var blockStart = 0
        while blockStart < n {
            let bn = min(LlamaModel.attentionBlockRows, n - blockStart)
            let visible = start + blockStart + bn  // keys the last row of the block may see
            BLAS.gemm(m: bn, n: visible, k: hd,
                      a: qkv.pointer + (rows.lowerBound + blockStart) * qkvW + h * hd, lda: qkvW,
                      b: source.keys + g * hd, ldb: source.ld, transposeB: true,
                      c: scores.pointer, ldc: visible, alpha: scale)
            for i in 0..<bn {
                let row = scores.pointer + i * visible
                let allowed = start + blockStart + i + 1
                VectorMath.softmax(row, count: allowed)
                (row + allowed).update(repeating: 0, count: visible - allowed)
            }
            BLAS.gemm(m: bn, n: hd, k: visible,
                      a: scores.pointer, lda: visible,
                      b: source.values + g * hd, ldb: source.ld, transposeB: false,
                      c: out.pointer + (rows.lowerBound + blockStart) * qW + h * hd, ldc: qW)
            blockStart += bn
        }
    }

    // MARK: - Outputs

    private func outputs(_ x: FloatBuffer) -> ForwardOutput {
        let w = model.weights
        let d = c.hiddenSize, vocab = c.vocabularySize, eps = c.rmsEpsilon
        let norm = w.outputNorm.pointer

        var hidden: [FloatMatrix] = []
        hidden.reserveCapacity(sequences.count)
        let logitRowCount = plan.logitRows.reduce(0) { $0 + $1.count }
        let selected = FloatBuffer(count: logitRowCount * d)
        var filled = 0
        for s in 0..<sequences.count {
            let base = plan.rowRanges[s].lowerBound
            let hr = plan.hiddenRows[s]
            let values = [Float](unsafeUninitializedCapacity: hr.count * d) { buffer, initialized in
                for (k, r) in hr.enumerated() {
                    VectorMath.rmsNorm(x.pointer + (base + r) * d, weight: norm, count: d, eps: eps, out: buffer.baseAddress! + k * d)
                }
                initialized = hr.count * d
            }
            hidden.append(FloatMatrix(rows: hr.count, columns: d, values: values))
            for r in plan.logitRows[s] {
                VectorMath.rmsNorm(x.pointer + (base + r) * d, weight: norm, count: d, eps: eps, out: selected.pointer + filled * d)
                filled += 1
            }
        }

        var logits: [FloatMatrix] = []
        logits.reserveCapacity(sequences.count)
        if logitRowCount == 0 {
            for _ in 0..<sequences.count { logits.append(FloatMatrix(rows: 0, columns: vocab, values: [])) }
            return ForwardOutput(logits: logits, hidden: hidden)
        }
        let all = FloatBuffer(count: logitRowCount * vocab)
        if plan.decodeStep {
            w.output.multiply(selected.pointer, count: logitRowCount, ldx: d, out: all.pointer, ldo: vocab, accumulate: false)
        } else {
            // The vocabulary projection in slices of rows, so the scratch stays a few MB.
            var start = 0
            while start < vocab {
                let n = min(LlamaModel.outputSliceRows, vocab - start)
                BLAS.gemm(m: logitRowCount, n: n, k: d, a: selected.pointer, lda: d, b: model.expanded(w.output, rows: start..<(start + n)),
                          ldb: d, transposeB: true, c: all.pointer + start, ldc: vocab)
                start += n
            }
        }
        var offset = 0
        for s in 0..<sequences.count {
            let n = plan.logitRows[s].count
            let slice = UnsafeBufferPointer(start: all.pointer + offset * vocab, count: n * vocab)
            logits.append(FloatMatrix(rows: n, columns: vocab, values: Array(slice)))
            offset += n
        }
        return ForwardOutput(logits: logits, hidden: hidden)
    }
}
