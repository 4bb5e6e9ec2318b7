import ChorusCrypto
import ChorusStore
import ChorusWire
import Synchronization

/// The node's store of signed statements: the ingest path every statement from the mesh takes
/// (decode → deduplicate → verify → store), and the queries anti-entropy and the protocol need.
///
/// Deduplication happens before verification, so a replayed or re-gossiped statement costs a
/// hash and a lookup, not an Ed25519 verification. Decoding and verification run on the calling
/// thread. Accepted statements are group-committed: they accumulate until `flushThreshold` of
/// them are pending or the shell calls `flush` (on a short timer), and the `StorageWriter`'s
/// thread commits them in one transaction while the caller goes on verifying. Ids are random,
/// so every commit rewrites about one B-tree page per statement; committing many at once is what
/// keeps storage cheap next to verification (measured by `chorus-bench crypto`). Statements
/// accepted but not yet committed are remembered, so they are deduplicated too.
public final class StatementStore: Sendable {
    /// What happened to one ingested statement.
    public enum Outcome: Sendable, Equatable {
        /// Verified and queued for storage (durable once the batch's completion reports success).
        case stored(Bytes32)
        case duplicate(Bytes32)
        case rejected(WireError)

        public var isStored: Bool { if case .stored = self { true } else { false } }
    }

    public let environment: StoreEnvironment
    public let writer: StorageWriter
    public let policy: StatementPolicy
    private let byID: Table<Bytes32, [UInt8]>
    private let byScope: Table<[UInt8], [UInt8]>
    /// Pending statements are committed once this many accumulate.
    public let flushThreshold: Int
    /// Ids accepted but not yet committed.
    private let inFlight = Mutex<Set<Bytes32>>([])
    /// Accepted statements waiting for the next group commit, and who waits for their durability.
    private let pending = Mutex<(statements: [SignedStatement], waiters: [@Sendable (Result<Void, StoreError>) -> Void])>(([], []))
    /// Told about every commit (`onCommit`).
    private let commitObserver = Mutex<(@Sendable ([Committed]) -> Void)?>(nil)
    /// Reads of the scope index (`scopes`, `ids`), for tests that check what reads no store.
    private let scopeReads = Atomic<Int>(0)

    public init(environment: StoreEnvironment, writer: StorageWriter, policy: StatementPolicy,
                flushThreshold: Int = 4096) throws(StoreError) {
        self.environment = environment
        self.writer = writer
        self.policy = policy
        self.flushThreshold = max(1, flushThreshold)
        byID = try environment.table(NodeSchema.statements)
        byScope = try environment.table(NodeSchema.statementsByScope)
    }

    /// What verification found about one encoded statement (`verify`).
    public enum Verdict: Sendable {
        /// Decoded, new to this store, signature valid: ready for `commit`.
        case fresh(SignedStatement)
        case duplicate(Bytes32)
        /// Refused by the caller's `admit` from the decoded header; not verified.
        case ignored(Bytes32)
        case rejected(WireError)
    }

    /// Ingests encoded statements and returns one outcome per input, in order (repeats inside the
    /// batch are stored once): `verify` then `commit` on the calling thread. The accepted ones join
    /// the next group commit; `completion` runs on the storage thread once they are durable (or
    /// failed; then none of that commit is stored), at once when this call accepted nothing.
    @available(*, noasync, message: "runs an LMDB read transaction; call from a thread, not a task")
    public func ingest(_ batch: [[UInt8]],
                       completion: @escaping @Sendable (Result<Void, StoreError>) -> Void = { _ in }) throws(StoreError) -> [Outcome] {
        let verdicts = try verify(batch)
        commit(verdicts.compactMap { if case let .fresh(s) = $0 { s } else { nil } }, completion: completion)
        return verdicts.map { verdict in
            switch verdict {
            case let .fresh(s): return .stored(s.id)
            case let .duplicate(id), let .ignored(id): return .duplicate(id)
            case let .rejected(error): return .rejected(error)
            }
        }
    }

