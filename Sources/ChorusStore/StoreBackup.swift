internal import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StoreEnvironment {
    /// Writes a consistent copy of the store into `directory` (created with mode 0700 when missing)
    /// as `data.mdb` (mode 0600), while other threads and processes keep reading and writing it.
    ///
    /// LMDB's `mdb_env_copy2` reads the whole file inside one read transaction, so the copy is the
    /// store as of one commit, never a torn mix; a plain `cp` of a live `data.mdb` can be. With
    /// `compact` (the default) it writes only live pages, renumbered, so the copy is usually smaller
    /// than the original and carries no free pages; a long copy holds its read snapshot, so a busy
    /// writer's file may grow meanwhile. The copy opens like any store (`open`, `openReadOnly`).
    ///
    /// A `directory` that already holds a `data.mdb` is refused with `StoreError.fileSystem` (EEXIST)
    /// and left untouched; a failed copy removes its partial file.
    public func copy(toDirectory directory: String, compact: Bool = true) throws(StoreError) {
        try FileSystem.createDirectory(directory)
        let target = directory + "/" + Self.dataFileName
        guard !FileSystem.exists(target) else {
            throw FileSystem.failure("copy the store to", target, EEXIST)
        }
        let rc = mdb_env_copy2(handle, directory, compact ? UInt32(MDB_CP_COMPACT) : 0)
        guard rc == LMDBStatus.success else {
            // EEXIST: another writer created the file since the check; it is theirs, not ours to remove.
            if rc != EEXIST { unlink(target) }
            throw LMDBStatus.error(rc, operation: "copy the store to \(directory)", path: path)
        }
        // LMDB creates the file with 0666 less the umask; the copy is as private as the store.
        guard chmod(target, 0o600) == 0 else { throw FileSystem.failure("restrict the mode of", target, errno) }
    }
}
