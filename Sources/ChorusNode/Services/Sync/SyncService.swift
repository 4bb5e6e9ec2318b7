import ChorusCrypto
import ChorusMesh
import ChorusStore
import ChorusWire
import Logging

/// Anti-entropy (Specs/gossip.md §4): every `interval` and whenever a session comes up, the node
/// reconciles the statements of recent epochs with each peer, scope by scope `(type, epoch)`, with
/// range fingerprints; what either side lacks is fetched by id and ingested like gossip (verified).
/// A node back from a partition or a restart thus ends with the set its peers have.
///
/// The ids reconciled come from an in-memory index (`SyncIndex`), loaded from the store once at
/// start and kept equal to it: the store tells the node about every commit (`StatementStore.onCommit`,
/// routed here as `NodeEvent.statementsStored`), and this service removes what it prunes. A round
/// reads no store; only answers to `fetch` read statements, by id.
///
/// Retention: when the epoch advances, statements of epochs before `current − retention` are
/// deleted from the store (`delegation` ones kept: they stay in force until replaced). Final
/// tables and certificates live elsewhere and are never deleted.
final class SyncService {
    /// The session-message protocol tag of sync messages.
    static let tag: UInt8 = 2
    /// Statements sent in one answer to a fetch, in bytes (the rest comes in later rounds).
    static let maxBatchBytes = 2 << 20
    /// Statement types kept and reconciled whatever their epoch: a declaration stays in force until
    /// its author signs another (Specs/delegation.md §2), so deleting it would change later tallies.
    static let timelessTypes: Set<StatementType> = [.delegation]

    struct Settings {
        /// How often every connected peer is reconciled with.
        var interval: Duration
        /// Epochs kept before the current one (Specs/gossip.md §4, "Retention").
        var retention: UInt64
        /// Ids the index holds at most.
        var indexCapacity: Int
        /// The largest statement a sync message may carry.
        var maxStatement: Int
    }

    /// What the service needs of the node besides its host: its clock of epochs and its intake.
    struct NodeLink {
        /// The network's current epoch; nil when the node follows none, or genesis has not come
        /// (then every scope is recent and nothing is pruned).
        var currentEpoch: () -> UInt64?
        /// Ingests a batch a peer sent (`Node.ingestSynced`): verified, stored, counted.
        var ingest: (_ batch: [[UInt8]], _ peer: Ed25519.PublicKey) -> Void
        /// Counts a round opened or a reconcile message throttled in the node's counters.
        var count: (Count) -> Void
    }

    enum Count { case round, throttled }

    private unowned let host: any ServiceHost
    private let store: StatementStore
    private let settings: Settings
    private let node: NodeLink
    private let logger: Logger
    private let reconciler = RangeReconciler()
    /// Reconcile messages each peer may make this node answer.
    private var throttle = SyncThrottle()
    private(set) var index: SyncIndex
    private let timer: any ServiceTimer
    private var peers: Set<Ed25519.PublicKey> = []
    /// The oldest epoch kept and reconciled (0: all), and the newest reconciled (the next epoch).
    private(set) var floor: UInt64 = 0
    private(set) var ceiling: UInt64 = .max
    private(set) var counters = SyncCounters()

    /// Loads the index from `store` (the one read of the scope index), prunes what is too old, and
    /// starts the round timer. The node routes commits here from now on (`stored`).
    init(host: any ServiceHost, store: StatementStore, settings: Settings, priorityTypes: Set<StatementType>,
         logger: Logger, node: NodeLink) {
        self.host = host
        self.store = store
        self.settings = settings
        self.node = node
        self.logger = logger
        self.index = SyncIndex(capacity: settings.indexCapacity, priorityTopics: Set(priorityTypes.map(\.name)))
        self.timer = host.makeTimer()
        advanceWindow()
        load()
        timer.schedule(after: settings.interval, repeatingEvery: settings.interval) { [unowned self] in
            advanceWindow()
            for peer in peers.sorted() { reconcile(with: peer) }
        }
    }

    func stop() { timer.close() }

    // MARK: - Inputs

    /// A session came up: reconcile at once, and in every round from now on.
    func peerConnected(_ peer: Ed25519.PublicKey) {
        peers.insert(peer)
        reconcile(with: peer)
    }

