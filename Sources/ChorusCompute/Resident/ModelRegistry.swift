import Synchronization

/// The models a worker keeps resident, by id. Loading happens once; PoC, generation and scoring
/// then share the loaded weights.
///
/// Thread safety: `Sendable`; the table is guarded by a mutex, so any thread may load, look up or
/// unload at any time. A model stays alive while any caller still holds it, even after `unload`.
/// Loading runs outside the lock (it takes seconds for a real model), so two loads of the same id
/// race: the second to finish gets `alreadyLoaded`.
public final class ModelRegistry: Sendable {
    private let models = Mutex<[String: ResidentModel]>([:])

    public init() {}

    /// Loads a GGUF file under `id`.
    @discardableResult
    public func load(id: String, path: String) throws(ModelLoadError) -> ResidentModel {
        try insert(ResidentModel(id: id, path: path))
    }

    /// Builds a synthetic model under `id`.
    @discardableResult
    public func load(id: String, synthetic: SyntheticModel) throws(ModelLoadError) -> ResidentModel {
        try insert(ResidentModel(id: id, synthetic: synthetic))
    }

    private func insert(_ model: ResidentModel) throws(ModelLoadError) -> ResidentModel {
        let inserted = models.withLock { table in
            if table[model.id] != nil { return false }
            table[model.id] = model
            return true
        }
        guard inserted else { throw .alreadyLoaded(id: model.id) }
        return model
    }

    public func model(_ id: String) throws(ComputeError) -> ResidentModel {
        guard let m = models.withLock({ $0[id] }) else { throw .unknownModel(id: id) }
        return m
    }

    /// Drops the registry's reference; returns whether the id was loaded.
    @discardableResult
    public func unload(_ id: String) -> Bool {
        models.withLock { $0.removeValue(forKey: id) != nil }
    }

    /// Ids of the resident models, sorted.
    public var ids: [String] {
        models.withLock { $0.keys.sorted() }
    }
}
