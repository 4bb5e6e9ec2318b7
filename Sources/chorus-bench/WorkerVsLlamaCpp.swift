import ChorusCompute
import Foundation

/// `chorus-bench worker --vs-llama-cpp`: Chorus's CPU worker and llama.cpp on the same GGUF with
/// the same thread count, measured in one run (issue 12's targets: decode ≥ 1.0×, prefill ≥ 1.5×,
/// Chorus resident memory ≤ 250 MB). llama.cpp runs as a child process (Tools/bench_llama_cpp.py
/// on llama-cpp-python, installed by Tools/bench-llama-cpp.sh), once per round, alternating with
/// Chorus's runs so that load from elsewhere on a shared machine hits both alike; the best round
/// of each is kept. Both use the same token ids and shapes (ComputeBenchmark.prefill/decode).
struct LlamaCppComparison {
    let modelPath: String
    let python: String
    let driver: String
    let threads: Int
    let rounds: Int
    let promptTokens = 128
    let decodePromptTokens = 32
    let decodeSteps = 64

    struct Side {
        var prefill = 0.0
        var decode = 0.0
        var rssMB = 0.0
        var peakRSSMB = 0.0
        var prefillCPUms = Double.infinity
        var decodeCPUms = Double.infinity
    }

    enum Failure: Error, CustomStringConvertible {
        case llamaCpp(String)
        var description: String {
            switch self {
            case let .llamaCpp(why): "llama.cpp side failed: \(why) (install it with Tools/bench-llama-cpp.sh)"
            }
        }
    }

    func run() throws -> [String: Any] {
        ComputeBenchmark.blasThreads = threads
        let model = try ResidentModel(id: "smollm2", path: modelPath).model
        var chorus = Side(), llama = Side()
        var llamaName = "llama.cpp"
        for _ in 0..<max(1, rounds) {
            let other = try runLlamaCpp()
            llamaName = other["implementation"] as? String ?? llamaName
            llama.prefill = max(llama.prefill, other["prefill_tokens_per_s"] as? Double ?? 0)
            llama.decode = max(llama.decode, other["decode_tokens_per_s"] as? Double ?? 0)
            llama.rssMB = max(llama.rssMB, other["rss_mb"] as? Double ?? 0)
            llama.peakRSSMB = max(llama.peakRSSMB, other["peak_rss_mb"] as? Double ?? 0)
            llama.prefillCPUms = min(llama.prefillCPUms, other["prefill_cpu_ms_per_token"] as? Double ?? .infinity)
            llama.decodeCPUms = min(llama.decodeCPUms, other["decode_cpu_ms_per_token"] as? Double ?? .infinity)

            let prefill = try ComputeBenchmark.prefill(model: model, batch: 1, length: promptTokens)
            let decode = try ComputeBenchmark.decode(model: model, batch: 1, promptLength: decodePromptTokens, steps: decodeSteps)
            chorus.prefill = max(chorus.prefill, prefill.tokensPerSecond)
            chorus.decode = max(chorus.decode, decode.tokensPerSecond)
            chorus.prefillCPUms = min(chorus.prefillCPUms, 1000 * prefill.cpuSeconds / Double(prefill.tokens))
            chorus.decodeCPUms = min(chorus.decodeCPUms, 1000 * decode.cpuSeconds / Double(decode.tokens))
        }
        chorus.rssMB = Self.procStatusMB("VmRSS")
        chorus.peakRSSMB = Self.procStatusMB("VmHWM")

        func side(_ s: Side) -> [String: Any] {
            ["prefill_tokens_per_s": BenchHarness.rounded(s.prefill, 1), "decode_tokens_per_s": BenchHarness.rounded(s.decode, 1),
             "rss_mb": BenchHarness.rounded(s.rssMB, 1), "peak_rss_mb": BenchHarness.rounded(s.peakRSSMB, 1),
             "prefill_cpu_ms_per_token": BenchHarness.rounded(s.prefillCPUms, 3), "decode_cpu_ms_per_token": BenchHarness.rounded(s.decodeCPUms, 3)]
        }
        let decodeRatio = llama.decode > 0 ? chorus.decode / llama.decode : 0
        let prefillRatio = llama.prefill > 0 ? chorus.prefill / llama.prefill : 0
        return [
            "model": modelPath, "threads": threads, "worker_threads": ComputeBenchmark.workerThreads, "rounds": rounds,
            "shapes": ["prefill_tokens": promptTokens, "decode_prompt_tokens": decodePromptTokens, "decode_steps": decodeSteps],
            "chorus": side(chorus).merging(["weight_mb": BenchHarness.rounded(Double(model.weightBytes) / 1_048_576, 1)]) { a, _ in a },
            "llama_cpp": side(llama).merging(["implementation": llamaName]) { a, _ in a },
            "decode_ratio": BenchHarness.rounded(decodeRatio, 3),
            "prefill_ratio": BenchHarness.rounded(prefillRatio, 3),
            // llama.cpp's CPU ms per token over Chorus's: the same comparison in CPU time (its
            // OpenMP threads spin while waiting, which counts as CPU time).
            "decode_cpu_ratio": BenchHarness.rounded(llama.decodeCPUms / chorus.decodeCPUms, 3),
            "prefill_cpu_ratio": BenchHarness.rounded(llama.prefillCPUms / chorus.prefillCPUms, 3),
            "load_average_1m": BenchHarness.rounded(Self.loadAverage(), 2),
            "targets": ["decode_ratio": 1.0, "prefill_ratio": 1.5, "chorus_rss_mb": 250],
            "targets_met": ["decode": decodeRatio >= 1.0, "prefill": prefillRatio >= 1.5, "rss": chorus.rssMB <= 250],
        ]
    }

    /// One run of the driver; its last stdout line is a JSON object.
    private func runLlamaCpp() throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [driver, "--model", modelPath, "--threads", "\(threads)", "--prompt-tokens", "\(promptTokens)",
                             "--decode-prompt-tokens", "\(decodePromptTokens)", "--decode-steps", "\(decodeSteps)"]
        let out = Pipe()
        process.standardOutput = out
        do { try process.run() } catch { throw Failure.llamaCpp("cannot start \(python): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure.llamaCpp("the driver exited with \(process.terminationStatus)") }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failure.llamaCpp("unreadable driver output: \(line.prefix(200))")
        }
        return object
    }

    /// The 1-minute load average at the end (how shared the machine was), 0 where unknown.
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return 0 }
        return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
    }

    /// A memory line of /proc/self/status in MB (0 where there is none).
    static func procStatusMB(_ field: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0
            return kb / 1024
        }
        return 0
    }
}
