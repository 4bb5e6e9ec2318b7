#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measurements of the CPU engine for `chorus-bench` (never asserted in tests). Every rate is
/// paired with something measured in the same run — the forward pass against the raw
/// `cblas_sgemm` rate of this machine — so results from a noisy shared box stay comparable.
public enum ComputeBenchmark {
    /// One timed measurement.
    public struct Measurement: Sendable, Equatable, CustomStringConvertible {
        public var label: String
        public var seconds: Double
        /// Floating-point operations done (analytic count), 0 when not meaningful.
        public var flops: Double
        /// Tokens (rows) processed, 0 when not meaningful.
        public var tokens: Int
        /// CPU time of the whole process (all threads, user + system) over the same interval
        /// (0 where not measured): on a machine shared with other work, wall-clock rates fall
        /// while CPU time per token mostly does not.
        public var cpuSeconds = 0.0

        public init(label: String, seconds: Double, flops: Double, tokens: Int, cpuSeconds: Double = 0) {
            self.label = label
            self.seconds = seconds
            self.flops = flops
            self.tokens = tokens
            self.cpuSeconds = cpuSeconds
        }

        public var gflopsPerSecond: Double { seconds > 0 ? flops / seconds / 1e9 : 0 }
        public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }

        public var description: String {
            var parts = ["\(label): \(Self.format(seconds * 1000)) ms"]
            if flops > 0 { parts.append("\(Self.format(gflopsPerSecond)) GFLOP/s") }
            if tokens > 0 { parts.append("\(Self.format(tokensPerSecond)) tok/s") }
            return parts.joined(separator: ", ")
        }

