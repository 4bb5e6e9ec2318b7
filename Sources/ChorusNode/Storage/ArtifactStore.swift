import ChorusStore

/// The `poc-artifacts` table: the artifacts this node committed to, so that it can still prove
/// its leaves after a restart (Specs/proofs.md §4). Key `epoch (u64 BE) ‖ model length (u8) ‖
/// model ‖ nonce (u64 BE)` → the artifact bytes. Keys sort by epoch first, so old epochs are
/// pruned with one forward scan.
///
/// Writes go through the node's `StorageWriter` (never blocking the loop); reads are synchronous
/// LMDB reads of one epoch and model, done when a generation (re)starts or a proof must be served
/// from disk.
public struct ArtifactStore: Sendable {
    private let environment: StoreEnvironment
    private let writer: StorageWriter
    private let table: Table<[UInt8], [UInt8]>

    public init(environment: StoreEnvironment, writer: StorageWriter) throws(StoreError) {
        self.environment = environment
        self.writer = writer
        table = try environment.table(NodeSchema.pocArtifacts)
    }

    static func prefix(epoch: UInt64, model: String) -> [UInt8] {
        let name = Array(model.utf8.prefix(255))
        return withUnsafeBytes(of: epoch.bigEndian) { Array($0) } + [UInt8(name.count)] + name
    }

    /// Appends `artifacts` of `model` in `epoch` (one batch on the storage thread).
    public func save(epoch: UInt64, model: String, _ artifacts: [(nonce: UInt64, artifact: [UInt8])]) {
        guard !artifacts.isEmpty else { return }
        let prefix = Self.prefix(epoch: epoch, model: model)
        var batch = WriteBatch()
        for (nonce, artifact) in artifacts {
            batch.put(prefix + withUnsafeBytes(of: nonce.bigEndian) { Array($0) }, artifact, into: table)
        }
        writer.submit(batch) { _ in }
    }

    /// Every saved artifact of `model` in `epoch`, by nonce.
    @available(*, noasync, message: "runs an LMDB read transaction; call from a thread, not a task")
    public func load(epoch: UInt64, model: String) throws(StoreError) -> [(nonce: UInt64, artifact: [UInt8])] {
        let prefix = Self.prefix(epoch: epoch, model: model)
        var out: [(nonce: UInt64, artifact: [UInt8])] = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            try table.scan(prefix: prefix, in: txn) { (key: [UInt8], value: [UInt8]) -> ScanControl in
                guard key.count == prefix.count + 8 else { return .continue }
                let nonce = key[prefix.count...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                out.append((nonce, value))
                return .continue
            }
        }
        return out
    }

    /// Deletes every artifact of epochs before `epoch` (on the storage thread).
    public func prune(before epoch: UInt64) {
        let table = self.table
        writer.submit({ (txn: borrowing WriteTransaction) throws(StoreError) -> Int in
            var old: [[UInt8]] = []
            try table.scan(in: txn) { (key: [UInt8], _: [UInt8]) -> ScanControl in
                guard key.count >= 8 else { return .continue }
                let keyEpoch = key.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                guard keyEpoch < epoch else { return .stop }
                old.append(key)
                return .continue
            }
            for key in old { _ = try table.delete(key, in: txn) }
            return old.count
        }, completion: { _ in })
    }
}
