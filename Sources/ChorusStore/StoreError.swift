/// Everything that can go wrong in ChorusStore.
///
/// Each case carries the path it concerns and, for failed LMDB or system calls, the code's symbolic
/// name (`MDB_MAP_FULL`, `ENOSPC`, …) and LMDB's own message, so an operator reading a log line knows
/// what failed and what to do without the source code.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An LMDB or system call failed. `code` is LMDB's return code (an errno value or an `MDB_*` code).
    case lmdb(operation: String, path: String, code: Int32, codeName: String, message: String)
    /// The directory holds no store (read-only opening never creates one).
    case noStore(path: String)
    /// The directory holds an LMDB environment that ChorusStore did not write (no `meta` table).
    case notAChorusStore(path: String, reason: String)
    /// The data file is damaged or is not an LMDB file of a compatible version.
    case corrupt(path: String, codeName: String, message: String)
    /// A write did not fit although the map already has its configured maximum size.
    case mapFull(path: String, mapSize: Int, maximumMapSize: Int)
    /// A write did not fit in the current map. The transaction was discarded and the map grows before
    /// the next write transaction begins; running the transaction again succeeds. `write {}` and
    /// `StorageWriter` retry by themselves, so only callers of `beginWrite()` see this.
    case mapGrowthNeeded(path: String, mapSize: Int)
    /// The store was written by newer code (a higher schema version). Nothing was changed.
    case schemaTooNew(path: String, storedVersion: Int, supportedVersion: Int)
    /// A migration threw; its transaction was aborted, so the store is still at `fromVersion`.
    case migrationFailed(path: String, fromVersion: Int, migration: String, reason: String)
    /// No table of that name exists in the store (it is neither in the schema nor in the file).
    case unknownTable(path: String, name: String)
    /// Stored bytes could not be decoded as the expected type.
    case malformed(what: String, reason: String)
    /// A write was attempted on a store opened read-only.
    case readOnly(path: String)
    /// This process already has the environment open; LMDB forbids a second handle in one process.
    case alreadyOpen(path: String)
    /// A transaction was used in a way LMDB cannot support (see `reason`).
    case transactionMisuse(path: String, reason: String)
    /// The storage writer was closed before the batch was accepted.
    case writerClosed(path: String)
    /// A file-system call (creating the directory, inspecting files) failed.
    case fileSystem(operation: String, path: String, errno: Int32, message: String)

    public var description: String {
        switch self {
        case let .lmdb(operation, path, code, codeName, message):
            var text = "store \(path): \(operation) failed: \(codeName) (\(message))"
            if let hint = StoreError.hint(forCode: code) { text += "; " + hint }
            return text
        case let .noStore(path):
            return "no Chorus store in \(path) (there is no \(path)/\(StoreEnvironment.dataFileName)); "
                + "check --data-dir, or start the node once to create the store"
        case let .notAChorusStore(path, reason):
            return "\(path) holds an LMDB environment that is not a Chorus store (\(reason)); "
                + "point the node at its own data directory"
        case let .corrupt(path, codeName, message):
            return "store \(path) is damaged or unreadable: \(codeName) (\(message)); restore the directory "
                + "from a backup or move it away so the node starts with an empty store "
                + "(`mdb_stat -a \(path)` shows what LMDB can still read)"
        case let .mapFull(path, mapSize, maximum):
            return "store \(path) is full: the map has reached its maximum size of \(maximum) bytes "
                + "(current \(mapSize)); raise StoreOptions.maximumMapSize (the node's store.max_map_size "
                + "setting) and check free disk space"
        case let .mapGrowthNeeded(path, mapSize):
            return "store \(path): the transaction did not fit in the \(mapSize)-byte map; it was discarded "
                + "and the map grows before the next write transaction; run it again"
        case let .schemaTooNew(path, stored, supported):
            return "store \(path) has schema version \(stored) but this build supports at most \(supported); "
                + "it was written by a newer Chorus. Upgrade chorus, or use another data directory. "
                + "Nothing was changed"
        case let .migrationFailed(path, from, migration, reason):
            return "store \(path): migration \"\(migration)\" (from schema version \(from)) failed: \(reason); "
                + "the store was left at version \(from)"
        case let .unknownTable(path, name):
            return "store \(path) has no table \"\(name)\"; declare it in the StoreSchema so it is created at open"
        case let .malformed(what, reason):
            return "malformed \(what) in the store: \(reason)"
        case let .readOnly(path):
            return "store \(path) was opened read-only; writes need StoreEnvironment.open(at:schema:)"
        case let .alreadyOpen(path):
            return "store \(path) is already open in this process; share the one StoreEnvironment "
                + "(LMDB breaks its locks when one process opens an environment twice)"
        case let .transactionMisuse(path, reason):
            return "store \(path): \(reason)"
        case let .writerClosed(path):
            return "store \(path): the storage writer is closed; the batch was not written"
        case let .fileSystem(operation, path, errno, message):
            return "\(operation) \(path) failed: \(LMDBStatus.name(of: errno)) (\(message))"
        }
    }

    /// What an operator can do about an LMDB return code, where there is something to say.
    static func hint(forCode code: Int32) -> String? {
        switch code {
        case LMDBStatus.readersFull:
            return "too many read transactions at once; end them sooner or raise StoreOptions.maxReaders"
        case LMDBStatus.tablesFull:
            return "too many named tables; raise StoreOptions.maxTables"
        case LMDBStatus.transactionFull:
            return "the transaction changes too many pages; split it into smaller ones"
        case LMDBStatus.badValueSize:
            return "keys must be 1 to 511 bytes and values must fit in the map"
        case LMDBStatus.badTransaction:
            return "an earlier operation in this transaction failed; it can only be aborted"
        case LMDBStatus.panic:
            return "the environment hit a fatal error; close and reopen the store"
        case LMDBStatus.readersTableFullTLS:
            return "too many threads hold read transactions"
        default:
            break
        }
        switch LMDBStatus.name(of: code) {
        case "ENOSPC": return "the disk is full; free space"
        case "EACCES", "EPERM": return "check the permissions of the data directory and its files"
        case "EROFS": return "the file system is read-only"
        case "EIO": return "the disk reported an I/O error; check the device"
        case "ENOMEM": return "not enough memory or address space for the map"
        case "EAGAIN", "EBUSY": return "another process holds the store in a conflicting mode"
        default: return nil
        }
    }
}
