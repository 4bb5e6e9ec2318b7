import ChorusCrypto
import ChorusMesh
import ChorusNetworkFile
import ChorusProtocol
import ChorusStore
import ChorusWire
import Dispatch
import Foundation
import Logging
import Synchronization
import Testing
@testable import ChorusNode

/// A `ServiceHost` for sync services under test: a manual clock, timers fired by hand, and every
/// message sent kept in an outbox until the test delivers it.
final class SyncTestHost: ServiceHost {
    final class Timer: ServiceTimer {
        var handler: (() -> Void)?
        func schedule(after delay: Duration, repeatingEvery interval: Duration?, _ handler: @escaping () -> Void) { self.handler = handler }
        func cancel() { handler = nil }
        func close() { handler = nil }
    }

    var time = MonotonicTime.zero
    var outbox: [(to: Ed25519.PublicKey, payload: [UInt8])] = []
    var disconnected: [String] = []
    var timers: [Timer] = []

    func now() -> MonotonicTime { time }
    func send(_ payload: [UInt8], tag: UInt8, to peer: Ed25519.PublicKey, priority: SendPriority) -> Bool {
        #expect(tag == SyncService.tag && priority == .lazy)
        outbox.append((peer, payload))
        return true
    }
    func sendDatagram(_ bytes: [UInt8], to destination: NetAddress) -> Bool { false }
    func isConnected(_ peer: Ed25519.PublicKey) -> Bool { true }
    func disconnect(_ peer: Ed25519.PublicKey, because reason: String) { disconnected.append(reason) }
    func offload<Result: Sendable>(cost: Int, peer: Ed25519.PublicKey?, _ work: @escaping @Sendable () -> Result,
                                   then: @escaping (Result) -> Void) -> Bool {
        then(work())
        return true
    }
    func makeTimer() -> any ServiceTimer {
        let timer = Timer()
        timers.append(timer)
        return timer
    }
    func emit(_ event: NodeEvent) {}

    /// Runs every timer's handler once (a round).
    func fireTimers() { for timer in timers { timer.handler?() } }
}

/// One side of an exchange: a store in a temporary directory, a sync service over it, and the
/// commits the store reports handed to the service as the node's composition does.
final class SyncSide {
    let key = Ed25519.SigningKey.generate()
    let directory = temporaryDirectory("sync-service")
    let environment: StoreEnvironment
    let writer: StorageWriter
    let store: StatementStore
    let host = SyncTestHost()
    /// The node's epoch clock: nil follows no epochs.
    var epoch: UInt64?
    let retention: UInt64
    let capacity: Int
    private(set) var service: SyncService!
    /// What the store reported committed, not yet handed to the service (filled on the storage thread).
    private final class Commits: Sendable { let list = Mutex<[StatementStore.Committed]>([]) }
    private let committed = Commits()
    private var seq: UInt64 = 0

    init(epoch: UInt64?, retention: UInt64 = 4, capacity: Int = 100_000) throws {
        self.epoch = epoch
        self.retention = retention
        self.capacity = capacity
        environment = try StoreEnvironment.open(at: directory, schema: NodeSchema.schema)
        writer = try StorageWriter(environment: environment)
        store = try StatementStore(environment: environment, writer: writer, policy: StatementPolicy(networkID: "test-net", allowedTypes: nil))
        let committed = committed
        store.onCommit { list in committed.list.withLock { $0 += list } }
        service = makeService()
    }

