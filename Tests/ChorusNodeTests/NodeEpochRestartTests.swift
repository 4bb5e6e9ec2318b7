import ChorusCrypto
import ChorusNetworkFile
import ChorusProtocol
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// Restart, verify-only and declarations on real nodes over loopback (gossip, anti-entropy, LMDB).
@Suite(.serialized) struct NodeEpochRestartTests {
    static func engine(_ p: NetworkParameters, _ key: Ed25519.SigningKey, _ i: Int) -> EpochEngine {
        let seedByte = UInt8(i)
        return EpochEngine(parameters: p, key: key, configuration: .init(servedModels: []),
                           beaconSecret: { epoch in Blake2b.hash256([seedByte] + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) }) })
    }

    static func finalDigest(_ node: NodeHarnessForTests, _ epoch: UInt64) async -> String? {
        await node.node.epochStatus(epoch)?.tableDigest
    }

    /// Node c is stopped in the middle of epoch 2 and started again on the same store with a fresh
    /// engine: the replay restores epoch 1's final table at once and its `seq` above every own
    /// statement, and it reaches the same final tables of epochs 2 and 3 as the others. Its
    /// export of epoch 2 verifies without the node.
    @Test func restartedNodeReachesTheSameFinalTable() async throws {
        let keys = (0..<3).map { _ in Ed25519.SigningKey.generate() }
        let dirs = (0..<3).map { temporaryDirectory("restart-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let a = try await NodeHarnessForTests(key: keys[0], storeDirectory: dirs[0])
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: keys[1], storeDirectory: dirs[1])
        var c: NodeHarnessForTests? = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: keys[2], storeDirectory: dirs[2])
        defer {
            let last = c
            Task { await a.shutdown(); await b.shutdown(); await last?.shutdown() }
        }
        #expect(await eventually { await a.node.connectedPeers.count == 2 })
        let p = try NodeEpochTests.parameters(participants: keys)
        let clock = EpochClock(p)
        for (i, node) in [a, b, c!].enumerated() { await node.node.attachEpochs(Self.engine(p, keys[i], i)) }
        #expect(await eventually(timeout: .seconds(40)) { await c!.node.epochStatus(1)?.final == true })
        // Into epoch 2's generation stage, then stop c.
        let stopAt = clock.start(of: .generation, epoch: 2) + 700
        while Node.unixMillis() < stopAt { try await Task.sleep(for: .milliseconds(50)) }
        let ownSeqs = (await c!.node.epochs?.engine.statements(epoch: 1) ?? []).filter { $0.author == keys[2].publicKey }.map(\.seq)
        let highest = try #require(ownSeqs.max())
        let digest1 = await Self.finalDigest(c!, 1)
        await c!.shutdown()
        c = nil
        c = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: keys[2], storeDirectory: dirs[2])
        await c!.node.attachEpochs(Self.engine(p, keys[2], 2))
        // Restored from the store before any tick or sync.
        #expect(await Self.finalDigest(c!, 1) == digest1)
        #expect((await c!.node.epochs?.engine.nextSeq ?? 0) > highest)
        for epoch: UInt64 in 2...3 {
            #expect(await eventually(timeout: .seconds(40)) {
                let digests = [await Self.finalDigest(a, epoch), await Self.finalDigest(b, epoch), await Self.finalDigest(c!, epoch)]
                return digests[0] != nil && digests.allSatisfy { $0 == digests[0] }
            }, "epoch \(epoch) not final alike on all nodes")
        }
        let export = try await c!.node.exportEpoch(2)
        let result = export.verify(parameters: p)
        #expect(result.matches, "\(result.problems)")
        #expect(result.recomputedDigest == (await Self.finalDigest(a, 2)))
    }

    /// A verify-only node follows the epochs, derives the same table, writes its audit report,
    /// reports the role, and signs nothing: no statement of its key reaches the others.
    @Test func verifyOnlyNodeAuditsWithoutSigning() async throws {
        let keys = (0..<3).map { _ in Ed25519.SigningKey.generate() }
        let auditorKey = Ed25519.SigningKey.generate()
        let dirs = (0..<4).map { temporaryDirectory("audit-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let a = try await NodeHarnessForTests(key: keys[0], storeDirectory: dirs[0])
        let seeded = NodeHarnessForTests.testConfiguration(seeds: [a.address])
        let b = try await NodeHarnessForTests(configuration: seeded, key: keys[1], storeDirectory: dirs[1])
        let c = try await NodeHarnessForTests(configuration: seeded, key: keys[2], storeDirectory: dirs[2])
        let auditor = try await NodeHarnessForTests(configuration: seeded, key: auditorKey, storeDirectory: dirs[3])
        let nodes = [a, b, c, auditor]
        defer { Task { for n in nodes { await n.shutdown() } } }
        #expect(await eventually { await a.node.connectedPeers.count == 3 })
        let p = try NodeEpochTests.parameters(participants: keys)
        for (i, node) in [a, b, c].enumerated() { await node.node.attachEpochs(Self.engine(p, keys[i], i)) }
        let auditDir = dirs[3] + "/audit"
        await auditor.node.attachEpochs(Node.makeAuditorEngine(parameters: p, key: auditorKey), networkFile: nil, auditDirectory: auditDir)
        #expect(await auditor.node.status().role == "verify-only")
        #expect(await a.node.status().role == "participant")
        #expect(await eventually(timeout: .seconds(40)) { FileManager.default.fileExists(atPath: auditDir + "/epoch-1.json") })
        let data = try #require(FileManager.default.contents(atPath: auditDir + "/epoch-1.json"))
        let report = try JSONDecoder().decode(AuditReport.self, from: data)
        #expect(report.matches && report.final && report.divergences.isEmpty)
        #expect(report.certifiedDigest == (await Self.finalDigest(a, 1)))
        #expect(report.certificateSigners.count == 3 && report.signerShare > 0.99)
        #expect(report.table.count == 3)
        #expect((report.statementCounts["certificate-signature"] ?? 0) == 3)
        let html = try #require(FileManager.default.contents(atPath: auditDir + "/epoch-1.html"))
        #expect(String(decoding: html, as: UTF8.self).contains("<svg"))
        // The index page links the report (AuditIndexTests has the rest).
        let index = try #require(FileManager.default.contents(atPath: auditDir + "/" + AuditIndex.htmlName))
        #expect(String(decoding: index, as: UTF8.self).contains("href=\"epoch-1.html\""))
        for node in [a, b, c] {
            for epoch: UInt64 in 0...2 {
                #expect(!(await node.node.epochs?.engine.statements(epoch: epoch) ?? []).contains { $0.author == auditorKey.publicKey })
            }
        }
        await #expect(throws: NodeError.self) { _ = try await auditor.node.declare(model: p.models[0].id, action: .refuse) }
    }

    /// `declare` over the control socket: delegate, refuse and intent are signed, stored and
    /// gossiped; bad requests get errors that say what to fix.
    @Test func declarationsThroughTheControlSocket() async throws {
        let keys = (0..<2).map { _ in Ed25519.SigningKey.generate() }
        let dirs = (0..<3).map { temporaryDirectory("declare-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        try FileManager.default.createDirectory(atPath: dirs[2], withIntermediateDirectories: true)
        let a = try await NodeHarnessForTests(key: keys[0], storeDirectory: dirs[0])
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: keys[1], storeDirectory: dirs[1])
        defer { Task { await a.shutdown(); await b.shutdown() } }
        let path = dirs[2] + "/control.sock"
        try await a.node.startControlServer(path: path)
        #expect(await eventually { await a.node.connectedPeers.count == 1 })
        let p = try NodeEpochTests.parameters(participants: keys)
        await a.node.attachEpochs(Self.engine(p, keys[0], 0))
        await b.node.attachEpochs(Self.engine(p, keys[1], 1))
        while Node.unixMillis() < p.genesisUnixMs + 100 { try await Task.sleep(for: .milliseconds(50)) }
        let model = p.models[0].id
        let delegated = try await ControlClient.call(
            ControlRequest(method: "declare", params: ["model": model, "action": "delegate", "target": keys[1].publicKey.hex]),
            socketPath: path, as: DeclareResult.self)
        #expect(delegated.action == "delegate" && delegated.target == keys[1].publicKey.hex && delegated.effectiveEpoch == delegated.epoch + 1)
        let refused = try await ControlClient.call(ControlRequest(method: "declare", params: ["model": p.models[1].id, "action": "refuse"]),
                                                   socketPath: path, as: DeclareResult.self)
        let intent = try await ControlClient.call(ControlRequest(method: "declare", params: ["model": model, "action": "intent"]),
                                                  socketPath: path, as: DeclareResult.self)
        #expect(intent.seq > delegated.seq && refused.seq > delegated.seq)
        // Gossiped to b, which holds the three signed declarations.
        #expect(await eventually {
            let held = await b.node.epochs?.engine.statements(epoch: delegated.epoch) ?? []
            return Set([delegated.statementID, refused.statementID, intent.statementID]).isSubset(of: Set(held.map(\.id.hex)))
        })
        for (params, fragment) in [
            (["model": "no/such-model", "action": "refuse"], "not in the network file"),
            (["model": model, "action": "delegate"], "params.target"),
            (["model": model, "action": "dance"], "delegate, refuse or intent"),
            (["model": model, "action": "delegate", "target": keys[0].publicKey.hex], "cannot delegate to itself"),
        ] {
            do {
                _ = try await ControlClient.call(ControlRequest(method: "declare", params: params), socketPath: path, as: DeclareResult.self)
                Issue.record("declare \(params) succeeded")
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
        }
    }
}
