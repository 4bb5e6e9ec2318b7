import ArgumentParser
import ChorusWorkerAPI
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
            of this worker as the base model (factor 1). A rate is the worker's compute time per \
            nonce after one warm-up batch (a node's model is resident and already warm), with the \
            worker's default batch and the model's default seq_len, as a node runs it. Run it on \
            the reference hardware of the network, every model under the same conditions: the \
            worker uses the cores of its CPU affinity (e.g. taskset -c 0 for one core; \
            OPENBLAS_NUM_THREADS=1 for one BLAS thread).

            EXAMPLES:
              chorus worker calibrate --json
              taskset -c 0 chorus worker calibrate --model synthetic:devnet --model smollm2-135m --base smollm2-135m
            """)

    @OptionGroup var connection: WorkerConnectionOptions

    @Option(name: .customLong("model"), help: "Model to measure (repeatable; default: synthetic:tiny, synthetic:devnet and smollm2-135m when fetched).")
    var models: [String] = []

    @Option(help: "The model whose factor is 1 (default: the last model measured).")
    var base: String?

    @Option(help: "Seconds of PoC work per model.")
    var seconds = 5.0

    @Option(help: ArgumentHelp("Begin the measured part at this Unix time (seconds; one --model only).",
                               discussion: "Several calibrations running at once (one per core) then measure the same interval, as the nodes of a network compute side by side."))
    var startAt: Double?

    @Flag(help: "Print one JSON object.")
    var json = false

    struct Entry: Encodable {
        var model: String
        var seqLen: Int
        var batchSize: Int
        /// Nonces of the warm-up batch(es), not counted in the rate.
        var warmupNonces: UInt64
        /// Nonces counted in the rate.
        var noncesDone: UInt64
        var noncesPerS: Double
        var weightScaleFactor: Double
        /// Unix time (seconds) the measured part began, and its wall seconds.
        var measuredFrom: Double
        var wallSeconds: Double
        /// CPU seconds this process used meanwhile (every thread), when the worker is in-process;
        /// with one core allowed, cpu_seconds / wall_seconds is the share of it the worker got.
        var processCpuSeconds: Double?
    }

    struct Output: Encodable {
        var worker: String
        var backend: String
        var baseModel: String
        var seconds: Double
        var models: [Entry]
    }

    struct Measurement {
        var status: JobStatusMessage
        var warmupNonces: UInt64
        var nonces: UInt64
        var rate: Double
        var measuredFrom: Double
        var wallSeconds: Double
        var processCPUSeconds: Double?
    }

    static func progress(_ line: String) { Console.error("calibrate: \(line)") }

    static func seconds(_ d: Duration) -> String {
        String(format: "%.1f", Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }

    /// User + system CPU seconds of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Nonces per second of compute between two statuses of one job: the worker reports the
    /// cumulative nonces and nonces / compute-second, so compute seconds = nonces / rate.
    static func rate(from start: JobStatusMessage, to end: JobStatusMessage) -> Double {
        func computeSeconds(_ s: JobStatusMessage) -> Double { s.noncesPerSecond > 0 ? Double(s.noncesDone) / s.noncesPerSecond : 0 }
        let seconds = computeSeconds(end) - computeSeconds(start)
        guard end.noncesDone > start.noncesDone, seconds > 0 else { return 0 }
        return Double(end.noncesDone - start.noncesDone) / seconds
    }

    func run() async throws {
        var names = models
        if names.isEmpty {
            names = ["synthetic:tiny", "synthetic:devnet"]
            if FileManager.default.fileExists(atPath: WorkerModelCatalog.smolLM2Path) { names.append("smollm2-135m") }
        }
        let entries = try names.map { name throws(CLIFailure) in try catalogModel(name) }
        let baseID = try base.map { name throws(CLIFailure) in try catalogModel(name).id } ?? entries.last?.id
        if startAt != nil, entries.count != 1 {
            throw CLIFailure.usage("--start-at needs exactly one --model")
        }
        guard let baseID, entries.contains(where: { $0.id == baseID }) else {
            throw CLIFailure.usage("--base must be one of the measured models")
        }
        let worker = try connection.connect()
        let seed = String(repeating: "ca", count: 32), participant = String(repeating: "11", count: 32)
        try await workerCall {
            let info = try await worker.info()
            var measured: [(WorkerModelCatalog, Measurement)] = []
            for (index, entry) in entries.enumerated() {
                guard let seqLen = entry.defaultSeqLen else {
                    throw CLIFailure.usage("model \(entry.id) has no default seq_len; calibrate catalog models")
                }
                // Progress on stderr (stdout stays the result, JSON included): loading can take
                // seconds, the warm-up a batch, the measurement --seconds.
                let step = "[\(index + 1)/\(entries.count)] \(entry.id)"
                Self.progress("\(step): loading")
                let loadStart = ContinuousClock.now
                _ = try await entry.ensureLoaded(on: worker)
                Self.progress("\(step): loaded in \(Self.seconds(loadStart.duration(to: .now))) s; warming up (one batch, not counted)")
                let job = try await worker.startJob(PoCJobRequest(model: entry.id, seed: seed, participant: participant,
                                                                  params: PoCParamsMessage(seqLen: seqLen)))
                // Pull while it runs so back-pressure never pauses it. The first batch warms up
                // (caches, first-touch pages of the weights and buffers) and is not counted; then
                // measure for --seconds and at least one more batch.
                var cursor: UInt64 = 0
                func pull(until deadline: ContinuousClock.Instant, batches: UInt64) async throws -> Bool {
                    let giveUp = deadline + .seconds(120)
                    var seen: UInt64 = 0
                    while ContinuousClock.now < deadline || (seen < batches && ContinuousClock.now < giveUp) {
                        let pulled = try await worker.artifacts(job: job.id, after: cursor, waitMs: 200, maxBatches: nil)
                        cursor = pulled.cursor
                        seen = pulled.job.lastSeq
                    }
                    return seen >= batches
                }
                guard try await pull(until: .now, batches: 1) else {
                    _ = try? await worker.deleteJob(job.id)
                    throw CLIFailure.failed("model \(entry.id) finished no batch in 120 s")
                }
                if let startAt {
                    // Keep pulling (the job must not stall on its backlog) until the agreed start.
                    let wait = startAt - Date().timeIntervalSince1970
                    if wait > 0 { _ = try await pull(until: .now + .milliseconds(Int(wait * 1000)), batches: 0) }
                }
                let warm = try await worker.job(job.id)
                Self.progress("\(step): measuring for \(seconds) s (and at least one more batch)")
                let measuredFrom = Date().timeIntervalSince1970
                let firstMeasuredBatch = warm.lastSeq
                let wallStart = ContinuousClock.now, cpuStart = Self.processCPUSeconds()
                guard try await pull(until: .now + .milliseconds(Int(seconds * 1000)), batches: firstMeasuredBatch + 1) else {
                    _ = try? await worker.deleteJob(job.id)
                    throw CLIFailure.failed("model \(entry.id) finished no batch after its warm-up in \(seconds) s plus 120 s of grace")
                }
                let end = try await worker.job(job.id)
                let wall = wallStart.duration(to: .now), cpu = Self.processCPUSeconds() - cpuStart
                _ = try await worker.deleteJob(job.id)
                let rate = Self.rate(from: warm, to: end)
                guard rate > 0 else { throw CLIFailure.failed("model \(entry.id): the worker reported no compute time") }
                measured.append((entry, Measurement(status: end, warmupNonces: warm.noncesDone, nonces: end.noncesDone - warm.noncesDone, rate: rate,
                                                    measuredFrom: measuredFrom, wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18,
                                                    processCPUSeconds: connection.url == nil ? cpu : nil)))
                if !json {
                    print("\(entry.id): \(String(format: "%.1f", rate)) nonces/s (seq_len \(seqLen), batch \(end.batchSize))")
                }
            }
            let baseRate = measured.first { $0.0.id == baseID }?.1.rate ?? 1
            let out = Output(
                worker: "\(info.worker.name) \(info.worker.version)", backend: "\(info.backend.name)/\(info.backend.device)/\(info.backend.dtype)",
                baseModel: baseID, seconds: seconds,
                models: measured.map { entry, m in
                    Entry(model: entry.id, seqLen: m.status.params.seqLen, batchSize: m.status.batchSize,
                          warmupNonces: m.warmupNonces, noncesDone: m.nonces,
                          noncesPerS: (m.rate * 10).rounded() / 10,
                          weightScaleFactor: (baseRate / m.rate * 1e6).rounded() / 1e6,
                          measuredFrom: (m.measuredFrom * 1000).rounded() / 1000, wallSeconds: (m.wallSeconds * 1000).rounded() / 1000,
                          processCpuSeconds: m.processCPUSeconds.map { ($0 * 1000).rounded() / 1000 })
                })
            if json {
                try Console.printJSON(out)
            } else {
                for m in out.models { print("weight_scale_factor \(m.model) = \(m.weightScaleFactor)") }
            }
        }
    }
}