    func peerDisconnected(_ peer: Ed25519.PublicKey) {
        peers.remove(peer)
        throttle.forget(peer)
    }

    /// The store committed these statements (whatever path they came by).
    func stored(_ committed: [StatementStore.Committed]) {
        for statement in committed {
            let scope = SyncScope(topic: statement.type.name, epoch: statement.epoch)
            guard isKept(scope) else { continue }
            if index.insert(statement.id, into: scope) { counters.indexed += 1 }
        }
        noteDrops()
    }

    /// Opens a reconciliation with `peer`: one fingerprint per recent scope held.
    func reconcile(with peer: Ed25519.PublicKey) {
        advanceWindow()
        let items = index.heldScopes.filter(isReconciled).map { scope -> ReconcileItem in
            let (count, fingerprint) = index.summary(of: scope)
            return .fingerprint(scope, .all, count: UInt32(clamping: count), fingerprint: fingerprint)
        }
        guard !items.isEmpty else { return }
        node.count(.round)
        for message in SyncMessage.reconcileMessages(items) {
            host.send(message.encoded(), tag: Self.tag, to: peer, priority: .lazy)
        }
    }

    /// A sync message from `peer`; a malformed one closes its session.
    func received(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        let message: SyncMessage
        do { message = try SyncMessage(decoding: bytes, maxStatement: settings.maxStatement) } catch {
            host.disconnect(peer, because: "malformed sync message: \(error)")
            return
        }
        switch message {
        case let .reconcile(received):
            guard throttle.allow(peer, now: host.now()) else {
                node.count(.throttled)
                return
            }
            answer(received, from: peer)
        case let .fetch(ids):
            let batch: [[UInt8]]
            do { batch = try store.statements(ids, maxBytes: Self.maxBatchBytes) } catch {
                logger.error("cannot read statements a peer asked for", metadata: ["error": "\(error)"])
                return
            }
            if !batch.isEmpty { host.send(SyncMessage.statements(batch).encoded(), tag: Self.tag, to: peer, priority: .lazy) }
        case let .statements(batch):
            node.ingest(batch, peer)
        }
    }

    // MARK: - Reconciliation

    private func answer(_ received: [ReconcileItem], from peer: Ed25519.PublicKey) {
        advanceWindow()
        // Scopes outside the window are not reconciled: statements of epochs beyond the next would be
        // ignored, older ones are deleted (or about to be), and a dropped scope is not indexed.
        var local: [SyncScope: [Bytes32]] = [:]
        let items = received.filter { item in
            guard isReconciled(item.scope) else { return false }
            // Equal whole scopes, the usual case, end here without hashing anything.
            if case let .fingerprint(scope, range, count, fingerprint) = item, range == .all {
                let mine = index.summary(of: scope)
                if mine.count == Int(count) && mine.fingerprint == fingerprint { return false }
            }
            if local[item.scope] == nil { local[item.scope] = index.ids(of: item.scope) }
            return true
        }
        guard !items.isEmpty else { return }
        let (reply, missing) = reconciler.respond(to: items, local: local)
        for message in SyncMessage.reconcileMessages(reply) {
            host.send(message.encoded(), tag: Self.tag, to: peer, priority: .lazy)
        }
        let wanted = missing.keys.sorted().flatMap { missing[$0]! }
        for start in stride(from: 0, to: wanted.count, by: SyncMessage.maxEntries) {
            let chunk = Array(wanted[start..<min(start + SyncMessage.maxEntries, wanted.count)])
            host.send(SyncMessage.fetch(chunk).encoded(), tag: Self.tag, to: peer, priority: .lazy)
        }
    }

    // MARK: - Window and retention

    /// Whether the store keeps `scope`'s statements and the index holds them: an epoch from the floor
    /// on (future ones too, when they were stored before the node had a clock), or a timeless type.
    private func isKept(_ scope: SyncScope) -> Bool {
        scope.epoch >= floor || Self.timelessTopics.contains(scope.topic)
    }

    /// Whether `scope` is reconciled: kept, not beyond the next epoch, and not dropped from the index.
    private func isReconciled(_ scope: SyncScope) -> Bool {
        isKept(scope) && scope.epoch <= ceiling && !index.isDropped(scope)
    }

