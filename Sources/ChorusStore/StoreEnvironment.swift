internal import CLMDB
import Synchronization

/// One LMDB environment: the store of one data directory.
///
/// Open it once per process and share the instance: LMDB's locks break if one process opens the same
/// environment twice, so a second `open` of the same directory throws `StoreError.alreadyOpen`.
/// The files are `data.mdb` and `lock.mdb` directly inside the directory.
///
/// Transactions are synchronous and `@available(*, noasync)`: LMDB ties a write transaction to the
/// thread that began it, and a task may change threads at every `await`. Durable writes from async
/// code and from the libuv loop go through a `StorageWriter`.
///
/// The map grows by itself: a write that does not fit doubles the map (up to
/// `StoreOptions.maximumMapSize`) before it is run again. Growing remaps the file, so it waits until
/// no transaction is open in the process; keep transactions short.
///
/// `@unchecked Sendable` invariant: the LMDB environment handle is thread-safe (LMDB documents
/// `MDB_env` as shareable, and it is opened with `MDB_NOTLS` so read transactions are not tied to
/// thread-local slots); `tableHandles` and `schemaVersion` are written only while the environment is
/// being opened (before `open` returns it to anyone) and only read afterwards; the map-size state is
/// behind a `Mutex`; the gate synchronizes itself.
public final class StoreEnvironment: @unchecked Sendable {
    /// The data file's name inside the store directory.
    public static let dataFileName = "data.mdb"
    /// The name of the table holding the schema version; every Chorus store has it.
    public static let metaTableName = "meta"
    static let schemaVersionKey = "schema_version"

    /// The store directory.
    public let path: String
    /// The options the environment was opened with (the map size limits apply to this process).
    public let options: StoreOptions
    /// True when opened with `openReadOnly`; writes then throw `StoreError.readOnly`.
    public let isReadOnly: Bool
    /// How many reader slots of killed processes `mdb_reader_check` freed when the store was opened.
    /// A stale slot pins old pages, so the file grows instead of reusing them. (When no other process
    /// has the store open, LMDB resets the whole reader table at open and this is 0.)
    public let staleReadersCleared: Int
    /// The schema version stored in the file after opening (and migrating).
    public internal(set) var schemaVersion: Int = 0

    let handle: OpaquePointer
    let serial: UInt64
    let gate = TransactionGate()
    private let registrationKey: String
    /// Table name → LMDB database handle. See the type's Sendable invariant.
    private(set) var tableHandles: [String: UInt32] = [:]
    private let mapState: Mutex<MapState>

    struct MapState {
        var mapSize: Int
        /// Set when a write hit `MDB_MAP_FULL` at this map size; the next write transaction grows the map.
        var growthRequestedAt: Int?
    }

    // MARK: - Opening

    /// Opens (creating when missing) the store in `directory` for reading and writing, creates the
    /// schema's tables and runs its pending migrations in one write transaction.
    ///
    /// A store whose schema version is newer than `schema.version` is refused with
    /// `StoreError.schemaTooNew` and left untouched.
    public static func open(
        at directory: String, schema: StoreSchema, options: StoreOptions = StoreOptions()
    ) throws(StoreError) -> StoreEnvironment {
        try FileSystem.createDirectory(directory)
        let environment = try StoreEnvironment(directory: directory, readOnly: false, options: options)
        try environment.applySchema(schema)
        return environment
    }

    /// Opens an existing store for reading only (inspection tools, auditors). Never creates anything:
    /// a directory without a store gives `StoreError.noStore`.
    public static func openReadOnly(
        at directory: String, options: StoreOptions = StoreOptions()
    ) throws(StoreError) -> StoreEnvironment {
        guard FileSystem.exists(directory + "/" + dataFileName) else { throw .noStore(path: directory) }
        let environment = try StoreEnvironment(directory: directory, readOnly: true, options: options)
        try environment.loadReadOnlyTables()
        return environment
    }

