import ChorusProtocol
import ChorusStore
import ChorusWire
import Dispatch

/// Restart correctness: before its first tick, the engine is rebuilt from the statement store.
/// Every stored statement of the epoch protocol is replayed epoch by epoch from genesis, so the
/// engine re-derives the whole chain of final tables from their stored certificate signatures
/// (a table cannot be trusted from a recent epoch alone: each one is the base of the next), keeps
/// the seed basis and counts it already signed, and continues its `seq` above every own statement.
///
/// Cost: one read and one signature verification per stored epoch statement (the store keeps no
/// unverified form), once per start.
extension Node {
    /// Replays the store into the freshly attached engine; returns how many statements it read.
    @discardableResult
    func replayStoredEpochs() -> Int {
        guard let statements, epochs != nil else { return 0 }
        // Statements ingested since start-up may still wait for their group commit, and a read
        // does not see them; nor would gossip or anti-entropy hand them over again (already
        // stored). So commit them first. The completion runs on the storage thread, never on this
        // loop, so waiting here cannot deadlock; it happens once, before the first epoch tick.
        let durable = DispatchSemaphore(value: 0)
        statements.flush { _ in durable.signal() }
        if durable.wait(timeout: .now() + 10) == .timedOut {
            logger.warning("the store did not commit pending statements within 10 s; replaying what is committed")
        }
        let now = Self.unixMillis()
        let parameters = epochs!.engine.parameters
        let current = (try? EpochClock(parameters).position(atUnixMs: now))?.epoch ?? 0
        let scopes: [(type: StatementType, epoch: UInt64)]
        do { scopes = try Self.storedScopes(statements) } catch {
            logger.error("cannot read the statement store; the engine starts from genesis with no history", metadata: ["error": "\(error)"])
            return 0
        }
        var byEpoch: [UInt64: [StatementType]] = [:]
        for scope in scopes where Self.epochStatementTypes.contains(scope.type) { byEpoch[scope.epoch, default: []].append(scope.type) }
        let last = min(max(byEpoch.keys.max() ?? 0, current), current + EpochEngine.futureEpochTolerance)
        let finals = (try? Self.storedFinals(statements, policy: statementPolicy)) ?? [:]
        var count = 0, unreadable = 0
        // Only epochs with something stored: an epoch with neither statements nor a stored final
        // table cannot become final here, and the first tick tallies it from the last final table
        // anyway. (Iterating every epoch since genesis would take minutes for an old genesis.)
        let stored = Set(byEpoch.keys).union(finals.keys).union([0]).filter { $0 <= last }.sorted()
        for epoch in stored {
            var loaded: [SignedStatement] = []
            for type in byEpoch[epoch] ?? [] {
                let (ok, bad) = Self.storedStatements(statements, type: type, epoch: epoch, policy: statementPolicy)
                loaded += ok
                unreadable += bad
            }
            count += loaded.count
            performEpoch(epochs!.engine.replay(epoch: epoch, statements: loaded, final: finals[epoch], now: now))
        }
        logger.info("replayed stored epochs", metadata: [
            "statements": "\(count)", "epochs": "\(stored.count)", "last_final": "\(epochs!.engine.lastFinalEpoch)",
            "next_seq": "\(epochs!.engine.nextSeq)", "unreadable": "\(unreadable)"])
        return count
    }

    private nonisolated static func storedFinals(_ store: StatementStore, policy: StatementPolicy) throws(StoreError) -> [UInt64: (table: WeightTable, certificate: Certificate)] {
        try FinalTableStore(environment: store.environment, writer: store.writer).load(policy: policy)
    }

    /// Keeps a final table and its certificate for the next start (`FinalTableStore`).
    func persistFinal(_ table: WeightTable, _ certificate: Certificate) {
        guard let statements else { return }
        do { try FinalTableStore(environment: statements.environment, writer: statements.writer).save(table, certificate) } catch {
            logger.error("cannot keep the final table", metadata: ["epoch": "\(table.epoch)", "error": "\(error)"])
        }
    }

    private nonisolated static func storedScopes(_ store: StatementStore) throws(StoreError) -> [(type: StatementType, epoch: UInt64)] {
        try store.scopes()
    }

    /// The stored statements of one scope, verified again on the way out (a corrupt record is skipped and counted).
    nonisolated static func storedStatements(_ store: StatementStore, type: StatementType, epoch: UInt64,
                                             policy: StatementPolicy) -> (statements: [SignedStatement], unreadable: Int) {
        guard let ids = try? store.ids(type: type, epoch: epoch) else { return ([], 1) }
        var out: [SignedStatement] = []
        var bad = 0
        for id in ids {
            guard let bytes = try? store.statement(id), let statement = try? SignedStatement.decode(bytes, policy: policy) else {
                bad += 1
                continue
            }
            out.append(statement)
        }
        return (out, bad)
    }
}
