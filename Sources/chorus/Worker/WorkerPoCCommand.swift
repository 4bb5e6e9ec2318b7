import ArgumentParser
import ChorusWorkerAPI
import ChorusWorkerHTTP

/// `chorus worker poc`: PoC artifacts of a nonce range (a worker job over the range).
struct WorkerPoCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poc",
        abstract: "Compute chorus-poc/1 artifacts for a range of nonces.",
        discussion: """
            Runs a PoC job for nonces A, A+stride, … up to B (inclusive) and prints each artifact \
            as it is pulled: with --json one line {"nonce": N, "vector": "<48 hex>"} per nonce \
            (vector null when the nonce has no artifact). Several workers cover a range without \
            overlap with --offset w --stride W (slot w of W).
            """)

    @OptionGroup var connection: WorkerConnectionOptions

    @Option(help: "Model: smollm2-135m, synthetic:tiny, synthetic:devnet, ID=PATH or a resident id.")
    var model: String

    @Option(help: "Epoch seed, 64 hex characters.")
    var seed: String

    @Option(help: "Participant's Ed25519 public key, 64 hex characters.")
    var participant: String

    @Option(help: "Nonce range A..B (inclusive), or a single nonce N.")
    var nonces: String

    @Option(help: "PoC sequence length (default: the model's devnet value: 8 for SmolLM2, 16 for synthetic models).")
    var seqLen: Int?

    @Option(help: "This worker's slot among --stride slots: it computes nonces ≡ A + offset (mod stride).")
    var offset: UInt64 = 0

    @Option(help: "Number of slots sharing the range.")
    var stride: UInt64 = 1

    @Option(help: "Nonces per forward pass (default: the worker's).")
    var batchSize: Int?

    @Flag(help: "One JSON object per line.")
    var json = false

    struct Line: Encodable {
        var nonce: UInt64
        var vector: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(nonce, forKey: .nonce)
            try c.encode(vector, forKey: .vector)
        }
        enum CodingKeys: String, CodingKey { case nonce, vector }
    }

    static func parseRange(_ text: String) throws(CLIFailure) -> ClosedRange<UInt64> {
        let parts = text.components(separatedBy: "..")
        if parts.count == 1, let n = UInt64(parts[0]) { return n...n }
        guard parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b else {
            throw .usage("--nonces must be A..B with A ≤ B (inclusive) or a single nonce, got '\(text)'")
        }
        return a...b
    }

    /// The names `--model` knows, for messages.
    static var knownNames: [String] {
        ["smollm2-135m"] + SyntheticPreset.allCases.map(\.rawValue).sorted().map { "synthetic:\($0)" } + ["ID=PATH (a GGUF file)"]
    }

    /// `--model NAME` is neither a catalog name nor a model the worker holds (exit 2).
    static func unknownModel(_ name: String, resident: [String], remote: Bool) -> CLIFailure {
        let held = resident.isEmpty ? "none" : resident.sorted().joined(separator: ", ")
        let worker = remote ? "the worker (--worker) holds: \(held)" : "the built-in worker holds no model until one is named"
        return .usage("unknown model '\(name)': known names are \(knownNames.joined(separator: ", ")); \(worker)")
    }

    func run() async throws {
        let range = try Self.parseRange(nonces)
        guard stride >= 1, offset < stride else { throw CLIFailure.usage("--offset must be below --stride (≥ 1)") }
        let entry = try catalogModel(model)
        let worker = try connection.connect()
        if entry.load == nil {
            // Not a catalog name: only a model the worker already holds can be meant.
            let resident = try await workerCall { try await worker.info().models.map(\.id) }
            guard resident.contains(entry.id) else { throw Self.unknownModel(model, resident: resident, remote: connection.url != nil) }
        }
        guard let seqLen = seqLen ?? entry.defaultSeqLen else {
            throw CLIFailure.usage("--seq-len is required for model '\(model)': only the catalog's models have a default "
                + "(the network file gives each model's seq_len)")
        }
        try await workerCall {
            let loaded = try await entry.ensureLoaded(on: worker)
            let first = range.lowerBound + offset
            guard first <= range.upperBound else { return }
            let count = (range.upperBound - first) / stride + 1
            let job = try await worker.startJob(PoCJobRequest(
                model: loaded.id, seed: seed, participant: participant, params: PoCParamsMessage(seqLen: seqLen),
                nonceOffset: first, nonceStride: stride, nonceCount: count, batchSize: batchSize))
            var cursor: UInt64 = 0
            while true {
                let pull = try await worker.artifacts(job: job.id, after: cursor, waitMs: 10_000, maxBatches: nil)
                for batch in pull.batches {
                    var lines = batch.artifacts.map { Line(nonce: $0.nonce, vector: $0.vector) }
                    lines += batch.skipped.map { Line(nonce: $0, vector: nil) }
                    for line in lines.sorted(by: { $0.nonce < $1.nonce }) {
                        if json {
                            try Console.printJSONLine(line)
                        } else {
                            print("\(line.nonce)\t\(line.vector ?? "-")")
                        }
                    }
                }
                cursor = pull.cursor
                if pull.job.state != "running" && pull.batches.isEmpty {
                    if pull.job.state == "failed" { throw CLIFailure.failed("PoC job failed: \(pull.job.error ?? "unknown error")") }
                    break
                }
            }
            _ = try await worker.deleteJob(job.id)
        }
    }
}