    /// Decodes, deduplicates and verifies `batch` on the calling thread (the node runs it on a
    /// verification thread); stores nothing. A statement whose decoded header `admit` refuses is
    /// not verified (`.ignored`). Deduplication comes before verification, so a replayed statement
    /// costs a hash and a lookup, not an Ed25519 verification.
    ///
    /// Each `.fresh` statement is *claimed*: no other verification reports it fresh until the
    /// caller either `commit`s it or `release`s it, and one of the two must follow. The claim is
    /// taken after the signature verified and the store is read again after it, so a statement that
    /// a concurrent ingest committed meanwhile is a duplicate here: verification runs on a pool
    /// while commits land, and without this a sync batch once stored (and announced) the same
    /// statements twice.
    @available(*, noasync, message: "runs an LMDB read transaction; call from a thread, not a task")
    public func verify(_ batch: [[UInt8]],
                       admit: (UnverifiedStatement) -> Bool = { _ in true }) throws(StoreError) -> [Verdict] {
        var verdicts: [Verdict] = []
        verdicts.reserveCapacity(batch.count)
        var claimed: [Int] = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            for bytes in batch {
                let unverified: UnverifiedStatement
                do throws(WireError) { unverified = try UnverifiedStatement(decoding: bytes, policy: policy) } catch {
                    verdicts.append(.rejected(error))
                    continue
                }
                let id = unverified.id
                // The id leaves the signature out, so bytes with this id may still carry a forged
                // signature: only a byte-for-byte copy of the stored statement skips verification
                // (a node that accepted a forged copy as a duplicate would forward it).
                let identical = try byID.withValue(id, in: txn) { $0.elementsEqual(bytes) }
                if identical == true {
                    verdicts.append(.duplicate(id))
                    continue
                }
                if identical == false || inFlight.withLock({ $0.contains(id) }) {
                    do throws(WireError) {
                        _ = try unverified.verified()
                        verdicts.append(.duplicate(id))
                    } catch {
                        verdicts.append(.rejected(error))
                    }
                    continue
                }
                guard admit(unverified) else {
                    verdicts.append(.ignored(id))
                    continue
                }
                do throws(WireError) {
                    let statement = try unverified.verified()
                    // A concurrent verification of the same statement loses the race cleanly.
                    if inFlight.withLock({ $0.insert(id).inserted }) {
                        claimed.append(verdicts.count)
                        verdicts.append(.fresh(statement))
                    } else {
                        verdicts.append(.duplicate(id))
                    }
                } catch {
                    verdicts.append(.rejected(error))
                }
            }
        }
        guard !claimed.isEmpty else { return verdicts }
        // Read again, after claiming: a commit that completed since the first read has left
        // `inFlight` and is visible to this newer transaction.
        var stale: [Bytes32] = []
        do {
            try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
                for index in claimed {
                    guard case let .fresh(statement) = verdicts[index], try byID.contains(statement.id, in: txn) else { continue }
                    stale.append(statement.id)
                    verdicts[index] = .duplicate(statement.id)
                }
            }
        } catch {
            release(claimed.compactMap { if case let .fresh(s) = verdicts[$0] { s.id } else { nil } })
            throw error
        }
        release(stale)
        return verdicts
    }

    /// Queues statements `verify` reported fresh (and claimed) for the next group commit.
    /// `completion` runs on the storage thread once they are durable, at once when `statements` is
    /// empty. Touches no LMDB page: cheap on the loop.
    public func commit(_ statements: [SignedStatement],
                       completion: @escaping @Sendable (Result<Void, StoreError>) -> Void = { _ in }) {
        guard !statements.isEmpty else {
            completion(.success(()))
            return
        }
        let due = pending.withLock { p -> Bool in
            p.statements += statements
            p.waiters.append(completion)
            return p.statements.count >= flushThreshold
        }
        if due { flush() }
    }

    /// Gives up the claims `verify` took on statements that will not be committed (refused by the
    /// caller's admission after verification), so a later copy can be stored.
    public func release(_ ids: [Bytes32]) {
        guard !ids.isEmpty else { return }
        inFlight.withLock { inFlight in for id in ids { inFlight.remove(id) } }
    }

    /// Commits every pending statement now. `completion` runs on the storage thread once they, and
    /// everything flushed before them, are durable. The node calls this on a short timer so that
    /// durability never waits long for the threshold.
    public func flush(completion: @escaping @Sendable (Result<Void, StoreError>) -> Void = { _ in }) {
        let (statements, waiters) = pending.withLock { p in
            defer { p = ([], []) }
            return p
        }
        // Keys and copies are made on the storage thread: the caller is the loop, and 4,096
        // statements' worth of puts once held it for milliseconds (chorus-bench ingest, loop lag).
        // Even an empty batch goes through the writer: completions run in submission order, so
        // this one also reports that earlier flushes are durable.
        let byID = self.byID, byScope = self.byScope
        writer.submit({ (txn: borrowing WriteTransaction) throws(StoreError) in
            for s in statements {
                try byID.put(s.id, s.encoded, in: txn)
                try byScope.put(Self.scopeKey(type: s.type, epoch: s.epoch, id: s.id), [UInt8](), in: txn)
            }
        }, completion: { result in
            self.inFlight.withLock { inFlight in for s in statements { inFlight.remove(s.id) } }
            if case .success = result, !statements.isEmpty, let observer = self.commitObserver.withLock({ $0 }) {
                observer(statements.map { Committed(type: $0.type, epoch: $0.epoch, id: $0.id) })
            }
            for waiter in waiters { waiter(result) }
            completion(result)
        })
    }

    /// The stored statement with `id`, if any (signature verified at ingest).
    @available(*, noasync)
    public func statement(_ id: Bytes32) throws(StoreError) -> [UInt8]? {
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in try byID.get(id, in: txn) }
    }

    /// The stored statements with `ids`, in order, skipping those not stored, until the next would
    /// pass `maxBytes` in all: an answer to an anti-entropy fetch, read in one transaction.
    @available(*, noasync)
    public func statements(_ ids: [Bytes32], maxBytes: Int) throws(StoreError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var bytes = 0
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            for id in ids {
                guard let encoded = try byID.get(id, in: txn) else { continue }
                if bytes + encoded.count > maxBytes { break }
                bytes += encoded.count
                out.append(encoded)
            }
        }
        return out
    }

    /// Ids of the stored statements of `type` in `epoch`, ascending: the set anti-entropy reconciles.
    @available(*, noasync)
    public func ids(type: StatementType, epoch: UInt64) throws(StoreError) -> [Bytes32] {
        scopeReads.add(1, ordering: .relaxed)
        let prefix = Self.scopePrefix(type: type, epoch: epoch)
        var out: [Bytes32] = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            for (key, _) in try byScope.entries(prefix: prefix, in: txn) {
                if let id = Bytes32(key.suffix(32)) { out.append(id) }
            }
        }
        return out
    }

    /// Every `(type, epoch)` scope with at least one stored statement, in index order. Jumps from
    /// scope to scope, so it costs one lookup per scope, not per statement.
    @available(*, noasync)
    public func scopes() throws(StoreError) -> [(type: StatementType, epoch: UInt64)] {
        scopeReads.add(1, ordering: .relaxed)
        var out: [(type: StatementType, epoch: UInt64)] = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            var lower: [UInt8]? = nil
            while true {
                var next: [UInt8]?
                try byScope.scan(from: lower, to: nil, in: txn) { (key: [UInt8], _: [UInt8]) -> ScanControl in
                    next = key
                    return .stop
                }
                guard let key = next, let (type, epoch) = Self.scope(of: key) else { return }
                out.append((type, epoch))
                lower = Self.keyAfter(type: type, epoch: epoch)
            }
        }
        return out
    }

    /// Number of accepted statements waiting for the next group commit.
    public var pendingCount: Int { pending.withLock { $0.statements.count } }

    // MARK: - Commits and retention

    /// A statement the store committed: its scope and id.
    public struct Committed: Sendable, Hashable {
        public let type: StatementType
        public let epoch: UInt64
        public let id: Bytes32

        public init(type: StatementType, epoch: UInt64, id: Bytes32) {
            self.type = type
            self.epoch = epoch
            self.id = id
        }
    }

    /// Sets (nil: clears) what is told about the statements of every commit from now on, once they
    /// are durable, on the storage thread: whatever path stored them (gossip, sync, the node's own).
    /// Anti-entropy's in-memory index follows the store with it (Services/Sync/SyncService.swift).
    /// It must be quick and must not wait for the writer: hand the list to another thread.
    public func onCommit(_ observer: (@Sendable ([Committed]) -> Void)?) {
        commitObserver.withLock { $0 = observer }
    }

    /// Deletes every statement of an epoch before `epoch` whose type is not in `keeping`, from both
    /// tables in one write transaction on the storage thread (after every flush submitted before).
    /// It walks the scope index type by type, from that type's first epoch up to `epoch`: one seek
    /// per stored type plus one step per deleted statement, never a walk over what is kept.
    /// `completion` runs on the storage thread with the number deleted. Statements accepted but not
    /// committed yet are not deleted (a later prune takes them).
    public func prune(before epoch: UInt64, keeping: Set<StatementType> = [],
                      completion: @escaping @Sendable (Result<Int, StoreError>) -> Void = { _ in }) {
        let byID = byID, byScope = byScope
        writer.submit({ (txn: borrowing WriteTransaction) throws(StoreError) -> Int in
            var doomed: [[UInt8]] = []
            var lower: [UInt8]? = nil
            while true {
                var next: [UInt8]?
                try byScope.scan(from: lower, to: nil, in: txn) { (key: [UInt8], _: [UInt8]) -> ScanControl in
                    next = key
                    return .stop
                }
                guard let key = next else { break }
                guard let (type, first) = Self.scope(of: key) else {
                    lower = key + [0]  // not a scope key: step over it
                    continue
                }
                if first < epoch && !keeping.contains(type) {
                    try byScope.scan(from: key, to: Self.scopePrefix(type: type, epoch: epoch), in: txn) {
                        (key: [UInt8], _: [UInt8]) -> ScanControl in
                        doomed.append(key)
                        return .continue
                    }
                }
                lower = Self.keyAfter(type: type, epoch: .max)  // past every key of this type
            }
            for key in doomed {
                _ = try byScope.delete(key, in: txn)
                if let id = Bytes32(key.suffix(32)) { _ = try byID.delete(id, in: txn) }
            }
            return doomed.count
        }, completion: completion)
    }

    /// Calls of `scopes()` and `ids(type:epoch:)` so far: what reads the scope index.
    public var scopeIndexReads: Int { scopeReads.load(ordering: .relaxed) }

    /// The smallest key after every key of the scope `(type, epoch)`: its prefix, 32 0xff bytes, plus one.
    static func keyAfter(type: StatementType, epoch: UInt64) -> [UInt8] {
        scopePrefix(type: type, epoch: epoch) + [UInt8](repeating: 0xff, count: 32) + [0]
    }

    /// The type and epoch of a scope-index key, nil when it is not one.
    static func scope(of key: [UInt8]) -> (type: StatementType, epoch: UInt64)? {
        guard let nameLength = key.first.map(Int.init), key.count == 1 + nameLength + 8 + 32,
              let type = try? StatementType(String(decoding: key[1..<(1 + nameLength)], as: UTF8.self)) else { return nil }
        return (type, key[(1 + nameLength)..<(1 + nameLength + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// Number of stored (committed) statements.
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