    private static let timelessTopics = Set(timelessTypes.map(\.name))

    /// Follows the epoch clock: the window is `[current − retention, current + 1]`. When its floor
    /// rises, the scopes below leave the index and their statements are deleted from the store.
    private func advanceWindow() {
        guard let current = node.currentEpoch() else { return }
        ceiling = current &+ 1
        let floor = current > settings.retention ? current - settings.retention : 0
        guard floor > self.floor else { return }
        self.floor = floor
        let removed = index.remove { $0.epoch < floor && !Self.timelessTopics.contains($0.topic) }
        counters.prunes += 1
        let logger = logger
        store.prune(before: floor, keeping: Self.timelessTypes) { result in
            switch result {
            case let .success(count):
                if count > 0 { logger.info("pruned old statements", metadata: ["before_epoch": "\(floor)", "statements": "\(count)"]) }
            case let .failure(error):
                logger.error("cannot prune old statements", metadata: ["before_epoch": "\(floor)", "error": "\(error)"])
            }
        }
        logger.debug("sync window advanced", metadata: ["floor": "\(floor)", "ceiling": "\(ceiling)", "unindexed": "\(removed)"])
    }

    /// Reads the kept scopes from the store into the index, most important first (the epoch
    /// protocol's types, then newer epochs), until it is full; the rest are dropped unread.
    private func load() {
        let scopes: [SyncScope]
        do {
            scopes = try store.scopes().map { SyncScope(topic: $0.type.name, epoch: $0.epoch) }.filter(isKept)
        } catch {
            logger.error("cannot read the statement scopes; anti-entropy starts with an empty index", metadata: ["error": "\(error)"])
            return
        }
        let priority = index.priorityTopics
        let ordered = scopes.sorted { a, b in
            (priority.contains(a.topic) ? 0 : 1, UInt64.max - a.epoch, a) < (priority.contains(b.topic) ? 0 : 1, UInt64.max - b.epoch, b)
        }
        for scope in ordered {
            guard index.count < index.capacity, let type = try? StatementType(scope.topic) else {
                index.drop(scope)
                continue
            }
            do { index.load(try store.ids(type: type, epoch: scope.epoch), into: scope) } catch {
                logger.error("cannot read a statement scope", metadata: ["scope": "\(scope)", "error": "\(error)"])
                index.drop(scope)
            }
        }
        counters.indexed += index.count
        noteDrops()
        logger.info("anti-entropy index loaded", metadata: ["ids": "\(index.count)", "scopes": "\(index.heldScopes.count)",
                                                            "dropped": "\(index.dropped.count)", "floor": "\(floor)"])
    }

    private func noteDrops() {
        guard index.scopesDropped > counters.scopesDropped else { return }
        counters.scopesDropped = index.scopesDropped
        logger.warning("anti-entropy index full: scopes dropped (stored, not reconciled)", metadata: [
            "capacity": "\(index.capacity)", "dropped": "\(index.dropped.sorted().map(\.description).joined(separator: ","))"])
    }

    // MARK: - Introspection

    var report: SyncReport {
        SyncReport(indexedIDs: index.count, capacity: index.capacity, scopes: index.heldScopes.map { "\($0)" },
                   droppedScopes: index.dropped.sorted().map { "\($0)" }, floor: floor,
                   ceiling: ceiling == .max ? nil : ceiling, counters: counters)
    }
}

/// What the sync service counted.
struct SyncCounters: Sendable, Equatable {
    /// Ids added to the index (loaded at start or committed since).
    var indexed = 0
    /// Times the window's floor rose (each deletes what fell below it).
    var prunes = 0
    /// Scopes dropped because the index was full.
    var scopesDropped = 0
}

/// The sync service's state, for tests and diagnostics (`Node.syncReport`).
struct SyncReport: Sendable, Equatable {
    var indexedIDs: Int
    var capacity: Int
    /// The scopes held, as `type@epoch`, ascending.
    var scopes: [String]
    var droppedScopes: [String]
    var floor: UInt64
    /// The newest epoch reconciled; nil without an epoch clock.
    var ceiling: UInt64?
    var counters: SyncCounters
}

@available(*, unavailable, message: "SyncService is confined to its node's loop")
extension SyncService: Sendable {}
