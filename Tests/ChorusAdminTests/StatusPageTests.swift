import ChorusAdmin
import ChorusCrypto
import ChorusNode
import ChorusProtocol
import Foundation
import Testing

/// The status page (`GET /`) and what it polls (`GET /status.json`) on real nodes. The page in a
/// browser is `Tools/test-browser.sh` (slow tier: headless Chromium, a screenshot, the filled DOM).
@Suite struct StatusPageTests {
    static func decode(_ body: String) throws -> StatusBody {
        try JSONDecoder().decode(StatusBody.self, from: Data(body.utf8))
    }

    /// One document that loads nothing from anywhere: no `src`/`href` attribute, no CSS import or
    /// `url(...)`, no absolute URL but the SVG namespace, and a policy header that forbids the rest.
    /// Node data goes in as text only (no `innerHTML`, `insertAdjacentHTML` or `document.write`).
    @Test(.timeLimit(.minutes(1))) func pageIsOneSelfContainedDocument() async throws {
        let a = try await AdminNodeForTests()
        let client = AdminClientForTests()
        defer { Task { await a.shutdown(); await client.shutdown() } }
        let page = try await client.get(a.admin.url, "/")
        #expect(page.status == 200)
        #expect(page.headers.first(name: "content-type") == "text/html; charset=utf-8")
        let policy = try #require(page.headers.first(name: "content-security-policy"))
        #expect(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"))
        #expect(page.body.hasPrefix("<!doctype html>") && page.body.contains("<script>") && page.body.contains("status.json"))
        let lower = page.body.lowercased()
        for forbidden in ["src=", "href=", "@import", "url(", "innerhtml", "outerhtml", "insertadjacenthtml", "document.write", "eval("] {
            #expect(!lower.contains(forbidden), "the page contains \(forbidden)")
        }
        let absolute = (lower.ranges(of: "http://") + lower.ranges(of: "https://"))
            .map { String(lower[$0.lowerBound...].prefix(26)) }
        #expect(absolute == ["http://www.w3.org/2000/svg"], "\(absolute)")
        // Every section the page fills in is there.
        for id in ["current-epoch", "epoch-strip", "epoch-table", "weight-charts", "history-chart", "weight-table", "peer-table",
                   "mesh-table", "worker", "generation-table", "inference", "truncated"] {
            #expect(page.body.contains(id), "no element or field \(id)")
        }
    }

    /// A relay (no network file) alone: the node's identity, no peers, not ready and why, no
    /// timeline and no weights. With its loop stuck, the answer still comes (200), without the
    /// node's part and saying why.
    @Test(.timeLimit(.minutes(1))) func statusOfALoneRelayAndOfAStuckNode() async throws {
        var options = AdminServer.Options()
        options.nodeTimeout = .milliseconds(300)
        let a = try await AdminNodeForTests(options: options)
        let client = AdminClientForTests()
        defer { Task { await a.shutdown(); await client.shutdown() } }
        let reply = try await client.get(a.admin.url, "/status.json")
        #expect(reply.status == 200 && reply.headers.first(name: "content-type") == "application/json")
        #expect(reply.headers.first(name: "cache-control") == "no-store")
        let body = try Self.decode(reply.body)
        #expect(body.health.status == "ok" && body.ready == false && body.failed["peers"] != nil)
        let node = try #require(body.node)
        #expect(node.status.publicKey == a.key.publicKey.hex && node.status.role == "relay")
        #expect(node.peers.isEmpty && node.timeline == nil && node.weights == nil && node.history.isEmpty && node.truncated.isEmpty)

        _ = a.loop.execute { usleep(1_500_000) }
        try await Task.sleep(for: .milliseconds(100))
        let stuck = try Self.decode(try await client.get(a.admin.url, "/status.json").body)
        #expect(stuck.node == nil && stuck.ready == nil && stuck.error?.contains("did not answer") == true, "\(stuck)")
        #expect(try await eventually { try Self.decode(try await client.get(a.admin.url, "/status.json").body).node != nil })
    }

