public import ChorusProtocol
public import ChorusWorkerAPI
import Foundation

/// Which models a node serves and how its worker loads them. A model must be in the network file,
/// and what the worker loaded must have the network file's digest: a node that ran PoC on other
/// weights would only produce artifacts every validator rejects.
public enum PoCModels {
    /// The load request for network model `id` (or `id=PATH` for a GGUF file elsewhere):
    /// `chorus/synthetic-PRESET` builds the synthetic preset with the devnet seed; any other id is
    /// a GGUF file at PATH, else `$CHORUS_MODEL_PATH`, else `${CHORUS_MODEL_DIR:-~/.cache/chorus/models}`
    /// under the name Tools/fetch-model.sh gives SmolLM2.
    public static func request(for spec: String, parameters: NetworkParameters) throws(PoCModelError) -> LoadModelRequest {
        var id = spec, path: String?
        if let eq = spec.firstIndex(of: "="), eq != spec.startIndex {
            id = String(spec[..<eq])
            path = String(spec[spec.index(after: eq)...])
        }
        guard let model = parameters.model(id) else {
            throw .notInNetwork(id, known: parameters.models.map(\.id))
        }
        if path == nil, id.hasPrefix("chorus/synthetic-") {
            let preset = String(id.dropFirst("chorus/synthetic-".count))
            guard SyntheticPreset(rawValue: preset) != nil else { throw .noSource(id, "no synthetic preset \"\(preset)\"") }
            return LoadModelRequest(id: id, digest: model.digest, synthetic: .init(preset: preset, seed: SyntheticPreset.devnetSeed.hex))
        }
        let file = path ?? defaultPath()
        guard FileManager.default.fileExists(atPath: file) else {
            throw .noSource(id, "model file \(file) not found; run Tools/fetch-model.sh, set CHORUS_MODEL_PATH, or pass --model \(id)=PATH")
        }
        return LoadModelRequest(id: id, path: file, digest: model.digest)
    }

    /// Where Tools/fetch-model.sh puts SmolLM2.
    public static func defaultPath() -> String {
        let env = ProcessInfo.processInfo.environment
        if let path = env["CHORUS_MODEL_PATH"] { return path }
        return (env["CHORUS_MODEL_DIR"] ?? (NSHomeDirectory() + "/.cache/chorus/models")) + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    /// Loads every request on the worker (or finds it resident) and checks the digests against the
    /// network file. Returns the model ids, in order.
    public static func load(_ requests: [LoadModelRequest], on worker: WorkerLink, parameters: NetworkParameters) async throws(PoCModelError) -> [String] {
        var ids: [String] = []
        for request in requests {
            guard let expected = parameters.model(request.id)?.digest else {
                throw .notInNetwork(request.id, known: parameters.models.map(\.id))
            }
            let loaded: ModelMessage
            let dtype: String
            do {
                let info = try await worker.call("info") { try await $0.info() }
                dtype = info.backend.dtype
                let resident = info.models.first { $0.id == request.id }
                if let resident { loaded = resident } else {
                    loaded = try await worker.call("load \(request.id)", timeout: worker.loadTimeout) { try await $0.loadModel(request) }
                }
            } catch {
                throw .loadFailed(request.id, error.description)
            }
            guard loaded.digest.lowercased() == expected.lowercased() else {
                throw .digestMismatch(request.id, loaded: loaded.digest, network: expected)
            }
            worker.loaded(request.id, size: WorkerModelSize(parameters: loaded.parameters, dtype: dtype))
            ids.append(request.id)
        }
        return ids
    }
}

public enum PoCModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case notInNetwork(String, known: [String])
    case noSource(String, String)
    case loadFailed(String, String)
    case digestMismatch(String, loaded: String, network: String)

    public var description: String {
        switch self {
        case let .notInNetwork(id, known): "model \(id) is not in the network file (its models: \(known.joined(separator: ", ")))"
        case let .noSource(id, reason): "cannot load \(id): \(reason)"
        case let .loadFailed(id, reason): "the worker could not load \(id): \(reason)"
        case let .digestMismatch(id, loaded, network):
            "the worker's \(id) has digest \(loaded) but the network file says \(network); load the network's weights"
        }
    }
}
