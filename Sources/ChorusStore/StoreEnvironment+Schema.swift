internal import CLMDB

extension StoreEnvironment {
    /// Opens every table in the file, creates the schema's missing tables and runs pending migrations,
    /// all in one write transaction. Runs only while the environment is being opened.
    func applySchema(_ schema: StoreSchema) throws(StoreError) {
        let version = try write { (transaction: borrowing WriteTransaction) throws(StoreError) -> Int in
            let context = transaction.transactionContext
            var handles = try context.discoverTables()
            setTableHandles(handles)
            let fresh = handles[Self.metaTableName] == nil
            let stored: Int
            if !fresh {
                stored = try storedSchemaVersion(in: transaction)
            } else if handles.isEmpty {
                stored = 0
            } else {
                throw .notAChorusStore(
                    path: path,
                    reason: "it has tables (\(handles.keys.sorted().joined(separator: ", "))) but no meta table")
            }
            guard stored <= schema.version else {
                throw .schemaTooNew(path: path, storedVersion: stored, supportedVersion: schema.version)
            }
            for name in [Self.metaTableName] + schema.tables where handles[name] == nil {
                handles[name] = try context.openTable(name, create: true)
            }
            setTableHandles(handles)
            for version in stored..<schema.version {
                let migration = schema.migrations[version]
                do throws(StoreError) {
                    try migration.apply(transaction)
                } catch {
                    // A full map is not the migration's fault: let `write` grow the map and run it again.
                    if case .mapGrowthNeeded = error { throw error }
                    throw .migrationFailed(path: path, fromVersion: stored, migration: migration.name, reason: error.description)
                }
            }
            if fresh || stored != schema.version {
                let meta: Table<String, UInt64> = try table(Self.metaTableName)
                try meta.put(Self.schemaVersionKey, UInt64(schema.version), in: transaction)
            }
            return schema.version
        }
        schemaVersion = version
    }

    /// Opens every table in the file inside one read transaction, committed so the handles stay valid.
    func loadReadOnlyTables() throws(StoreError) {
        let transaction = try beginRead()
        let handles = try transaction.transactionContext.discoverTables()
        guard handles[Self.metaTableName] != nil else {
            if handles.isEmpty { throw .noStore(path: path) }
            throw .notAChorusStore(
                path: path, reason: "it has tables (\(handles.keys.sorted().joined(separator: ", "))) but no meta table")
        }
        setTableHandles(handles)
        schemaVersion = try storedSchemaVersion(in: transaction)
        try transaction.commit()
    }

    private func storedSchemaVersion<T: StoreTransaction & ~Copyable>(in transaction: borrowing T) throws(StoreError) -> Int {
        let meta: Table<String, [UInt8]> = try table(Self.metaTableName)
        guard let bytes = try meta.getBytes(Self.schemaVersionKey, in: transaction) else {
            throw .notAChorusStore(path: path, reason: "its meta table has no \(Self.schemaVersionKey)")
        }
        guard let version = try? UInt64(storeBytes: bytes), version <= UInt64(Int32.max) else {
            throw .notAChorusStore(path: path, reason: "its \(Self.schemaVersionKey) is not a valid version number")
        }
        return Int(version)
    }
}

extension TransactionContext {
    /// Opens every named database listed in the main database (LMDB keeps their names as its keys).
    func discoverTables() throws(StoreError) -> [String: UInt32] {
        var main: UInt32 = 0
        var rc = mdb_dbi_open(handle, nil, 0, &main)
        guard rc == LMDBStatus.success else { throw environment.error(rc, "open the main database") }
        var names: [String] = []
        let mainTable = TableIdentity(name: "(main)", dbi: main, environmentSerial: environment.serial)
        try walk(mainTable, from: .first, reverse: false) { (key: UnsafeRawBufferPointer, _: UnsafeRawBufferPointer) in
            if !key.contains(0), let name = String(validating: key, as: UTF8.self) { names.append(name) }
            return true
        }
        var handles: [String: UInt32] = [:]
        for name in names {
            var dbi: UInt32 = 0
            rc = mdb_dbi_open(handle, name, 0, &dbi)
            if rc == LMDBStatus.incompatible { continue }  // a plain key in the main database, not a table
            guard rc == LMDBStatus.success else { throw environment.error(rc, "open table \"\(name)\"") }
            handles[name] = dbi
        }
        return handles
    }

    /// Opens (with `create`, creating) the named database `name`.
    func openTable(_ name: String, create: Bool) throws(StoreError) -> UInt32 {
        var dbi: UInt32 = 0
        let rc = mdb_dbi_open(handle, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        guard rc == LMDBStatus.success else { throw environment.error(rc, "open table \"\(name)\"") }
        return dbi
    }
}