    /// Three connected nodes following a network's epochs: the snapshot lists the peers, the
    /// meshes, the clock's stages and the timeline up to the current epoch; smaller limits cut each
    /// list and `truncated` says what was cut and its full length.
    @Test(.timeLimit(.minutes(1))) func statusFollowsPeersAndEpochsAndCutsItsLists() async throws {
        let first = try await AdminNodeForTests()
        let nodes = [first, try await AdminNodeForTests(seeds: [first.address]), try await AdminNodeForTests(seeds: [first.address])]
        let client = AdminClientForTests()
        defer { Task { for n in nodes { await n.shutdown() }; await client.shutdown() } }
        let all = nodes
        #expect(await eventually {
            for n in all where await n.node.connectedPeers.count < 2 { return false }
            return true
        })
        let p = try AdminMetricsTests.parameters(participants: nodes.map(\.key), digest: String(repeating: "0", count: 64))
        for (i, n) in nodes.enumerated() {
            let seedByte = UInt8(i)
            await n.node.attachEpochs(EpochEngine(parameters: p, key: n.key, configuration: .init(servedModels: []), beaconSecret: { epoch in
                Blake2b.hash256([seedByte] + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) })
            }))
        }
        var body = try Self.decode(try await client.get(first.admin.url, "/status.json").body)
        #expect(try await eventually {
            body = try Self.decode(try await client.get(first.admin.url, "/status.json").body)
            return body.node?.timeline?.current == 1
        })
        let node = try #require(body.node)
        #expect(node.status.role == "participant" && node.status.peerCount == 2)
        #expect(Set(node.peers.map(\.publicKey)) == Set(nodes.dropFirst().map { $0.key.publicKey.hex }))
        #expect(node.mesh.map(\.topic).contains(NodeConfiguration.defaultTopic))
        #expect(node.models == [AdminMetricsTests.modelID] && node.servedModels.isEmpty)
        let timeline = try #require(node.timeline)
        #expect(timeline.stages.map(\.stage) == ["generation", "validation", "tally", "inference"])
        #expect(timeline.stages.first?.startUnixMs == p.genesisUnixMs)
        #expect(zip(timeline.stages, timeline.stages.dropFirst()).allSatisfy { $0.endUnixMs == $1.startUnixMs })
        #expect(timeline.epochs.map(\.epoch) == [1] && timeline.epochs[0].final == false)
        #expect(node.weights == nil && node.truncated.isEmpty)

        var limits = NodeStatusSnapshot.Limits()
        limits.peers = 1
        limits.meshPeers = 1
        let cut = await first.node.statusSnapshot(limits: limits)
        #expect(cut.peers.count == 1 && cut.truncated["peers"] == 2)
        for topic in cut.mesh { #expect(topic.peers.count <= 1) }
        #expect(cut.scores.count <= 1)
    }

    /// A final table of 200 participants: 64 listed, heaviest first, `truncated` says 200, and
    /// the node's own row comes along although it is the lightest; the history point sums the
    /// accepted PoC weight only.
    @Test func weightsAreCutToTheLimitAndKeepTheOwnRow() throws {
        func key(_ i: Int) -> Bytes32 { Bytes32((0..<32).map { UInt8(truncatingIfNeeded: $0 == 0 ? i >> 8 : $0 == 1 ? i : 7) })! }
        let entries = (0..<200).map { i in
            WeightEntry(participant: key(i), weight: UInt64(1000 + i), votingWeight: UInt64(1000 + i), models: [
                ModelEntry(model: "a", mode: .direct, committedCount: 1, accepted: true, pocWeight: UInt64(i), votingPower: 0),
                ModelEntry(model: "b", mode: .direct, committedCount: 1, accepted: i % 2 == 0, pocWeight: 10, votingPower: 0),
            ])
        }
        let table = WeightTable(networkID: "n", epoch: 7, parametersDigest: .zero, previousDigest: .zero, reveals: [], nonRevealers: [],
                                equivocators: [], entries: entries)
        var truncated: [String: Int] = [:]
        let (weights, own) = NodeStatusSnapshot.listed(table, own: key(0), limits: NodeStatusSnapshot.Limits(), truncated: &truncated)
        #expect(weights.participants.count == 64 && truncated["weights.participants"] == 200)
        #expect(weights.participants.map(\.weight) == (0..<64).map { UInt64(1199 - $0) })
        #expect(own?.participant == key(0).hex && own?.weight == 1000)
        let point = NodeStatusSnapshot.point(table, own: key(0))
        #expect(point.epoch == 7 && point.totalWeight == (0..<200).reduce(0) { $0 + UInt64(1000 + $1) } && point.ownWeight == 1000)
        #expect(point.modelWeight == ["a": UInt64((0..<200).reduce(0, +)), "b": 1000] && point.ownModelWeight == ["a": 0, "b": 10])
    }

    /// `NodeStatusSnapshot.Limits`' defaults are what README "Status page" states.
    @Test func defaultLimitsAreTheDocumentedOnes() {
        let limits = NodeStatusSnapshot.Limits()
        #expect(limits.peers == 64 && limits.meshPeers == 64 && limits.epochs == 12 && limits.notesPerEpoch == 4)
        #expect(limits.participants == 64 && limits.history == 16)
    }
}
