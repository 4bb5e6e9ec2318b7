import ChorusCrypto
import ChorusStore
import ChorusWire

/// The node's store of signed statements: the ingest path every statement from the mesh takes
/// (decode → deduplicate → verify → store), and the queries anti-entropy and the protocol need.
///
/// Deduplication happens before verification, so a replayed or re-gossiped statement costs a
/// hash and a lookup, not an Ed25519 verification. A batch is stored in one LMDB write
/// transaction. Methods are synchronous and must run on one thread at a time for writes (the
/// node runs them on its storage thread); they never cross an `await` while a transaction is open.
public final class StatementStore: Sendable {
    /// What happened to one ingested statement.
    public enum Outcome: Sendable, Equatable {
        case stored(Bytes32)
        case duplicate(Bytes32)
        case rejected(WireError)
    }

    public let environment: StoreEnvironment
    public let policy: StatementPolicy
    private let byID: Table<Bytes32, [UInt8]>
    private let byScope: Table<[UInt8], [UInt8]>

    public init(environment: StoreEnvironment, policy: StatementPolicy) throws(StoreError) {
        self.environment = environment
        self.policy = policy
        byID = try environment.table(NodeSchema.statements)
        byScope = try environment.table(NodeSchema.statementsByScope)
    }

    /// Ingests encoded statements; returns one outcome per input, in order. Statements repeated
    /// inside the batch are stored once. Throws only on storage failure (nothing of the batch is
    /// stored then).
    @available(*, noasync, message: "runs LMDB transactions; call from the storage thread")
    public func ingest(_ batch: [[UInt8]]) throws(StoreError) -> [Outcome] {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(batch.count)
        var accepted: [SignedStatement] = []
        var inBatch: Set<Bytes32> = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            for bytes in batch {
                let unverified: UnverifiedStatement
                do throws(WireError) { unverified = try UnverifiedStatement(decoding: bytes, policy: policy) } catch {
                    outcomes.append(.rejected(error))
                    continue
                }
                let id = unverified.id
                let alreadyStored = try byID.contains(id, in: txn)
                if inBatch.contains(id) || alreadyStored {
                    outcomes.append(.duplicate(id))
                    continue
                }
                do throws(WireError) {
                    accepted.append(try unverified.verified())
                    inBatch.insert(id)
                    outcomes.append(.stored(id))
                } catch {
                    outcomes.append(.rejected(error))
                }
            }
        }
        guard !accepted.isEmpty else { return outcomes }
        try environment.write { (txn: borrowing WriteTransaction) throws(StoreError) in
            for s in accepted {
                try byID.put(s.id, s.encoded, in: txn)
                try byScope.put(Self.scopeKey(type: s.type, epoch: s.epoch, id: s.id), [], in: txn)
            }
        }
        return outcomes
    }

    /// The stored statement with `id`, if any (signature already verified at ingest).
    @available(*, noasync)
    public func statement(_ id: Bytes32) throws(StoreError) -> [UInt8]? {
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in try byID.get(id, in: txn) }
    }

    /// Ids of the statements of `type` in `epoch`, ascending: the set anti-entropy reconciles.
    @available(*, noasync)
    public func ids(type: StatementType, epoch: UInt64) throws(StoreError) -> [Bytes32] {
        let prefix = Self.scopePrefix(type: type, epoch: epoch)
        var out: [Bytes32] = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            for (key, _) in try byScope.entries(prefix: prefix, in: txn) {
                if let id = Bytes32(key.suffix(32)) { out.append(id) }
            }
        }
        return out
    }

    /// Number of stored statements.
    @available(*, noasync)
    public func count() throws(StoreError) -> Int {
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in try byID.count(in: txn) }
    }

    static func scopePrefix(type: StatementType, epoch: UInt64) -> [UInt8] {
        let name = Array(type.name.utf8)
        var key = [UInt8(name.count)] + name
        for i in (0..<8).reversed() { key.append(UInt8(truncatingIfNeeded: epoch >> (8 * UInt64(i)))) }
        return key
    }

    static func scopeKey(type: StatementType, epoch: UInt64, id: Bytes32) -> [UInt8] {
        scopePrefix(type: type, epoch: epoch) + id.bytes
    }
}