    deinit {
        writer.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A service over this side's store (a node started again on the same data directory).
    func makeService() -> SyncService {
        SyncService(
            host: host, store: store,
            settings: .init(interval: .seconds(30), retention: retention, indexCapacity: capacity, maxStatement: 1 << 20),
            priorityTypes: Node.epochStatementTypes, logger: Logger(label: "sync-test") { _ in SwiftLogNoOpLogHandler() },
            node: .init(currentEpoch: { [unowned self] in epoch },
                        ingest: { [unowned self] batch, _ in
                            _ = try? store.ingestDurably(batch)
                            deliverCommits()
                        },
                        count: { _ in }))
    }

    /// Signs and stores statements, and routes the commit to the service.
    @discardableResult
    func add(_ count: Int = 1, type: StatementType = .text, epoch: UInt64) throws -> [Bytes32] {
        var batch: [[UInt8]] = []
        var ids: [Bytes32] = []
        for _ in 0..<count {
            seq += 1
            let s = try SignedStatement.sign(networkID: "test-net", type: type, epoch: epoch, seq: seq, body: Array("\(seq)".utf8), key: key)
            batch.append(s.encoded)
            ids.append(s.id)
        }
        _ = try store.ingestDurably(batch)
        deliverCommits()
        return ids
    }

    /// Hands the commits the store reported to the service (the node's `statementsStored` route).
    func deliverCommits() {
        let list = committed.list.withLock { l in defer { l = [] }; return l }
        if !list.isEmpty { service.stored(list) }
    }

    /// Waits until every write submitted so far (prunes included) has committed.
    func settle() {
        let done = DispatchSemaphore(value: 0)
        store.flush { _ in done.signal() }
        done.wait()
        deliverCommits()
    }

    /// What LMDB holds, per scope.
    func stored() throws -> [SyncScope: [Bytes32]] {
        var out: [SyncScope: [Bytes32]] = [:]
        for (type, epoch) in try store.scopes() { out[SyncScope(topic: type.name, epoch: epoch)] = try store.ids(type: type, epoch: epoch) }
        return out
    }

    /// What the service's index holds, per scope.
    func indexed(_ service: SyncService? = nil) -> [SyncScope: [Bytes32]] {
        var index = (service ?? self.service).index
        var out: [SyncScope: [Bytes32]] = [:]
        for scope in index.heldScopes { out[scope] = index.ids(of: scope) }
        return out
    }

    static func allIDs(_ scopes: [SyncScope: [Bytes32]]) -> Set<Bytes32> { Set(scopes.values.joined()) }

    /// Delivers every queued message between `a` and `b`, both ways, until neither has anything to send.
    static func exchange(_ a: SyncSide, _ b: SyncSide) {
        var rounds = 0
        while !(a.host.outbox.isEmpty && b.host.outbox.isEmpty) && rounds < 1000 {
            rounds += 1
            for (from, to) in [(a, b), (b, a)] {
                let messages = from.host.outbox
                from.host.outbox = []
                for message in messages where message.to == to.key.publicKey {
                    to.service.received(message.payload[...], from: from.key.publicKey)
                }
            }
        }
        #expect(rounds < 1000)
    }
}

/// The sync service: an in-memory index equal to the store, rounds that read no store, retention.
@Suite struct SyncServiceTests {
    static let types: [StatementType] = [.text, .vote, .delegation, .pocCommit]

    /// Random ingests (stragglers of epochs already pruned included) and epoch changes: after each
    /// step the index holds exactly what LMDB holds in the scopes kept, a restart loads the same
    /// index, and after each prune LMDB keeps nothing older than the window but delegations.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func theIndexEqualsTheStoreAfterRandomIngestsAndPrunes(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let side = try SyncSide(epoch: 6, retention: 3)
        for _ in 0..<25 {
            let current = side.epoch!
            for _ in 0..<Int(rng.next() % 30) {
                let epoch = UInt64(rng.next() % (current + 4))  // from epoch 0 to beyond the next one
                try side.add(type: Self.types[Int(rng.next() % UInt64(Self.types.count))], epoch: epoch)
            }
            let advance = rng.next() % 4 == 0 ? rng.next() % 3 + 1 : 0
            side.epoch = current + advance
            side.service.reconcile(with: Ed25519.SigningKey.generate().publicKey)  // a round follows the clock
            side.settle()
            let floor = side.epoch! - side.retention
            #expect(side.service.floor == floor && side.service.ceiling == side.epoch! + 1)
            let kept = try side.stored().filter { $0.key.epoch >= floor || $0.key.topic == "delegation" }
            #expect(side.indexed() == kept)
            if advance > 0 {
                #expect(try side.stored().keys.allSatisfy { $0.epoch >= floor || $0.topic == "delegation" })
            }
        }
        #expect(side.service.counters.prunes >= 1)
        #expect(side.indexed(side.makeService()) == side.indexed())
    }

