public import ChorusWorkerAPI
import Foundation

/// The models the CLIs know by short name, and how to load each into a worker:
///
/// - `smollm2-135m`: SmolLM2-135M-Instruct Q4_1 from `Tools/fetch-model.sh`'s cache
///   (`$CHORUS_MODEL_PATH`, else `${CHORUS_MODEL_DIR:-~/.cache/chorus/models}`), digest-checked;
/// - `synthetic:tiny`, `synthetic:devnet` (optionally `synthetic:PRESET:SEEDHEX`): synthetic
///   models, by default with the devnet seed 00 01 … 1f;
/// - `ID=PATH`: any GGUF file under the network id `ID`;
/// - anything else: a model id the worker already holds (with `--worker`).
public struct WorkerModelCatalog: Sendable {
    /// The network's model id (what the PoC kernel hashes).
    public let id: String
    /// How to load it; nil when it must already be resident on the worker.
    public let load: LoadModelRequest?
    /// The devnet PoC sequence length for this model (Specs/poc-kernel.md §9), if known.
    public let defaultSeqLen: Int?

    public static let smolLM2ID = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
    public static let smolLM2Digest = "sha256:b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The name is malformed (exit status 2 in the CLIs).
        case unknownName(String, reason: String)
        /// The model file is not where the catalog looks.
        case missingFile(path: String)
        /// A bare id that the worker does not hold.
        case notResident(id: String)

        public var description: String {
            switch self {
            case let .unknownName(name, reason): "unknown model '\(name)': \(reason)"
            case let .missingFile(path): "model file \(path) not found; run Tools/fetch-model.sh first (or set CHORUS_MODEL_PATH)"
            case let .notResident(id): "the worker has no model '\(id)'; use smollm2-135m, synthetic:tiny, synthetic:devnet or ID=PATH"
            }
        }
    }

    /// Where `Tools/fetch-model.sh` puts model files: `$CHORUS_MODEL_DIR`, else `~/.cache/chorus/models`.
    public static var modelDirectory: String {
        ProcessInfo.processInfo.environment["CHORUS_MODEL_DIR"] ?? (NSHomeDirectory() + "/.cache/chorus/models")
    }

    public static var smolLM2Path: String {
        if let path = ProcessInfo.processInfo.environment["CHORUS_MODEL_PATH"] { return path }
        return modelDirectory + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    public static func resolve(_ name: String) throws(Failure) -> WorkerModelCatalog {
        if name == "smollm2-135m" || name == smolLM2ID {
            let path = smolLM2Path
            guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path) }
            return WorkerModelCatalog(id: smolLM2ID, load: LoadModelRequest(id: smolLM2ID, path: path, digest: smolLM2Digest), defaultSeqLen: 8)
        }
        if name.hasPrefix("synthetic:") || name.hasPrefix("chorus/synthetic-") {
            let rest = name.hasPrefix("synthetic:") ? String(name.dropFirst("synthetic:".count)) : String(name.dropFirst("chorus/synthetic-".count))
            let parts = rest.split(separator: ":", maxSplits: 1).map(String.init)
            guard let preset = parts.first, SyntheticPreset(rawValue: preset) != nil else {
                throw .unknownName(name, reason: "use synthetic:tiny or synthetic:devnet (optionally :SEEDHEX)")
            }
            let seed = parts.count > 1 ? parts[1] : SyntheticPreset.devnetSeed.hex
            let id = "chorus/synthetic-" + preset
            return WorkerModelCatalog(id: id, load: LoadModelRequest(id: id, synthetic: .init(preset: preset, seed: seed)), defaultSeqLen: 16)
        }
        if let eq = name.firstIndex(of: "="), eq != name.startIndex {
            let id = String(name[..<eq]), path = String(name[name.index(after: eq)...])
            return WorkerModelCatalog(id: id, load: LoadModelRequest(id: id, path: path), defaultSeqLen: nil)
        }
        return WorkerModelCatalog(id: name, load: nil, defaultSeqLen: nil)
    }

    /// Makes sure the worker holds this model, loading it if needed.
    public func ensureLoaded(on worker: any WorkerAPI) async throws -> ModelMessage {
        if let resident = try await worker.info().models.first(where: { $0.id == id }) { return resident }
        guard let load else { throw Failure.notResident(id: id) }
        return try await worker.loadModel(load)
    }
}
