import ChorusStore

/// The LMDB tables of a node's data directory, in one place so a reader sees the whole layout.
/// Adding a table is a schema change: append a migration that creates it (never edit old ones).
public enum NodeSchema {
    /// Signed statements by id: `id (32) → encoded statement`.
    public static let statements = "statements"
    /// Index of statements by scope: `type length (1) ‖ type ‖ epoch (u64 BE) ‖ id (32) → empty`.
    public static let statementsByScope = "statements-by-scope"

    /// Peers this node can dial again after a restart: `identity (32) → KnownPeer` (Peers/KnownPeer.swift).
    public static let peers = "peers"

    /// Gossip peer scores, so a restart does not forgive misbehaviour: `identity (32) → PeerScore as JSON`.
    public static let peerScores = "peer-scores"

    /// The address book (Peers/AddressBookStore.swift): `address text → entry`; its key is in `meta`.
    public static let addressBook = "address-book"

    /// Final weight tables with their certificates (Storage/FinalTableStore.swift): `epoch (u64 BE) → record`.
    public static let finalTables = "final-tables"

    /// PoC artifacts this node committed to (Storage/ArtifactStore.swift): `epoch ‖ model ‖ nonce → artifact`.
    /// Created at open when missing, so older stores simply gain it (no data to migrate).
    public static let pocArtifacts = "poc-artifacts"

    /// Inferences this node served or routed (Storage/InferenceRecordStore.swift): `record number (u64 BE) → record`,
    /// at most 10,000. Created at open when missing, like `poc-artifacts`.
    public static let inferenceRecords = "inference-records"

    public static let tables = [statements, statementsByScope, peers, peerScores, addressBook, finalTables, pocArtifacts, inferenceRecords]

    public static var schema: StoreSchema { StoreSchema(tables: tables) }
}