    /// Opening a round and answering a peer's read the in-memory index only; the one read of the
    /// store's scope index is at start.
    @Test func roundsReadNoStore() throws {
        let a = try SyncSide(epoch: nil), b = try SyncSide(epoch: nil)
        try a.add(200, epoch: 3)
        try a.add(40, type: .vote, epoch: 4)
        try b.add(150, epoch: 3)
        let before = (a.store.scopeIndexReads, b.store.scopeIndexReads)
        for _ in 0..<3 {
            a.service.peerConnected(b.key.publicKey)
            b.service.peerConnected(a.key.publicKey)
            SyncSide.exchange(a, b)
            a.settle(); b.settle()
            a.host.fireTimers()
            SyncSide.exchange(a, b)
            for side in [a, b] { side.host.time = side.host.time + .seconds(60) }  // the throttle's tokens refill
        }
        #expect(SyncSide.allIDs(a.indexed()) == SyncSide.allIDs(b.indexed()))
        #expect(SyncSide.allIDs(a.indexed()).count == 390)
        #expect(a.store.scopeIndexReads == before.0 && b.store.scopeIndexReads == before.1)
    }

    /// A node that follows epochs reconciles `[current − retention, current + 1]` and delegations;
    /// older statements are neither offered, fetched nor kept, whatever the peer holds.
    @Test func onlyRecentEpochsAreExchanged() throws {
        let a = try SyncSide(epoch: nil)  // no clock: everything is recent to it
        let old = try a.add(5, epoch: 1) + a.add(5, type: .vote, epoch: 15)
        let recent = try a.add(5, epoch: 16) + a.add(5, type: .vote, epoch: 20) + a.add(3, epoch: 21)
        let future = try a.add(2, epoch: 22)
        let delegation = try a.add(2, type: .delegation, epoch: 3)
        let b = try SyncSide(epoch: 20, retention: 4)
        let own = try b.add(4, epoch: 20)
        let straggler = try b.add(1, epoch: 9)  // stored after the prune: kept until the next, never offered
        b.service.peerConnected(a.key.publicKey)
        a.service.peerConnected(b.key.publicKey)
        SyncSide.exchange(a, b)
        a.settle(); b.settle()
        SyncSide.exchange(a, b)
        let inB = SyncSide.allIDs(try b.stored())
        #expect(inB == Set(recent + delegation + own + straggler))
        #expect(inB.isDisjoint(with: old + future))
        #expect(SyncSide.allIDs(try a.stored()) == Set(old + recent + future + delegation + own))
        #expect(b.service.floor == 16 && b.service.ceiling == 21)
    }

    /// At capacity whole scopes are dropped, other topics first; a dropped scope is neither offered
    /// nor fetched, while the rest still reconciles.
    @Test func theIndexCapIsEnforced() throws {
        let a = try SyncSide(epoch: nil, capacity: 50)
        try a.add(30, type: .vote, epoch: 2)
        try a.add(25, epoch: 2)  // 55 > 50: the text scope goes
        #expect(a.service.index.count == 30 && a.service.index.dropped == [SyncScope(topic: "text", epoch: 2)])
        #expect(a.service.counters.scopesDropped == 1)
        // Loaded at start the same way: priority scopes first, what does not fit dropped unread.
        let restarted = a.makeService()
        #expect(restarted.index.count == 30 && restarted.index.isDropped(SyncScope(topic: "text", epoch: 2)))

        let b = try SyncSide(epoch: nil)
        try b.add(10, epoch: 2)
        try b.add(5, type: .vote, epoch: 2)
        a.service.peerConnected(b.key.publicKey)
        b.service.peerConnected(a.key.publicKey)
        SyncSide.exchange(a, b)
        a.settle(); b.settle()
        SyncSide.exchange(a, b)
        // a took b's votes, not its text statements (that scope is not reconciled there); b took a's
        // votes only (a offered no text scope).
        #expect(try a.stored()[SyncScope(topic: "vote", epoch: 2)]?.count == 35)
        #expect(try a.stored()[SyncScope(topic: "text", epoch: 2)]?.count == 25)
        #expect(try b.stored()[SyncScope(topic: "vote", epoch: 2)]?.count == 35)
        #expect(try b.stored()[SyncScope(topic: "text", epoch: 2)]?.count == 10)
        #expect(a.service.index.count <= 50)
    }

