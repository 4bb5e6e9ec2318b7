import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusStore
import ChorusWire
import Logging

/// Anti-entropy (Specs/gossip.md §4): every 30 s and whenever a session comes up, the node
/// reconciles its stored statements with each peer, scope by scope `(type, epoch)`, with range
/// fingerprints; what either side lacks is fetched by id and ingested like gossip (verified). A node
/// back from a partition or a restart thus ends with exactly the set its peers have.
extension Node {
    /// The session-message protocol tag of sync messages.
    public static let syncTag: UInt8 = 2
    /// Statements sent in one answer to a fetch, in bytes (the rest comes in later rounds).
    static let maxSyncBatchBytes = 2 << 20

    func startSync() {
        guard statements != nil else { return }
        let timer = LoopTimer(on: loop)
        timer.schedule(after: configuration.syncInterval, repeatingEvery: configuration.syncInterval) { [weak self] in
            self?.assumeIsolated { node in
                for peer in node.connectedPeers { node.reconcile(with: peer) }
            }
        }
        syncTimer = timer
        setHandler(for: Self.syncTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.receivedSync(bytes, from: peer) }
        }
    }

    /// Opens a reconciliation with `peer`: one fingerprint per local scope.
    func reconcile(with peer: Ed25519.PublicKey) {
        guard let local = localScopes() else { return }
        let items = reconciler.start(scopes: Array(local.keys), local: local)
        guard !items.isEmpty else { return }
        counters.syncRounds += 1
        for message in SyncMessage.reconcileMessages(items) {
            send(message.encoded(), tag: Self.syncTag, to: peer, priority: .lazy)
        }
    }

    private func receivedSync(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        guard let statements else { return }
        let message: SyncMessage
        do { message = try SyncMessage(decoding: bytes, maxStatement: configuration.maxMessageSize) } catch {
            misbehaved(peer, because: "malformed sync message: \(error)")
            return
        }
        switch message {
        case let .reconcile(received):
            guard syncThrottle.allow(peer, now: now()) else {
                counters.reconcilesThrottled += 1
                return
            }
            // Scopes of epochs beyond the next are not reconciled: their statements would be ignored.
            let bound = latestAcceptedEpoch()
            let items = bound.map { b in received.filter { $0.scope.epoch <= b } } ?? received
            guard let local = localScopes(maxAge: .seconds(1)) else { return }
            let (reply, missing) = reconciler.respond(to: items, local: local)
            for message in SyncMessage.reconcileMessages(reply) {
                send(message.encoded(), tag: Self.syncTag, to: peer, priority: .lazy)
            }
            let wanted = missing.keys.sorted().flatMap { missing[$0]! }
            for start in stride(from: 0, to: wanted.count, by: SyncMessage.maxEntries) {
                let chunk = Array(wanted[start..<min(start + SyncMessage.maxEntries, wanted.count)])
                send(SyncMessage.fetch(chunk).encoded(), tag: Self.syncTag, to: peer, priority: .lazy)
            }
        case let .fetch(ids):
            var batch: [[UInt8]] = []
            var bytes = 0
            for id in ids {
                guard let encoded = storedStatement(statements, id) else { continue }
                if bytes + encoded.count > Self.maxSyncBatchBytes { break }
                bytes += encoded.count
                batch.append(encoded)
            }
            if !batch.isEmpty { send(SyncMessage.statements(batch).encoded(), tag: Self.syncTag, to: peer, priority: .lazy) }
        case let .statements(received):
            let now = now()
            let bound = latestAcceptedEpoch()
            var batch: [[UInt8]] = []
            var budgeted: [Ed25519.PublicKey?] = []
            for encoded in received {
                guard case let .take(author) = admit(encoded, epochBound: bound, now: now) else { continue }
                batch.append(encoded)
                budgeted.append(author)
            }
            let outcomes: [StatementStore.Outcome]
            do { outcomes = try ingest(statements, batch) } catch {
                for (encoded, author) in zip(batch, budgeted) { if let author { statementBudget.refund(author, size: encoded.count) } }
                logger.error("cannot store synced statements", metadata: ["error": "\(error)"])
                return
            }
            var stored = 0, rejected = 0
            for ((outcome, encoded), author) in zip(zip(outcomes, batch), budgeted) {
                if let author, !outcome.isStored { statementBudget.refund(author, size: encoded.count) }
                switch outcome {
                case .stored:
                    stored += 1
                    routeToEpochs(encoded)
                case .rejected: rejected += 1
                case .duplicate: break
                }
            }
            counters.syncedStatements += stored
            if rejected > 0 { misbehaved(peer, because: "sent \(rejected) invalid statements in sync") }
        }
    }

    /// Local sorted ids per scope, or nil when the store cannot be read (logged). With `maxAge`, a
    /// snapshot read that recently is reused: answering a burst of reconcile messages reads the
    /// store once (anti-entropy tolerates a second of staleness; the next round catches up).
    private func localScopes(maxAge: Duration = .zero) -> [SyncScope: [Bytes32]]? {
        guard let statements else { return nil }
        let now = now()
        if let snapshot = scopeSnapshot, now.since(snapshot.at) < maxAge { return snapshot.scopes }
        do {
            let scopes = try readScopes(statements)
            scopeSnapshot = (now, scopes)
            return scopes
        } catch {
            logger.error("cannot read statement scopes", metadata: ["error": "\(error)"])
            return nil
        }
    }

    // LMDB reads and the ingest's read transaction run on the calling thread: the loop.
    private nonisolated func readScopes(_ store: StatementStore) throws(StoreError) -> [SyncScope: [Bytes32]] {
        var local: [SyncScope: [Bytes32]] = [:]
        for (type, epoch) in try store.scopes() {
            local[SyncScope(topic: type.name, epoch: epoch)] = try store.ids(type: type, epoch: epoch)
        }
        return local
    }

    private nonisolated func storedStatement(_ store: StatementStore, _ id: Bytes32) -> [UInt8]? {
        (try? store.statement(id)) ?? nil
    }

    private nonisolated func ingest(_ store: StatementStore, _ batch: [[UInt8]]) throws(StoreError) -> [StatementStore.Outcome] {
        try store.ingest(batch)
    }
}
