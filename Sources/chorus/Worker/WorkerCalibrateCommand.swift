import ArgumentParser
import ChorusCompute
import ChorusWorkerHTTP
import Foundation

/// `chorus worker calibrate`: PoC throughput per model on this worker, and the per-model weight
/// coefficients that would make one second of this hardware earn the same weight on every model.
struct WorkerCalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure PoC nonces/s per model and propose weight_scale_factors (equal weight per unit of hardware).",
        discussion: """
            A participant's consensus weight sums weight_scale_factor_i × nonces proven for \
            model i (Gonka's per-model coefficients). Models differ in cost per nonce, so \
            without coefficients a machine would earn more by proving the cheapest model. This \
            command runs a PoC job per model for --seconds on the worker and proposes \
            factor_i = rate_base / rate_i, so that every model yields the same weight per second \
            of this worker as the base model (factor 1). Rates are the worker's \
            nonces_per_second (forward-pass time); run it on the reference hardware of the network.
            """)

    @OptionGroup var connection: WorkerConnectionOptions

    @Option(name: .customLong("model"), help: "Model to measure (repeatable; default: synthetic:tiny, synthetic:devnet and smollm2-135m when fetched).")
    var models: [String] = []

    @Option(help: "The model whose factor is 1 (default: the last model measured).")
    var base: String?

    @Option(help: "Seconds of PoC work per model.")
    var seconds = 5.0

    @Flag(help: "Print one JSON object.")
    var json = false

    struct Entry: Encodable {
        var model: String
        var seqLen: Int
        var batchSize: Int
        var noncesDone: UInt64
        var noncesPerS: Double
        var weightScaleFactor: Double
    }

    struct Output: Encodable {
        var worker: String
        var backend: String
        var baseModel: String
        var seconds: Double
        var models: [Entry]
    }

    func run() async throws {
        var names = models
        if names.isEmpty {
            names = ["synthetic:tiny", "synthetic:devnet"]
            if FileManager.default.fileExists(atPath: WorkerModelCatalog.smolLM2Path) { names.append("smollm2-135m") }
        }
        let entries = try names.map { name throws(CLIFailure) in try catalogModel(name) }
        let baseID = try base.map { name throws(CLIFailure) in try catalogModel(name).id } ?? entries.last?.id
        guard let baseID, entries.contains(where: { $0.id == baseID }) else {
            throw CLIFailure.usage("--base must be one of the measured models")
        }
        let worker = connection.connect()
        let seed = String(repeating: "ca", count: 32), participant = String(repeating: "11", count: 32)
        try await workerCall {
            let info = try await worker.info()
            var measured: [(WorkerModelCatalog, JobStatusMessage)] = []
            for entry in entries {
                guard let seqLen = entry.defaultSeqLen else {
                    throw CLIFailure.usage("model \(entry.id) has no default seq_len; calibrate catalog models")
                }
                _ = try await entry.ensureLoaded(on: worker)
                let job = try await worker.startJob(PoCJobRequest(model: entry.id, seed: seed, participant: participant,
                                                                  params: PoCParamsMessage(seqLen: seqLen)))
                // Pull while it runs so back-pressure never pauses it; run at least one batch.
                var cursor: UInt64 = 0, batches: UInt64 = 0
                let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
                let giveUp = deadline + .seconds(120)
                while ContinuousClock.now < deadline || (batches == 0 && ContinuousClock.now < giveUp) {
                    let pull = try await worker.artifacts(job: job.id, after: cursor, waitMs: 200, maxBatches: nil)
                    cursor = pull.cursor
                    batches = pull.job.lastSeq
                }
                let status = try await worker.job(job.id)
                _ = try await worker.deleteJob(job.id)
                guard status.noncesPerSecond > 0 else {
                    throw CLIFailure.failed("model \(entry.id) finished no batch in \(seconds) s plus 120 s of grace")
                }
                measured.append((entry, status))
                if !json {
                    print("\(entry.id): \(String(format: "%.1f", status.noncesPerSecond)) nonces/s (seq_len \(seqLen), batch \(status.batchSize))")
                }
            }
            let baseRate = measured.first { $0.0.id == baseID }?.1.noncesPerSecond ?? 1
            let out = Output(
                worker: "\(info.worker.name) \(info.worker.version)", backend: "\(info.backend.name)/\(info.backend.device)/\(info.backend.dtype)",
                baseModel: baseID, seconds: seconds,
                models: measured.map { entry, s in
                    Entry(model: entry.id, seqLen: s.params.seqLen, batchSize: s.batchSize, noncesDone: s.noncesDone,
                          noncesPerS: (s.noncesPerSecond * 10).rounded() / 10,
                          weightScaleFactor: (baseRate / s.noncesPerSecond * 1e6).rounded() / 1e6)
                })
            if json {
                try Console.printJSON(out)
            } else {
                for m in out.models { print("weight_scale_factor \(m.model) = \(m.weightScaleFactor)") }
            }
        }
    }
}