    /// `prune(before:keeping:)` deletes old scopes from both tables in one write and touches neither
    /// the kept types, the final tables nor the PoC artifacts.
    @Test func pruningDeletesOldScopesAndKeepsFinalTables() throws {
        let side = try SyncSide(epoch: nil)
        var byEpoch: [UInt64: [Bytes32]] = [:]
        for epoch in 1...6 as ClosedRange<UInt64> {
            byEpoch[epoch] = try side.add(3, epoch: epoch) + side.add(2, type: .vote, epoch: epoch)
        }
        let delegations = try side.add(2, type: .delegation, epoch: 1)
        let parameters = try Self.parameters()
        let genesis = WeightTable.genesis(parameters)
        let finals = try FinalTableStore(environment: side.environment, writer: side.writer)
        finals.save(genesis, Certificate(epoch: 0, tableDigest: genesis.digest, signatures: []))
        let artifacts = try ArtifactStore(environment: side.environment, writer: side.writer)
        artifacts.save(epoch: 2, model: "m", [(nonce: 1, artifact: [1, 2, 3])])

        let pruned = Mutex<Result<Int, StoreError>?>(nil)
        side.store.prune(before: 4, keeping: [.delegation]) { result in pruned.withLock { $0 = result } }
        side.settle()
        #expect(try pruned.withLock { $0 }?.get() == 15)  // epochs 1-3, 5 each
        let stored = try side.stored()
        #expect(stored.keys.sorted().map(\.description) == ["delegation@1", "text@4", "text@5", "text@6", "vote@4", "vote@5", "vote@6"])
        #expect(try side.store.count() == 5 * 3 + 2)
        for epoch in 1...3 as ClosedRange<UInt64> {
            for id in byEpoch[epoch]! { #expect(try side.store.statement(id) == nil) }
        }
        for id in byEpoch[4]! + delegations { #expect(try side.store.statement(id) != nil) }
        #expect(try finals.load(policy: side.store.policy)[0]?.table == genesis)
        #expect(try artifacts.load(epoch: 2, model: "m").count == 1)
        // Nothing older left: pruning again deletes nothing.
        side.store.prune(before: 4, keeping: [.delegation]) { result in pruned.withLock { $0 = result } }
        side.settle()
        #expect(try pruned.withLock { $0 }?.get() == 0)
    }

    /// Malformed sync bytes close the session, like any protocol violation.
    @Test func malformedMessagesDisconnect() throws {
        let side = try SyncSide(epoch: nil)
        side.service.received([9, 9, 9][...], from: Ed25519.SigningKey.generate().publicKey)
        #expect(side.host.disconnected.count == 1 && side.host.disconnected[0].hasPrefix("malformed sync message"))
    }

    /// `[statements]` in config.toml: the retention and the index bound, with their limits.
    @Test func theConfigFileSetsRetentionAndTheIndexBound() throws {
        let defaults = try ConfigFile.parse(ConfigFile.template(networkID: "n", listen: "127.0.0.1:0"), file: "c.toml")
        #expect(defaults.retentionEpochs == 8 && defaults.syncIndexCapacity == 1_000_000)
        let set = try ConfigFile.parse("network = \"n\"\n[statements]\nretention_epochs = 3\nsync_index_max_ids = 5000\n", file: "c.toml")
        #expect(set.retentionEpochs == 3 && set.syncIndexCapacity == 5000)
        #expect(throws: ConfigError.self) { try ConfigFile.parse("network = \"n\"\n[statements]\nretention_epochs = 1\n", file: "c.toml") }
        #expect(throws: ConfigError.self) { try ConfigFile.parse("network = \"n\"\n[statements]\nsync_index_max_ids = 0\n", file: "c.toml") }
        #expect(throws: ConfigError.self) { try ConfigFile.parse("network = \"n\"\n[statements]\nretention = 3\n", file: "c.toml") }
    }

    static func parameters() throws -> NetworkParameters {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Network/devnet/network.toml").path
        return try NetworkFile.load(path: file)
    }
}