        static func format(_ x: Double) -> String {
            let scaled = (x * 10).rounded() / 10
            return "\(scaled)"
        }
    }

    /// OpenBLAS's build string and thread count, for the report header.
    public static var blasDescription: String {
        "\(BLAS.configuration) threads=\(BLAS.threadCount)"
    }

    /// Threads the engine's own loops (decode-step projections, norms, attention) split over:
    /// the cores in the process's CPU affinity.
    public static var workerThreads: Int { Parallel.cores }

    /// OpenBLAS threads per call (defaults to the number of cores).
    public static var blasThreads: Int {
        get { BLAS.threadCount }
        set { BLAS.threadCount = newValue }
    }

    /// Runs `body` `repetitions` times after one warm-up and returns the fastest time in seconds
    /// (the least disturbed run on a shared machine).
    static func fastest(repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        try fastestWithCPU(repetitions: repetitions, body).seconds
    }

    /// As `fastest`, with the process CPU time of the least CPU-hungry repetition.
    static func fastestWithCPU(repetitions: Int, _ body: () throws -> Void) rethrows -> (seconds: Double, cpu: Double) {
        try body()
        var best = Double.infinity, bestCPU = Double.infinity
        let clock = ContinuousClock()
        for _ in 0..<max(1, repetitions) {
            let cpu = processCPUSeconds()
            let elapsed = try clock.measure(body)
            bestCPU = min(bestCPU, processCPUSeconds() - cpu)
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return (best, bestCPU)
    }

    /// User + system CPU seconds of this process so far (all threads).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// C[m×n] = A[m×k]·B[n×k]ᵀ in fp32 — the operation and layout of every projection in the
    /// forward pass — timed with `cblas_sgemm`.
    public static func sgemm(m: Int, n: Int, k: Int, repetitions: Int = 5) -> Measurement {
        let rng = CounterRNG(key: .zero)
        let a = FloatBuffer(rng.normals(count: m * k, scaleExponent: 4))
        let b = FloatBuffer(rng.normals(count: n * k, startIndex: UInt64(m * k), scaleExponent: 4))
        let c = FloatBuffer(count: m * n)
        let seconds = BLAS.serialized {
            fastest(repetitions: repetitions) {
                BLAS.gemm(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: k, transposeB: true, c: c.pointer, ldc: n)
            }
        }
        return Measurement(label: "sgemm \(m)x\(n)x\(k)", seconds: seconds, flops: 2 * Double(m) * Double(n) * Double(k), tokens: 0)
    }

    /// The best `sgemm` rate over the projection shapes a forward pass of `rows` batched rows
    /// through `config` performs (QKV, attention output, gate|up, down): the "peak" the
    /// forward-pass rate is compared with.
    public static func sgemmPeak(config: LlamaConfig, rows: Int, repetitions: Int = 5) -> [Measurement] {
        let d = config.hiddenSize
        let shapes = [(rows, config.queryWidth + 2 * config.kvWidth, d), (rows, d, config.queryWidth),
                      (rows, 2 * config.feedForwardSize, d), (rows, d, config.feedForwardSize)]
        return shapes.map { sgemm(m: $0.0, n: $0.1, k: $0.2, repetitions: repetitions) }
    }

    /// Floating-point operations of one forward pass, counted analytically: 2·m·n·k for each
    /// projection GEMM, causal attention as 4·headDim per (query, visible key) pair per head, and
    /// the output projection for `logitRows` rows. Norms, RoPE and activations are not counted.
    public static func forwardFLOPs(config c: LlamaConfig, newRows: [Int], pastRows: [Int]? = nil, logitRows: Int) -> Double {
        let d = Double(c.hiddenSize), qW = Double(c.queryWidth), kvW = Double(c.kvWidth), ffn = Double(c.feedForwardSize)
        let past = pastRows ?? [Int](repeating: 0, count: newRows.count)
        let rows = Double(newRows.reduce(0, +))
        let projections = 2 * rows * (d * (qW + 2 * kvW) + qW * d + 3 * d * ffn)
        var pairs = 0.0
        for (n, p) in zip(newRows, past) {
            pairs += Double(n) * Double(p) + Double(n) * Double(n + 1) / 2
        }
        let attention = 4 * Double(c.headDimension) * Double(c.headCount) * pairs
        return Double(c.layerCount) * (projections + attention) + 2 * Double(logitRows) * d * Double(c.vocabularySize)
    }

    /// A PoC-shaped pass: `batch` sequences of `sequenceLength` input embeddings, no cache,
    /// last-position hidden state out (no logits).
    public static func pocForward(model: LlamaModel, batch: Int, sequenceLength: Int, repetitions: Int = 3) throws(ComputeError) -> Measurement {
        let c = model.config
        let rng = CounterRNG(key: .zero)
        let sequences = (0..<batch).map { s in
            ForwardSequence(input: .embeddings(rng.normals(count: sequenceLength * c.hiddenSize, startIndex: UInt64(s * sequenceLength * c.hiddenSize))),
                            logits: .none, hidden: .last)
        }
        var failure: ComputeError?
        let seconds = fastest(repetitions: repetitions) {
            do throws(ComputeError) { _ = try model.forward(sequences) } catch { failure = error }
        }
        if let failure { throw failure }
        return Measurement(label: "poc forward \(batch)x\(sequenceLength)", seconds: seconds,
                           flops: forwardFLOPs(config: c, newRows: [Int](repeating: sequenceLength, count: batch), logitRows: 0),
                           tokens: batch * sequenceLength)
    }

    /// The forward-pass rate of a PoC-shaped pass against the `sgemm` peak of its own projection
    /// shapes, measured alternately for `rounds` rounds (best of each kept), so that load from
    /// other processes on a shared machine hits both sides alike.
    public struct Efficiency: Sendable, CustomStringConvertible {
        public var forward: Measurement
        /// The fastest projection shape.
        public var peak: Measurement
        public var shapes: [Measurement]
        /// forward GFLOP/s ÷ peak GFLOP/s.
        public var ratio: Double { peak.gflopsPerSecond > 0 ? forward.gflopsPerSecond / peak.gflopsPerSecond : 0 }

        public var description: String {
            "\(forward)\n  sgemm peak \(peak)\n  forward/peak = \(Measurement.format(ratio * 100))%"
        }
    }

    public static func pocEfficiency(model: LlamaModel, batch: Int, sequenceLength: Int, rounds: Int = 5) throws(ComputeError) -> Efficiency {
        var forward: Measurement?
        var shapes: [Measurement] = []
        for _ in 0..<max(1, rounds) {
            let f = try pocForward(model: model, batch: batch, sequenceLength: sequenceLength, repetitions: 1)
            if forward == nil || f.seconds < forward!.seconds { forward = f }
            let s = sgemmPeak(config: model.config, rows: batch * sequenceLength, repetitions: 1)
            shapes = shapes.isEmpty ? s : zip(shapes, s).map { $0.seconds <= $1.seconds ? $0 : $1 }
        }
        let peak = shapes.max { $0.gflopsPerSecond < $1.gflopsPerSecond }!
        return Efficiency(forward: forward!, peak: peak, shapes: shapes)
    }

    /// Prefill of `batch` prompts of `length` tokens into fresh caches, logits for the last rows.
    public static func prefill(model: LlamaModel, batch: Int, length: Int, repetitions: Int = 3) throws(ComputeError) -> Measurement {
        let c = model.config
        let prompts = (0..<batch).map { s in (0..<length).map { ($0 * 7919 + s * 104_729) % c.vocabularySize } }
        var failure: ComputeError?
        let (seconds, cpu) = fastestWithCPU(repetitions: repetitions) {
            do throws(ComputeError) {
                let caches = try prompts.map { _ throws(ComputeError) in try KVCache(model: model, capacity: length) }
                _ = try model.forward(zip(prompts, caches).map { ForwardSequence(tokens: $0, cache: $1) })
            } catch { failure = error }
        }
        if let failure { throw failure }
        return Measurement(label: "prefill \(batch)x\(length)", seconds: seconds,
                           flops: forwardFLOPs(config: c, newRows: [Int](repeating: length, count: batch), logitRows: batch),
                           tokens: batch * length, cpuSeconds: cpu)
    }

    /// `steps` batched decode steps for `batch` sequences after a prompt of `promptLength`
    /// (the prefill is not timed). Tokens per second counts every sequence's token.
    public static func decode(model: LlamaModel, batch: Int, promptLength: Int, steps: Int) throws(ComputeError) -> Measurement {
        let c = model.config
        let caches = try (0..<batch).map { _ throws(ComputeError) in try KVCache(model: model, capacity: promptLength + steps) }
        let prompts = (0..<batch).map { s in (0..<promptLength).map { ($0 * 31 + s * 17 + 5) % c.vocabularySize } }
        var out = try model.forward(zip(prompts, caches).map { ForwardSequence(tokens: $0, cache: $1) })
        let clock = ContinuousClock()
        var flops = 0.0
        var failure: ComputeError?
        let cpu = processCPUSeconds()
        let elapsed = clock.measure {
            do throws(ComputeError) {
                for step in 0..<steps {
                    let next = out.logits.map { LogProbabilities.argmax($0[0]) }
                    flops += forwardFLOPs(config: c, newRows: [Int](repeating: 1, count: batch),
                                          pastRows: [Int](repeating: promptLength + step, count: batch), logitRows: batch)
                    out = try model.forward(zip(next, caches).map { ForwardSequence(tokens: [$0], cache: $1) })
                }
            } catch { failure = error }
        }
        if let failure { throw failure }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Measurement(label: "decode batch \(batch) after \(promptLength)", seconds: seconds, flops: flops, tokens: batch * steps,
                           cpuSeconds: processCPUSeconds() - cpu)
    }
}
