/// The tables a build of Chorus uses and how to bring an older store up to date.
///
/// The schema version is the number of migrations: migration `i` takes a store from version `i` to
/// `i + 1`, and a new store starts at 0 and runs them all. At open, the tables are created, then
/// every pending migration runs, in order, in the same write transaction that records the new
/// version; so either all of them take effect or none does. Append migrations; never reorder or
/// remove one that has shipped.
public struct StoreSchema: Sendable {
    /// Tables created at open if missing. The `meta` table is always added.
    public var tables: [String]
    /// Ordered migrations; `migrations.count` is the version this schema describes.
    public var migrations: [Migration]

    public var version: Int { migrations.count }

    public init(tables: [String], migrations: [Migration] = []) {
        self.tables = tables
        self.migrations = migrations
    }

    /// One step from the previous schema version to the next.
    ///
    /// It runs inside the opening write transaction, before the environment is returned, so it reaches
    /// tables through the transaction (`transaction.table("name")`). If the map has to grow, the whole
    /// opening transaction runs again, so a migration must only act through the transaction.
    public struct Migration: Sendable {
        /// Shown in errors and logs.
        public let name: String
        let apply: @Sendable (borrowing WriteTransaction) throws(StoreError) -> Void

        public init(_ name: String, _ apply: @escaping @Sendable (borrowing WriteTransaction) throws(StoreError) -> Void) {
            self.name = name
            self.apply = apply
        }
    }
}
