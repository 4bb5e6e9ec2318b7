/// The keys and values of one sequence's past positions, so that each new token costs one row of
/// work instead of a recompute of the whole prefix. Belongs to the model that created it.
///
/// Not Sendable and not thread-safe: a cache is owned by the one task driving its sequence.
public final class KVCache {
    /// Positions this cache can hold (at most the model's context length).
    public let capacity: Int
    /// Positions already filled; the next token goes at position `count`.
    public internal(set) var count = 0

    let owner: ObjectIdentifier
    let layerCount: Int
    let kvWidth: Int
    /// [layer][position][kvWidth]; rows past `count` are unspecified.
    let keys: FloatBuffer
    let values: FloatBuffer

    /// A cache for up to `capacity` positions (the model's whole context when nil). Memory is
    /// 2 × layers × capacity × kvWidth floats, so size it for prompt + completion, not the maximum.
    public init(model: LlamaModel, capacity: Int? = nil) throws(ComputeError) {
        let config = model.config
        let cap = capacity ?? config.contextLength
        guard cap > 0, cap <= config.contextLength else {
            throw .contextOverflow(needed: cap, capacity: config.contextLength)
        }
        self.capacity = cap
        owner = ObjectIdentifier(model)
        layerCount = config.layerCount
        kvWidth = config.kvWidth
        keys = FloatBuffer(count: config.layerCount * cap * config.kvWidth)
        values = FloatBuffer(count: config.layerCount * cap * config.kvWidth)
    }

    /// Forgets positions from `length` on (e.g. to re-run a suffix); `length` ≤ `count`.
    public func truncate(to length: Int) {
        count = max(0, min(count, length))
    }

    /// Row of `position` for `layer` in `keys`/`values`.
    @inline(__always)
    func rowOffset(layer: Int, position: Int) -> Int {
        (layer * capacity + position) * kvWidth
    }
}