    private init(directory: String, readOnly: Bool, options: StoreOptions) throws(StoreError) {
        let key = try FileSystem.identity(ofDirectory: directory)
        guard let serial = OpenEnvironments.register(key) else { throw .alreadyOpen(path: directory) }
        var created: OpaquePointer?
        var rc = mdb_env_create(&created)
        guard rc == LMDBStatus.success, let env = created else {
            OpenEnvironments.unregister(key)
            throw LMDBStatus.error(rc, operation: "create environment", path: directory)
        }
        func fail(_ rc: Int32, _ operation: String) -> StoreError {
            mdb_env_close(env)
            OpenEnvironments.unregister(key)
            return LMDBStatus.error(rc, operation: operation, path: directory)
        }
        // For an existing file the map size is left unset before opening, so LMDB adopts the size the
        // file records (a map grown in an earlier run stays grown); it is raised to `initialMapSize`
        // right after. A new file starts at `initialMapSize`.
        let initialMapSize = Self.roundedMapSize(options.initialMapSize)
        if !readOnly && !FileSystem.exists(directory + "/" + Self.dataFileName) {
            rc = mdb_env_set_mapsize(env, initialMapSize)
            if rc != LMDBStatus.success { throw fail(rc, "set map size") }
        }
        rc = mdb_env_set_maxdbs(env, UInt32(clamping: options.maxTables))
        if rc != LMDBStatus.success { throw fail(rc, "set maximum table count") }
        rc = mdb_env_set_maxreaders(env, UInt32(clamping: options.maxReaders))
        if rc != LMDBStatus.success { throw fail(rc, "set maximum reader count") }
        var flags = UInt32(MDB_NOTLS)
        if readOnly { flags |= UInt32(MDB_RDONLY) }
        rc = mdb_env_open(env, directory, flags, 0o600)
        if rc != LMDBStatus.success { throw fail(rc, "open environment") }

        var dead: Int32 = 0
        rc = mdb_reader_check(env, &dead)
        if rc != LMDBStatus.success { throw fail(rc, "check for stale readers") }

        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        var mapSize = info.me_mapsize
        if !readOnly && mapSize < initialMapSize {
            // No transaction exists yet, so resizing here is safe.
            rc = mdb_env_set_mapsize(env, initialMapSize)
            if rc != LMDBStatus.success { throw fail(rc, "set map size") }
            mdb_env_info(env, &info)
            mapSize = info.me_mapsize
        }

        self.path = directory
        self.options = options
        self.isReadOnly = readOnly
        self.staleReadersCleared = Int(dead)
        self.handle = env
        self.serial = serial
        self.registrationKey = key
        self.mapState = Mutex(MapState(mapSize: mapSize, growthRequestedAt: nil))
    }

    deinit {
        // Every transaction holds a strong reference to its environment, so none is open here.
        mdb_env_close(handle)
        OpenEnvironments.unregister(registrationKey)
    }

    // MARK: - Tables

    /// The table called `name`, typed with its key and value encodings.
    ///
    /// Tables exist once the schema declares them (they are created at open) or the file holds them.
    public func table<Key: StoreKey, Value: StoreValue>(
        _ name: String, key: Key.Type = Key.self, value: Value.Type = Value.self
    ) throws(StoreError) -> Table<Key, Value> {
        guard let dbi = tableHandles[name] else { throw .unknownTable(path: path, name: name) }
        return Table(name: name, dbi: dbi, environmentSerial: serial)
    }

    /// The `meta` table: the schema version lives here; other small settings may too.
    public func metaTable() throws(StoreError) -> Table<String, [UInt8]> {
        try table(Self.metaTableName)
    }

    /// Names of all tables, sorted.
    public var tableNames: [String] { tableHandles.keys.sorted() }

    func setTableHandles(_ handles: [String: UInt32]) { tableHandles = handles }

    // MARK: - Transactions

