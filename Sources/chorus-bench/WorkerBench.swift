import ArgumentParser
import ChorusCompute
import ChorusCrypto
import Foundation

/// `chorus-bench worker`: the built-in CPU worker. PoC nonces/s per model, SmolLM2 decode and
/// prefill tokens/s, and the forward pass's GFLOP/s against the `cblas_sgemm` peak of its own
/// projection shapes measured in the same run (`forward_over_sgemm`, target ≥ 0.6).
struct WorkerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "PoC nonces/s per model, decode/prefill tokens/s, forward GFLOP/s over the sgemm peak.",
        discussion: """
            Models: synthetic tiny and devnet (seq_len 16) always; SmolLM2-135M Q4_1 (seq_len 8) \
            when Tools/fetch-model.sh has fetched it (or --model-path names it). PoC rates count \
            whole artifacts (inputs, forward pass with the Householder hooks, projection) over \
            wall-clock time. forward_over_sgemm compares a PoC-shaped forward pass with the best \
            sgemm rate over the same projection shapes, alternating the two for --rounds rounds.
            """)

    @Option(help: "SmolLM2 GGUF file (default: Tools/fetch-model.sh's cache).")
    var modelPath: String?

    @Option(help: "Seconds of PoC work per model.")
    var seconds = 3.0

    @Option(help: "Alternating rounds for forward_over_sgemm.")
    var rounds = 5

    @Option(help: "Sequences of the PoC-shaped pass behind forward_over_sgemm (× 8 rows each).")
    var efficiencyBatch = 64

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Only SmolLM2 against llama.cpp side by side (decode, prefill, resident memory); see Tools/bench-llama-cpp.sh.")
    var vsLlamaCpp = false

    @Option(help: "Python with llama-cpp-python for --vs-llama-cpp.")
    var llamaCppPython = ".build/llama-cpp-venv/bin/python"

    @Option(help: "The llama.cpp driver script for --vs-llama-cpp.")
    var llamaCppDriver = "Tools/bench_llama_cpp.py"

    @Option(help: "Threads for both sides with --vs-llama-cpp (pin the process with taskset to match).")
    var threads = 2

    @Option(help: "Alternating rounds with --vs-llama-cpp (best of each side kept).")
    var benchRounds = 3

    var smolLM2Path: String {
        modelPath ?? ((ProcessInfo.processInfo.environment["CHORUS_MODEL_DIR"] ?? NSHomeDirectory() + "/.cache/chorus/models")
            + "/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    struct PoCModel {
        let name: String
        let model: LlamaModel
        let seqLen: Int
        let batch: Int
    }

    func run() async throws {
        if vsLlamaCpp {
            let report = try LlamaCppComparison(modelPath: smolLM2Path, python: llamaCppPython, driver: llamaCppDriver,
                                                threads: threads, rounds: benchRounds).run()
            if json {
                BenchHarness.printJSON(report)
            } else {
                for key in report.keys.sorted() { print("\(key): \(report[key]!)") }
            }
            return
        }
        var models: [PoCModel] = []
        for (name, config) in [("synthetic-tiny", LlamaConfig.syntheticTiny), ("synthetic-devnet", LlamaConfig.syntheticDevnet)] {
            models.append(PoCModel(name: name, model: try SyntheticModel(config: config, seed: SyntheticModel.devnetSeed).build(),
                                   seqLen: 16, batch: 64))
        }
        let path = smolLM2Path
        var smol: LlamaModel?
        if FileManager.default.fileExists(atPath: path) {
            let m = try ResidentModel(id: "smollm2", path: path).model
            smol = m
            models.append(PoCModel(name: "smollm2-135m", model: m, seqLen: 8, batch: 32))
        }

        var report: [String: Any] = ["blas": ComputeBenchmark.blasDescription, "cores": ProcessInfo.processInfo.activeProcessorCount]
        var poc: [String: Any] = [:]
        for m in models {
            let rate = try Self.pocRate(m, seconds: seconds)
            poc[m.name] = ["nonces_per_s": BenchHarness.rounded(rate, 1), "seq_len": m.seqLen, "batch": m.batch,
                           "parameters": m.model.config.parameterCount]
            if !json { print("poc \(m.name): \(BenchHarness.rounded(rate, 1)) nonces/s (seq_len \(m.seqLen), batch \(m.batch))") }
        }
        report["poc"] = poc

        let target = smol ?? models[1].model
        report["efficiency_model"] = smol == nil ? "synthetic-devnet" : "smollm2-135m"
        let efficiency = try ComputeBenchmark.pocEfficiency(model: target, batch: efficiencyBatch, sequenceLength: 8, rounds: rounds)
        report["forward_gflops"] = BenchHarness.rounded(efficiency.forward.gflopsPerSecond, 2)
        report["sgemm_peak_gflops"] = BenchHarness.rounded(efficiency.peak.gflopsPerSecond, 2)
        report["sgemm_peak_shape"] = efficiency.peak.label
        report["forward_over_sgemm"] = BenchHarness.rounded(efficiency.ratio, 3)
        if !json {
            print("forward \(efficiency)")
            for shape in efficiency.shapes { print("  \(shape)") }
        }

        if let smol {
            let prefill = try ComputeBenchmark.prefill(model: smol, batch: 1, length: 128)
            let decode = try ComputeBenchmark.decode(model: smol, batch: 1, promptLength: 32, steps: 64)
            let decodeBatched = try ComputeBenchmark.decode(model: smol, batch: 8, promptLength: 32, steps: 32)
            report["smollm2"] = [
                "prefill_tokens_per_s": BenchHarness.rounded(prefill.tokensPerSecond, 1),
                "decode_tokens_per_s": BenchHarness.rounded(decode.tokensPerSecond, 1),
                "decode_batch8_tokens_per_s": BenchHarness.rounded(decodeBatched.tokensPerSecond, 1),
            ]
            if !json { for m in [prefill, decode, decodeBatched] { print(m) } }
        }
        if json { BenchHarness.printJSON(report) }
    }

    /// Artifacts per second of wall-clock time over about `seconds`, after one warm-up batch.
    static func pocRate(_ m: PoCModel, seconds: Double) throws -> Double {
        let task = try PoCTask(seed: Blake2b.hash256(Array("bench-epoch".utf8)), participant: Blake2b.hash256(Array("bench-p".utf8)),
                               modelID: m.name, sequenceLength: m.seqLen)
        let computer = try PoCComputer(model: m.model, task: task)
        var next: UInt64 = 0
        func batch() throws -> Int {
            let nonces = (0..<UInt64(m.batch)).map { next + $0 }
            next += UInt64(m.batch)
            return try computer.compute(nonces).count
        }
        _ = try batch()
        let clock = ContinuousClock()
        let start = clock.now
        var done = 0
        repeat { done += try batch() } while (clock.now - start).seconds < seconds
        return Double(done) / (clock.now - start).seconds
    }
}
