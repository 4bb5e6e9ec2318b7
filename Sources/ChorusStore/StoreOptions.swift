/// How a `StoreEnvironment` is opened.
///
/// The map is LMDB's address-space reservation for the data file: reads and writes go through it,
/// and a write that needs more pages than it holds fails with `MDB_MAP_FULL`. The map is sparse, so
/// reserving more than the data needs costs address space, not disk. ChorusStore starts at
/// `initialMapSize` (or the size the file already records, if larger) and doubles the map whenever a
/// write does not fit, up to `maximumMapSize`.
public struct StoreOptions: Sendable, Equatable {
    /// The map size to start with. Default 1 GiB.
    public var initialMapSize: Int
    /// The largest the map may grow to by doubling. Default 64 GiB.
    public var maximumMapSize: Int
    /// The most named tables the environment can hold (LMDB's `maxdbs`). Default 64.
    public var maxTables: Int
    /// The most read transactions open at once across all processes (LMDB's `maxreaders`). Default 126.
    public var maxReaders: Int

    public init(
        initialMapSize: Int = 1 << 30,
        maximumMapSize: Int = 64 << 30,
        maxTables: Int = 64,
        maxReaders: Int = 126
    ) {
        self.initialMapSize = initialMapSize
        self.maximumMapSize = maximumMapSize
        self.maxTables = maxTables
        self.maxReaders = maxReaders
    }
}