    /// Begins a read transaction: a consistent snapshot until it ends. Keep it short; it delays map growth.
    @available(*, noasync)
    public func beginRead() throws(StoreError) -> ReadTransaction {
        ReadTransaction(context: try begin(write: false))
    }

    /// Begins the write transaction. Only one exists at a time across all processes; beginning a
    /// second one on the same thread throws instead of deadlocking.
    ///
    /// Prefer `write {}`, which retries when the map has to grow. With this call, a write that does not
    /// fit throws `StoreError.mapGrowthNeeded` and the caller runs the transaction again.
    @available(*, noasync)
    public func beginWrite() throws(StoreError) -> WriteTransaction {
        guard !isReadOnly else { throw .readOnly(path: path) }
        return WriteTransaction(context: try begin(write: true))
    }

    /// Runs `body` in a read transaction and ends it.
    @available(*, noasync)
    public func read<R>(_ body: (borrowing ReadTransaction) throws(StoreError) -> R) throws(StoreError) -> R {
        let transaction = try beginRead()
        let result = try body(transaction)
        transaction.abort()
        return result
    }

    /// Runs `body` in a write transaction and commits it; if `body` throws, nothing is written.
    ///
    /// When the changes do not fit in the map, the map grows and `body` runs again in a fresh
    /// transaction, so `body` must have no effects outside the transaction.
    @available(*, noasync)
    public func write<R>(_ body: (borrowing WriteTransaction) throws(StoreError) -> R) throws(StoreError) -> R {
        while true {
            do throws(StoreError) {
                let transaction = try beginWrite()
                let result = try body(transaction)
                try transaction.commit()
                return result
            } catch .mapGrowthNeeded {
                continue
            }
        }
    }

