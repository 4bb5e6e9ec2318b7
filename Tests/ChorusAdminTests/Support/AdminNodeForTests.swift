import AsyncHTTPClient
import ChorusAdmin
import ChorusCrypto
import ChorusHTTP
import ChorusLoop
import ChorusNode
import ChorusStore
import ChorusWire
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import Testing

/// One real node on its own loop with an LMDB store, a Prometheus registry of its own (so the
/// nodes of one test process never share metrics) and its admin listener on a free loopback port.
final class AdminNodeForTests: Sendable {
    let loop: ChorusLoop.EventLoop
    let node: Node
    let key: Ed25519.SigningKey
    let address: String
    let admin: AdminServer
    let factory: ChorusMetricsFactory
    private let store: (environment: StoreEnvironment, writer: StorageWriter)
    let directory: String

    /// A network of the running test's own, so that nodes of tests running in parallel never join.
    static var networkID: String {
        guard let test = Test.current else { return "admin-test-devnet" }
        return "a" + Blake2b.hash256(Array(String(describing: test.id).utf8)).hex.prefix(20) + "-devnet"
    }

    init(seeds: [String] = [], key: Ed25519.SigningKey = .generate(), options: AdminServer.Options = AdminServer.Options()) async throws {
        self.key = key
        var configuration = NodeConfiguration(networkID: Self.networkID, listen: ["127.0.0.1:0"], seeds: seeds)
        configuration.connections.handshakeTimeout = .seconds(1)
        configuration.connections.redialBase = .milliseconds(50)
        configuration.connections.redialMax = .milliseconds(500)
        configuration.keepaliveInterval = .milliseconds(200)
        configuration.allowPrivateAddresses = true
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-admin-\(UUID().uuidString.prefix(8))").path
        let environment = try StoreEnvironment.open(at: directory, schema: NodeSchema.schema)
        let writer = try StorageWriter(environment: environment)
        store = (environment, writer)
        loop = try EventLoop(name: "admin-test-node")
        factory = ChorusMetricsFactory()
        var logger = Logger(label: "admin-test") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        node = Node(configuration: configuration, signingKey: key, peerStore: try PeerStore(environment: environment, writer: writer),
                    statements: try StatementStore(environment: environment, writer: writer,
                                                   policy: StatementPolicy(networkID: configuration.networkID, allowedTypes: nil)),
                    addressBook: try AddressBookStore(environment: environment, writer: writer), loop: loop, logger: logger, seed: 11,
                    metrics: factory)
        try await node.start()
        address = await node.status().listenAddresses[0]
        admin = try await AdminServer.start(node: node, registry: factory.registry, listen: .tcp(host: "127.0.0.1", port: 0), options: options)
    }

    func artifactStore() throws -> ArtifactStore { try ArtifactStore(environment: store.environment, writer: store.writer) }

    func shutdown() async {
        await admin.stop()
        await node.stopPoC()
        await node.stop()
        loop.shutdown()
        store.writer.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A GET (or another method) against an admin listener: status and body.
struct AdminReplyForTests {
    let status: Int
    let body: String
    var headers: HTTPHeaders = [:]

    /// `# TYPE` lines of a scrape: family name → type.
    var families: [String: String] {
        var out: [String: String] = [:]
        for line in body.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { out[String(parts[2])] = String(parts[3]) }
        }
        return out
    }

    /// The value of the sample `series` (name with its labels exactly as exported, e.g.
    /// `chorus_gossip_mesh_peers{topic="statements"}`), nil when absent.
    func value(_ series: String) -> Double? {
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            if line[..<space] == series { return Double(line[line.index(after: space)...]) }
        }
        return nil
    }

    /// The cumulative count of histogram `name`'s bucket whose bound is `le`.
    func bucket(_ name: String, le: Double) -> Double? {
        let prefix = name + "_bucket{le=\""
        for line in body.split(separator: "\n") where line.hasPrefix(prefix) {
            let rest = line.dropFirst(prefix.count)
            guard let quote = rest.firstIndex(of: "\""), Double(rest[..<quote]) == le,
                  let space = line.lastIndex(of: " ") else { continue }
            return Double(line[line.index(after: space)...])
        }
        return nil
    }

    /// Sum over every series of family `name`.
    func sum(_ name: String) -> Double {
        var total = 0.0
        for line in body.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            if let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) { total += v }
        }
        return total
    }
}

/// One HTTP client per test (AsyncHTTPClient), with room for more connections than the listener admits.
struct AdminClientForTests {
    let client: HTTPClient

    init() {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func get(_ base: String, _ path: String, method: HTTPMethod = .GET, body: String? = nil) async throws -> AdminReplyForTests {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return AdminReplyForTests(status: Int(response.status.code), body: String(buffer: bytes), headers: response.headers)
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
