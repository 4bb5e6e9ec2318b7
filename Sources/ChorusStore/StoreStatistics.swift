internal import CLMDB

/// A snapshot of a store's size and contents, for `chorus db stats` and monitoring.
public struct StoreStatistics: Sendable, Equatable, Codable {
    /// One table's figures.
    public struct TableStatistics: Sendable, Equatable, Codable {
        public var name: String
        public var entries: Int
        /// Height of the table's B-tree.
        public var depth: Int
        /// Pages the table occupies (branch, leaf and overflow).
        public var pages: Int
    }

    public var path: String
    public var schemaVersion: Int
    /// The map size (the file's address-space reservation) in bytes.
    public var mapSize: Int
    public var pageSize: Int
    /// Pages in use up to the highest one written (the file's high-water mark, free pages included).
    public var usedPages: Int
    /// The id of the last committed transaction.
    public var lastTransactionID: Int
    /// Reader slots ever used in the lock file, and how many there are.
    public var readerSlotsUsed: Int
    public var maxReaders: Int
    /// All tables, sorted by name.
    public var tables: [TableStatistics]
}

extension StoreEnvironment {
    /// Reads the statistics in one read transaction.
    @available(*, noasync)
    public func statistics() throws(StoreError) -> StoreStatistics {
        try read { (transaction: borrowing ReadTransaction) throws(StoreError) -> StoreStatistics in
            var tables: [StoreStatistics.TableStatistics] = []
            for name in tableNames {
                let table: Table<[UInt8], [UInt8]> = try table(name)
                let stat = try transaction.transactionContext.statistics(table.identity)
                tables.append(.init(
                    name: name, entries: Int(stat.ms_entries), depth: Int(stat.ms_depth),
                    pages: Int(stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages)))
            }
            var info = MDB_envinfo()
            mdb_env_info(handle, &info)
            var environmentStat = MDB_stat()
            mdb_env_stat(handle, &environmentStat)
            return StoreStatistics(
                path: path, schemaVersion: schemaVersion, mapSize: info.me_mapsize,
                pageSize: Int(environmentStat.ms_psize), usedPages: info.me_last_pgno + 1,
                lastTransactionID: info.me_last_txnid, readerSlotsUsed: Int(info.me_numreaders),
                maxReaders: Int(info.me_maxreaders), tables: tables)
        }
    }
}