    /// `read` for a body that throws errors of any type (Swift infers an untyped `throws` for a closure
    /// written without an explicit `throws(StoreError)`).
    @available(*, noasync)
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        let transaction = try beginRead()
        let result = try body(transaction)
        transaction.abort()
        return result
    }

    /// `write` for a body that throws errors of any type; a thrown error aborts the transaction.
    @available(*, noasync)
    public func write<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        while true {
            do {
                let transaction = try beginWrite()
                let result = try body(transaction)
                try transaction.commit()
                return result
            } catch StoreError.mapGrowthNeeded {
                continue
            }
        }
    }

    /// Registers with the gate and begins an LMDB transaction, adopting a map another process grew.
    func begin(write: Bool) throws(StoreError) -> TransactionContext {
        let thread = currentThreadID()
        if write { try growIfRequested(thread: thread) }
        while true {
            do {
                try gate.enter(thread: thread, write: write)
            } catch {
                throw .transactionMisuse(
                    path: path,
                    reason: "this thread already holds the write transaction; LMDB allows one writer, "
                        + "and beginning another on the same thread would deadlock")
            }
            var transaction: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, write ? 0 : UInt32(MDB_RDONLY), &transaction)
            if rc == LMDBStatus.success, let transaction {
                return TransactionContext(handle: transaction, environment: self, thread: thread, isWrite: write)
            }
            gate.leave(thread: thread, write: write)
            guard rc == LMDBStatus.mapResized else {
                throw LMDBStatus.error(rc, operation: write ? "begin write transaction" : "begin read transaction", path: path)
            }
            try adoptResizedMap(thread: thread)
        }
    }

    /// Ends an LMDB transaction that `begin` started.
    func end(_ context: TransactionContext, commit: Bool) -> Int32 {
        var rc = LMDBStatus.success
        if commit { rc = mdb_txn_commit(context.handle) } else { mdb_txn_abort(context.handle) }
        gate.leave(thread: context.thread, write: context.isWrite)
        return rc
    }

    // MARK: - Map size

    /// The current map size in this process.
    public var mapSize: Int { mapState.withLock { $0.mapSize } }

    /// The error for an `MDB_MAP_FULL` seen in a write transaction: growth is requested for the next
    /// write unless the map is already at its maximum.
    func mapFullError() -> StoreError {
        mapState.withLock { state -> StoreError in
            if Self.grownMapSize(from: state.mapSize, maximum: options.maximumMapSize) <= state.mapSize {
                return .mapFull(path: path, mapSize: state.mapSize, maximumMapSize: options.maximumMapSize)
            }
            state.growthRequestedAt = state.mapSize
            return .mapGrowthNeeded(path: path, mapSize: state.mapSize)
        }
    }

    /// The error for an LMDB code returned inside a transaction.
    func error(_ code: Int32, _ operation: String) -> StoreError {
        code == LMDBStatus.mapFull ? mapFullError() : LMDBStatus.error(code, operation: operation, path: path)
    }

    private func growIfRequested(thread: UInt) throws(StoreError) {
        guard let requestedAt = mapState.withLock({ $0.growthRequestedAt }) else { return }
        let target = Self.grownMapSize(from: requestedAt, maximum: options.maximumMapSize)
        try resizeExclusively(thread: thread, what: "grow the map") { () -> Int32? in
            // Another thread may have grown the map since the request; then drop the stale request.
            let needed = self.mapState.withLock { state -> Bool in
                guard state.growthRequestedAt == requestedAt else { return false }
                guard state.mapSize == requestedAt else {
                    state.growthRequestedAt = nil
                    return false
                }
                return true
            }
            return needed ? mdb_env_set_mapsize(self.handle, target) : nil
        }
    }

    private func adoptResizedMap(thread: UInt) throws(StoreError) {
        // Size 0 tells LMDB to adopt the size another process wrote into the file.
        try resizeExclusively(thread: thread, what: "adopt the map size another process set") { () -> Int32? in
            mdb_env_set_mapsize(self.handle, 0)
        }
    }

    /// Runs a resize while no transaction is open in the process, then refreshes the recorded map size.
    private func resizeExclusively(thread: UInt, what: String, _ resize: () -> Int32?) throws(StoreError) {
        var rc = LMDBStatus.success
        do {
            try gate.exclusive(thread: thread) {
                guard let result = resize() else { return }
                rc = result
                guard rc == LMDBStatus.success else { return }
                var info = MDB_envinfo()
                mdb_env_info(handle, &info)
                mapState.withLock { state in
                    state.mapSize = info.me_mapsize
                    state.growthRequestedAt = nil
                }
            }
        } catch {
            throw .transactionMisuse(
                path: path,
                reason: "cannot \(what) while this thread holds a transaction (resizing waits until every "
                    + "transaction in the process has ended); end the outer transaction first")
        }
        if rc != LMDBStatus.success { throw LMDBStatus.error(rc, operation: what, path: path) }
    }

    /// `size` rounded up to whole 64 KiB, a multiple of any OS page size (LMDB wants page multiples).
    static func roundedMapSize(_ size: Int) -> Int {
        (max(size, 1) + 0xFFFF) & ~0xFFFF
    }

    /// Doubles `size`, capped at `maximum` and rounded down to whole 64 KiB (a multiple of any OS page size).
    static func grownMapSize(from size: Int, maximum: Int) -> Int {
        let doubled = size > maximum / 2 ? maximum : size * 2
        let rounded = doubled & ~0xFFFF
        return max(rounded, size)
    }
}

/// Directories with an open environment in this process, so a second open is refused.
enum OpenEnvironments {
    private static let state = Mutex<(open: Set<String>, nextSerial: UInt64)>((open: [], nextSerial: 1))

    /// Registers a directory; nil when it is already open. Returns a serial unique to this opening.
    static func register(_ key: String) -> UInt64? {
        state.withLock { state -> UInt64? in
            guard state.open.insert(key).inserted else { return nil }
            defer { state.nextSerial += 1 }
            return state.nextSerial
        }
    }

    static func unregister(_ key: String) {
        _ = state.withLock { state in state.open.remove(key) }
    }
}
