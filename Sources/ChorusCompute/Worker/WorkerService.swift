import ChorusCrypto
public import ChorusWorkerAPI
import Synchronization

/// The built-in CPU worker behind the worker protocol (Specs/worker.md): keeps models resident,
/// runs PoC jobs in the background, and serves verification, generation, scoring and
/// tokenization. The node calls it in-process; `WorkerHTTPServer` serves it over HTTP.
///
/// Thread safety: `Sendable`. The model and job tables are guarded by one mutex; forward passes
/// run on Dispatch threads (never on Swift concurrency's cooperative pool) and are serialized
/// process-wide by the engine; PoC batches yield to interactive requests between batches.
public final class WorkerService: WorkerAPI {
    public struct Configuration: Sendable {
        public var name = "chorus-swift-worker"
        public var version = "0.1.0"
        public var limits = WorkerLimits()
        /// Nonces per forward pass when a job does not say.
        public var defaultBatchSize = 32
        /// A job with a full backlog that nobody pulls for this long is stopped and its artifacts
        /// dropped (Specs/worker.md §5).
        public var abandonAfter: Duration = .seconds(120)
        public init() {}
    }

    /// A resident model and what the protocol reports about it.
    final class LoadedModel: Sendable {
        let resident: ResidentModel
        let message: ModelMessage
        init(resident: ResidentModel, message: ModelMessage) {
            self.resident = resident
            self.message = message
        }
    }

