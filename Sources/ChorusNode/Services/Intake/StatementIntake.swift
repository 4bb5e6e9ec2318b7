import ChorusCrypto
import ChorusMesh
import ChorusWire

/// The path of every statement a peer sends (README "Architecture"): decoded, deduplicated and
/// verified once on the verification pool, admitted on the loop (epoch bound, budget of weightless
/// authors), committed to the store, and handed on as a typed `SignedStatement` with
/// `NodeEvent.statementAccepted` to the epoch engine through the composition (anti-entropy's index
/// learns of every commit from the store itself, `NodeEvent.statementsStored`). The gossip router
/// gets its verdict from the same pass.
///
/// A node without a store verifies only: accepted statements are handed on, nothing is kept.
package final class StatementIntake {
    /// Statements verified per pool job: a 4,096-statement sync batch becomes 16 jobs spread over
    /// the threads, and the loop commits each chunk as it comes back (no long stall anywhere).
    static let chunkSize = 256

    /// What became of one sync batch.
    package struct BatchResult: Equatable, Sendable {
        package var stored = 0
        package var rejected = 0
        /// Not verified because the pool (or this peer's share of it) was full.
        package var refused = 0
    }

    private unowned let host: any ServiceHost
    private let store: StatementStore?
    private let policy: StatementPolicy
    private let localIdentity: Ed25519.PublicKey
    /// The last epoch a statement may name (`Node.latestAcceptedEpoch`); nil: no bound.
    private let epochBound: () -> UInt64?
    /// Whether statements of an author count against the weightless budget (`Node.budgetedAuthor`).
    private let isBudgeted: (Ed25519.PublicKey) -> Bool
    private var budget = StatementBudget()
    private(set) var counters = IntakeCounters()

    init(host: any ServiceHost, store: StatementStore?, policy: StatementPolicy, localIdentity: Ed25519.PublicKey,
         epochBound: @escaping () -> UInt64?, isBudgeted: @escaping (Ed25519.PublicKey) -> Bool) {
        self.host = host
        self.store = store
        self.policy = policy
        self.localIdentity = localIdentity
        self.epochBound = epochBound
        self.isBudgeted = isBudgeted
    }

    // MARK: - Gossip

    /// Verifies a gossiped statement off the loop; `done` gets the router's verdict on the loop.
    func validate(_ payload: [UInt8], from peer: Ed25519.PublicKey?, done: @escaping (ValidationResult) -> Void) {
        verify([payload], from: peer) { [weak self] verdicts in
            guard let self, let verdicts else { return done(.ignore) }  // refused: the router forgets it
            switch verdicts.first {
            case let .fresh(statement)?:
                switch take([statement])[0] {
                case .taken: done(.accept)
                case .overBudget: done(.ignore)
                }
            case .duplicate?:
                // Stored already (it came by anti-entropy, or another copy won the race): valid,
                // and new to the router, so it is delivered and forwarded like any first copy. An
                // `.ignore` here once left a node that had synced a statement before its gossip
                // arrived without the delivery (1 of 9,900 in the lab's propagation run).
                done(.accept)
            case .ignored?: done(.ignore)
            case .rejected?, nil: done(.reject)
            }
        }
    }

    // MARK: - Sync

    /// Verifies a batch from anti-entropy in chunks off the loop; `done` runs once, on the loop,
    /// after the last chunk was committed.
    func ingest(_ batch: [[UInt8]], from peer: Ed25519.PublicKey, done: @escaping (BatchResult) -> Void) {
        guard !batch.isEmpty else { return done(BatchResult()) }
        var result = BatchResult()
        var outstanding = (batch.count + Self.chunkSize - 1) / Self.chunkSize
        for start in stride(from: 0, to: batch.count, by: Self.chunkSize) {
            let chunk = Array(batch[start..<min(start + Self.chunkSize, batch.count)])
            verify(chunk, from: peer) { [weak self] verdicts in
                if let self, let verdicts {
                    var fresh: [SignedStatement] = []
                    for verdict in verdicts {
                        switch verdict {
                        case let .fresh(statement): fresh.append(statement)
                        case .rejected: result.rejected += 1
                        case .duplicate, .ignored: break
                        }
                    }
                    result.stored += take(fresh).count { $0 == .taken }
                } else {
                    result.refused += chunk.count
                }
                outstanding -= 1
                if outstanding == 0 { done(result) }
            }
        }
    }

    // MARK: - Internals

    /// Runs the store's verification (or a bare decode-and-verify without a store) on the pool;
    /// `then` gets nil when the pool refused the work (counted).
    private func verify(_ batch: [[UInt8]], from peer: Ed25519.PublicKey?,
                        then: @escaping ([StatementStore.Verdict]?) -> Void) {
        let bound = epochBound()
        let store = self.store, policy = self.policy
        let queued = host.offload(cost: batch.count, peer: peer, {
            Self.verdicts(batch, store: store, policy: policy, epochBound: bound)
        }, then: { [weak self] verdicts in
            if verdicts == nil { self?.counters.unreadableStore += batch.count }
            self?.counters.futureStatements += verdicts?.count { if case .ignored = $0 { true } else { false } } ?? 0
            then(verdicts)
        })
        if !queued {
            counters.refusedByPool += batch.count
            then(nil)
        }
    }

    /// Decode, epoch bound, deduplication, signature: what runs on a verification thread. nil when
    /// the store cannot be read (nothing is held against the peer; anti-entropy offers it again).
    private static func verdicts(_ batch: [[UInt8]], store: StatementStore?, policy: StatementPolicy,
                                 epochBound: UInt64?) -> [StatementStore.Verdict]? {
        // A statement naming an epoch beyond the bound is ignored, so a peer cannot make the node
        // keep statements for epochs that will not come for ages (Specs/gossip.md §4).
        let admit: (UnverifiedStatement) -> Bool = { header in epochBound.map { header.epoch <= $0 } ?? true }
        if let store {
            return try? store.verify(batch, admit: admit)
        }
        return batch.map { bytes in
            do throws(WireError) {
                let unverified = try UnverifiedStatement(decoding: bytes, policy: policy)
                guard admit(unverified) else { return .ignored(unverified.id) }
                return .fresh(try unverified.verified())
            } catch {
                return .rejected(error)
            }
        }
    }

    /// What `take` did with a verified statement.
    private enum Taking { case taken, overBudget }

    /// Admits verified statements on the loop, one at a time against the budget, commits the
    /// admitted ones in one call and releases the store's claim on the others; announces each one
    /// taken to the composition (stored, or handed on without a store).
    private func take(_ statements: [SignedStatement]) -> [Taking] {
        let now = host.now()
        var refused: [Bytes32] = []
        var admitted: [SignedStatement] = []
        let outcome = statements.map { statement -> Taking in
            let size = statement.encoded.count
            if statement.author != localIdentity, isBudgeted(statement.author) {
                guard budget.allows(statement.author, size: size, now: now) else {
                    counters.overBudget += 1
                    refused.append(statement.id)
                    return .overBudget
                }
                // Charged now, so later statements of this batch see it.
                budget.charge(statement.author, size: size, now: now)
            }
            admitted.append(statement)
            return .taken
        }
        store?.release(refused)
        store?.commit(admitted)
        for statement in admitted { host.emit(.statementAccepted(statement)) }
        return outcome
    }
}

@available(*, unavailable, message: "StatementIntake is confined to its host's executor")
extension StatementIntake: Sendable {}

/// What the intake dropped, by reason (`chorus status --json`, `counters`).
struct IntakeCounters: Equatable {
    /// Statements of authors without weight beyond their budget.
    var overBudget = 0
    /// Statements not verified because the pool was full (anti-entropy offers them again).
    var refusedByPool = 0
    /// Statements naming an epoch beyond the next one (ignored, not verified).
    var futureStatements = 0
    /// Statements not verified because the store could not be read.
    var unreadableStore = 0
}
