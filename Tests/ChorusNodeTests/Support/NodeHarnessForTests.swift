import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusStore
import Foundation
import Logging
import ChorusWire
import Synchronization
import Testing
@testable import ChorusNode

/// A log handler that keeps every message with its metadata, so tests can check what was logged.
struct RecordingLogHandlerForTests: LogHandler {
    final class Records: Sendable {
        let lines = Mutex<[String]>([])
        func contains(_ fragments: String...) -> Bool {
            lines.withLock { $0.contains { line in fragments.allSatisfy { line.contains($0) } } }
        }
    }

    let records: Records
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let text = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        records.lines.withLock { $0.append("\(event.level) \(event.message) \(text)") }
    }
}

/// One node on its own loop, listening on a free loopback port, with an optional LMDB store.
final class NodeHarnessForTests: Sendable {
    let loop: EventLoop
    let node: Node
    let key: Ed25519.SigningKey
    let logs = RecordingLogHandlerForTests.Records()
    let address: String
    private let store: (environment: StoreEnvironment, writer: StorageWriter)?
    /// The node's statement store when it has a store directory.
    let statements: StatementStore?

    /// The network of the running test: its own, so that nodes of tests running in parallel, which
    /// reuse each other's loopback ports and redial them, can never join (a handshake across
    /// networks fails). It ends in "-devnet", so fault injection (devnets only) is allowed on it.
    /// Outside a test: "test-devnet".
    static var networkID: String {
        guard let test = Test.current else { return "test-devnet" }
        return "t" + Blake2b.hash256(Array(String(describing: test.id).utf8)).hex.prefix(20) + "-devnet"
    }

    /// Settings that make the hostile cases quick: a short handshake timeout, loopback-friendly limits.
    static func testConfiguration(seeds: [String] = [], listen: String = "127.0.0.1:0") -> NodeConfiguration {
        var configuration = NodeConfiguration(networkID: networkID, listen: [listen], seeds: seeds)
        configuration.connections.handshakeTimeout = .seconds(1)
        configuration.connections.redialBase = .milliseconds(50)
        configuration.connections.redialMax = .milliseconds(500)
        configuration.keepaliveInterval = .milliseconds(200)
        configuration.syncInterval = .milliseconds(300)
        configuration.allowPrivateAddresses = true
        return configuration
    }

    init(configuration: NodeConfiguration = testConfiguration(), key: Ed25519.SigningKey = .generate(),
         storeDirectory: String? = nil) async throws {
        self.key = key
        loop = try EventLoop(name: "test-node")
        var peerStore: PeerStore?
        var statements: StatementStore?
        var addresses: AddressBookStore?
        if let storeDirectory {
            let environment = try StoreEnvironment.open(at: storeDirectory, schema: NodeSchema.schema)
            let writer = try StorageWriter(environment: environment)
            store = (environment, writer)
            peerStore = try PeerStore(environment: environment, writer: writer)
            addresses = try AddressBookStore(environment: environment, writer: writer)
            statements = try StatementStore(environment: environment, writer: writer,
                                            policy: StatementPolicy(networkID: configuration.networkID, allowedTypes: nil))
        } else {
            store = nil
        }
        self.statements = statements
        let logs = self.logs
        let logger = Logger(label: "test") { _ in RecordingLogHandlerForTests(records: logs) }
        node = Node(configuration: configuration, signingKey: key, peerStore: peerStore, statements: statements,
                    addressBook: addresses, loop: loop, logger: logger, seed: 7)
        try await node.start()
        address = await node.status().listenAddresses[0]
    }

    /// Stops the node, shuts its loop down and waits until its store writes are durable.
    func shutdown() async {
        await node.stop()
        loop.shutdown()
        store?.writer.close()
    }

    /// The node's PoC artifact table, when it has a store.
    func artifactStore() throws -> ArtifactStore? {
        try store.map { try ArtifactStore(environment: $0.environment, writer: $0.writer) }
    }

    func counter(_ code: String) async -> Int { await node.currentCounters.closes[code, default: 0] }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

func temporaryDirectory(_ label: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("chorus-\(label)-\(UUID().uuidString.prefix(8))").path
}

extension NodeHarnessForTests {
    /// One node per key on loopback, network `networkID`, all seeded with the first; returns once
    /// every node has a session with every other (nil if that does not happen within 15 s).
    static func fullMesh(keys: [Ed25519.SigningKey], directories: [String], networkID: String) async throws -> [NodeHarnessForTests]? {
        var configuration = testConfiguration()
        configuration.networkID = networkID
        let first = try await NodeHarnessForTests(configuration: configuration, key: keys[0], storeDirectory: directories[0])
        configuration.seeds = [first.address]
        var nodes = [first]
        for i in keys.indices.dropFirst() {
            nodes.append(try await NodeHarnessForTests(configuration: configuration, key: keys[i], storeDirectory: directories[i]))
        }
        let all = nodes
        // On an idle machine the mesh forms in about a second; with every suite running in parallel
        // it once took over 15 s (cause not found: the diagnostics below print it if it happens).
        let connected = await eventually(timeout: .seconds(30)) {
            for n in all where await n.node.connectedPeers.count < all.count - 1 { return false }
            return true
        }
        if !connected {
            // Say why, so a failure here can be understood from the test output alone.
            for (i, n) in all.enumerated() {
                let c = await n.node.currentCounters
                print("fullMesh: node \(i) has \(await n.node.connectedPeers.count) of \(all.count - 1) peers; closes \(c.closes), dials \(c.dialsAttempted) (\(c.dialsFailed) failed), addresses learned \(c.addressesLearned), records \(c.recordsAccepted)")
            }
            for n in all { await n.shutdown() }
        }
        return connected ? all : nil
    }
}