    /// Flags a running generation to stop at its next token (`POST /v1/stop`).
    final class CancelFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func cancel() { flag.store(true, ordering: .relaxed) }
        var cancelled: Bool { flag.load(ordering: .relaxed) }
    }

    struct Table {
        var models: [String: LoadedModel] = [:]
        var loadingIDs: Set<String> = []
        var jobs: [String: PoCJob] = [:]
        var jobOrder: [String] = []
        var jobCounter = 0
        var verifying = 0
        var serving = 0
        var stopping = 0
        var generations: [ObjectIdentifier: CancelFlag] = [:]
        var stateName = "idle"
        var stateSince = WallClock.now()
    }

    public let configuration: Configuration
    let table = Mutex(Table())
    let gate = InteractiveGate()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    var limits: WorkerLimits { configuration.limits }

    // MARK: - Worker and models

    public func info() async -> InfoMessage {
        InfoMessage(
            protocol: 1,
            worker: .init(name: configuration.name, version: configuration.version),
            backend: .init(name: "swift-cpu", device: "cpu", dtype: "fp32"),
            poc: .init(specs: [PoCKernel.spec], kDim: PoCKernel.kDim, defaultBatchSize: configuration.defaultBatchSize),
            limits: limits,
            models: modelMessages())
    }

    public func models() async -> ModelsMessage {
        ModelsMessage(models: modelMessages())
    }

    func modelMessages() -> [ModelMessage] {
        table.withLock { t in t.models.keys.sorted().compactMap { t.models[$0]?.message } }
    }

    public func state() async -> StateMessage {
        table.withLock { t in
            let running = t.jobOrder.compactMap { t.jobs[$0] }.filter(\.isRunning)
            let name: String
            if t.stopping > 0 { name = "stopping" }
            else if !t.loadingIDs.isEmpty { name = "loading" }
            else if t.verifying > 0 { name = "poc_verifying" }
            else if t.serving > 0 { name = "serving" }
            else if !running.isEmpty { name = "poc_generating" }
            else { name = "idle" }
            if name != t.stateName {
                t.stateName = name
                t.stateSince = WallClock.now()
            }
            return StateMessage(
                state: name, since: t.stateSince,
                activities: .init(loading: t.loadingIDs.count, verifying: t.verifying, serving: t.serving, pocJobsRunning: running.count),
                jobs: t.jobOrder.compactMap { t.jobs[$0]?.status }.map {
                    StateMessage.Job(id: $0.id, state: $0.state, model: $0.model, noncesDone: $0.noncesDone)
                },
                models: t.models.keys.sorted())
        }
    }

    public func stop() async -> StopMessage {
        let (jobs, flags): ([PoCJob], [CancelFlag]) = table.withLock { t in
            t.stopping += 1
            return (t.jobOrder.compactMap { t.jobs[$0] }, Array(t.generations.values))
        }
        defer { table.withLock { $0.stopping -= 1 } }
        for flag in flags { flag.cancel() }
        let stopped = jobs.filter { $0.requestStop() }
        for job in stopped { await job.waitUntilIdle() }
        return StopMessage(stoppedJobs: stopped.map(\.id), cancelledRequests: flags.count)
    }

    public func loadModel(_ request: LoadModelRequest) async throws(WorkerError) -> ModelMessage {
        let id = request.id
        guard (1...255).contains(id.utf8.count) else { throw .invalid("id", "must be 1 to 255 bytes of UTF-8") }
        if let digest = request.digest {
            guard digest.lowercased().hasPrefix("sha256:") || digest.lowercased().hasPrefix("blake2b:") else {
                throw .invalid("digest", "must be 'sha256:<hex>' or 'blake2b:<hex>'")
            }
        }
        guard (request.path == nil) != (request.synthetic == nil) else {
            throw .invalid("path", "give exactly one of 'path' (a GGUF file) and 'synthetic'")
        }
        try table.withLock { t throws(WorkerError) in
            guard t.models[id] == nil, !t.loadingIDs.contains(id) else {
                throw WorkerError(status: 409, code: "model_exists", message: "a model with id '\(id)' is already resident; unload it first", field: "id")
            }
            t.loadingIDs.insert(id)
        }
        defer { _ = table.withLock { $0.loadingIDs.remove(id) } }
        let loaded: LoadedModel
        if let path = request.path {
            loaded = try await BlockingWork.run { () throws(WorkerError) in
                try WorkerService.loadFile(id: id, path: path, expectedDigest: request.digest)
            }
        } else if let synthetic = request.synthetic {
            let model = try WorkerService.syntheticModel(synthetic)
            if let expected = request.digest, expected.lowercased() != model.digest {
                throw WorkerError(status: 409, code: "digest_mismatch",
                                  message: "synthetic model digest is \(model.digest), expected \(expected)", field: "digest")
            }
            loaded = try await BlockingWork.run { () throws(WorkerError) in
                try WorkerService.loadSynthetic(id: id, model: model)
            }
        } else {
            throw .invalid("path", "give exactly one of 'path' and 'synthetic'")
        }
        table.withLock { $0.models[id] = loaded }
        return loaded.message
    }

    static func loadFile(id: String, path: String, expectedDigest: String?) throws(WorkerError) -> LoadedModel {
        let digest: String
        do {
            digest = try FileDigest.sha256(path: path)
        } catch {
            throw WorkerError(status: 404, code: "not_found", message: "cannot read the model file: \(error)", field: "path")
        }
        if let expectedDigest, expectedDigest.lowercased() != digest {
            throw WorkerError(status: 409, code: "digest_mismatch", message: "file digest is \(digest), expected \(expectedDigest)", field: "digest")
        }
        let resident: ResidentModel
        do {
            resident = try ResidentModel(id: id, path: path)
        } catch {
            throw WorkerError(status: 422, code: "model_invalid", message: "\(error)", field: "path")
        }
        return LoadedModel(resident: resident, message: message(for: resident, digest: digest,
                                                                source: ModelSourceMessage(kind: "file", path: path)))
    }

    static func syntheticModel(_ s: LoadModelRequest.Synthetic) throws(WorkerError) -> SyntheticModel {
        guard s.seed.utf8.count == 64, let seed = try? Bytes32(hex: s.seed) else {
            throw .invalid("synthetic.seed", "must be 64 hex characters (32 bytes)")
        }
        let config: LlamaConfig
        switch (s.preset, s.config) {
        case let (preset?, nil):
            guard let c = SyntheticModel.presets[preset] else {
                throw .invalid("synthetic.preset", "unknown preset '\(preset)'; known: \(SyntheticModel.presets.keys.sorted().joined(separator: ", "))")
            }
            config = c
        case let (nil, message?):
            config = message.llamaConfig
            if let failure = config.validationFailure { throw .invalid("synthetic.config", failure) }
            // Weights are fp32 in memory; refuse shapes that cannot fit any machine this runs on.
            guard config.parameterCount <= 4_000_000_000 else {
                throw .invalid("synthetic.config", "\(config.parameterCount) parameters is more than this worker holds (4e9)")
            }
        default:
            throw .invalid("synthetic.preset", "give exactly one of 'preset' and 'config'")
        }
        return SyntheticModel(config: config, seed: seed)
    }

    static func loadSynthetic(id: String, model: SyntheticModel) throws(WorkerError) -> LoadedModel {
        let resident: ResidentModel
        do {
            resident = try ResidentModel(id: id, synthetic: model)
        } catch {
            throw WorkerError(status: 422, code: "model_invalid", message: "\(error)", field: "synthetic.config")
        }
        let source = ModelSourceMessage(kind: "synthetic", config: ModelConfigMessage(model.config), seed: model.seed.hex)
        return LoadedModel(resident: resident, message: message(for: resident, digest: model.digest, source: source))
    }

    static func message(for r: ResidentModel, digest: String, source: ModelSourceMessage) -> ModelMessage {
        let c = r.model.config
        let template = (try? r.chatTemplate.get()) != nil
        return ModelMessage(id: r.id, digest: digest, source: source, config: ModelConfigMessage(c),
                            parameters: c.parameterCount, tokenizer: r.tokenizer != nil, chatTemplate: template,
                            eosId: r.tokenizer?.eosID, loadedAt: WallClock.now())
    }

    public func unloadModel(_ id: String) async throws(WorkerError) -> UnloadMessage {
        try table.withLock { t throws(WorkerError) in
            guard t.models[id] != nil else { throw .unknownModel(id, field: "id") }
            if t.jobs.values.contains(where: { $0.modelID == id && $0.isRunning }) {
                throw WorkerError(status: 409, code: "model_busy", message: "a running PoC job uses model '\(id)'; stop it first", field: "id")
            }
            t.models[id] = nil
        }
        return UnloadMessage(unloaded: id)
    }

    func model(_ id: String, field: String = "model") throws(WorkerError) -> LoadedModel {
        guard let m = table.withLock({ $0.models[id] }) else { throw .unknownModel(id, field: field) }
        return m
    }
}
