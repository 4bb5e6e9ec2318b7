import ChorusAdmin
import ChorusCompute
import ChorusCrypto
import ChorusNetworkFile
import ChorusNode
import ChorusProtocol
import ChorusWorkerAPI
import Foundation
import Testing

/// `/metrics` after a short real run: three nodes on loopback, each with its own registry, the
/// built-in worker on a small synthetic model and epochs from a network file whose genesis is a
/// second away. Every family `NodeMetricNames` lists must be in the scrape, the values must say
/// what the nodes did, and `promtool check metrics` (Debian's `prometheus`) must accept it.
@Suite(.serialized) struct AdminMetricsTests {
    static let modelID = "chorus/synthetic-test"
    static let modelRequest = LoadModelRequest(id: modelID, synthetic: .init(seed: SyntheticModel.devnetSeed.hex, config: ModelConfigMessage(
        LlamaConfig(hiddenSize: 32, layerCount: 1, headCount: 2, kvHeadCount: 1, feedForwardSize: 64, vocabularySize: 64, contextLength: 64))))

    static func parameters(participants: [Ed25519.SigningKey], digest: String) throws -> NetworkParameters {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Network/devnet/network.toml").path
        var p = try NetworkFile.load(path: file)
        p.networkID = AdminNodeForTests.networkID
        p.genesisUnixMs = Int64(Date().timeIntervalSince1970 * 1000) + 1000
        p.stages = StageDurations(generationMs: 5000, validationMs: 9000, tallyMs: 4000, inferenceMs: 1000, beaconRevealMs: 500)
        p.genesisParticipants = participants.map { GenesisParticipant(id: $0.publicKey.raw, weight: 100) }.sorted { $0.id < $1.id }
        p.models = [ModelParameters(id: modelID, digest: digest, seqLen: 4, distThreshold: try Ratio(1, 20), pMismatch: try Ratio(1, 100),
                                    pValueThreshold: try Ratio(1, 20), sampleSize: 100, weightScaleFactor: .one, penaltyStartEpoch: 3,
                                    treeDepth: 20)]
        p.initialModelID = modelID
        return p
    }

    @Test(.timeLimit(.minutes(1))) func everyFamilyIsScrapedAfterAThreeNodeRun() async throws {
        let first = try await AdminNodeForTests()
        let nodes = [first, try await AdminNodeForTests(seeds: [first.address]), try await AdminNodeForTests(seeds: [first.address])]
        let client = AdminClientForTests()
        defer { Task { for n in nodes { await n.shutdown() }; await client.shutdown() } }
        let all = nodes
        #expect(await eventually {
            for n in all where await n.node.connectedPeers.count < 2 { return false }
            return true
        })

        let service = WorkerService()
        let digest = try await service.loadModel(Self.modelRequest).digest
        let p = try Self.parameters(participants: nodes.map(\.key), digest: digest)
        for (i, n) in nodes.enumerated() {
            let link = WorkerLink(api: service, endpoint: "in-process")
            let served = try await PoCModels.load([Self.modelRequest], on: link, parameters: p)
            await n.node.attachPoC(worker: link, artifacts: try n.artifactStore())
            let seedByte = UInt8(i)
            await n.node.attachEpochs(EpochEngine(
                parameters: p, key: n.key, configuration: .init(servedModels: served, commitIntervalMs: 1000, validationGraceMs: 1000),
                beaconSecret: { epoch in Blake2b.hash256([seedByte] + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) }) }))
        }

        // Generation starts 1.5 s after genesis was set; wait until the worker reports a rate.
        let url = first.admin.url
        let rate = "\(NodeMetricNames.noncesPerSecond){model=\"\(Self.modelID)\"}"
        var scrape = try await client.get(url, "/metrics")
        #expect(try await eventually(timeout: .seconds(20)) {
            scrape = try await client.get(url, "/metrics")
            return (scrape.value(rate) ?? 0) > 0 && scrape.sum(NodeMetricNames.commits) > 0
        })
        #expect(scrape.status == 200)

        let families = scrape.families
        for family in NodeMetricNames.all {
            #expect(families[family.name] == family.kind.rawValue, "family \(family.name) (\(family.kind)) missing or mistyped in the scrape")
        }
        #expect(scrape.body.contains("# HELP \(NodeMetricNames.sessionsOpen) "))
        // What the run did.
        #expect(scrape.sum(NodeMetricNames.sessionsOpen) == 2)
        #expect(scrape.value("\(NodeMetricNames.handshakes){result=\"ok\"}").map { $0 >= 2 } == true)
        #expect((scrape.value(NodeMetricNames.sentBytes) ?? 0) > 1000 && (scrape.value(NodeMetricNames.receivedBytes) ?? 0) > 1000)
        #expect(scrape.value("\(NodeMetricNames.meshPeers){topic=\"statements\"}") != nil)
        #expect(scrape.value(NodeMetricNames.epochCurrent) == 1)
        #expect(scrape.value("\(NodeMetricNames.epochStage){stage=\"generation\"}") == 1)
        #expect(scrape.sum(NodeMetricNames.epochStage) == 1)
        #expect(scrape.value(NodeMetricNames.workerHealthy) == 1)
        #expect(scrape.value("\(NodeMetricNames.modelResident){model=\"\(Self.modelID)\"}") == 1)
        let parameters = try #require(scrape.value("\(NodeMetricNames.modelParameters){model=\"\(Self.modelID)\"}"))
        #expect(parameters > 0 && scrape.value("\(NodeMetricNames.modelWeightBytes){model=\"\(Self.modelID)\"}") == parameters * 4)
        #expect(scrape.value("\(NodeMetricNames.ownWeight){model=\"\(Self.modelID)\"}") == 0)
        #expect(scrape.value("\(NodeMetricNames.loopLag)_count").map { $0 > 0 } == true)
        // No keys or addresses in any label: only fixed words, model ids and topics.
        for line in scrape.body.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(!line.contains(first.key.publicKey.hex.prefix(16)) && !line.contains("127.0.0.1"), "\(line)")
        }
        // Each node has a registry of its own: the second node's scrape is its own.
        let other = try await client.get(nodes[1].admin.url, "/metrics")
        #expect(other.families.count == families.count)

        // Ready: peers, a healthy worker, and epoch 1 needs no final table yet.
        let ready = try await client.get(url, "/readyz")
        #expect(ready.status == 200, "\(ready.body)")

        try Self.promtool(scrape.body)
    }

    /// `promtool check metrics` on the scrape, where promtool is found: `Tools/install-deps.sh`
    /// unpacks it from Debian's `prometheus` package into `.build-promtool/`; elsewhere the test
    /// says it was skipped.
    static func promtool(_ text: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [root.appendingPathComponent(".build-promtool/usr/bin/promtool").path, "/usr/bin/promtool", "/usr/local/bin/promtool"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("promtool not found (Tools/install-deps.sh unpacks it): promtool check metrics skipped")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool check metrics: \(report)")
        print("promtool check metrics: exit \(process.terminationStatus) \(report)")
    }
}
