import ChorusCompute
import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// Confirmation PoC on real nodes (Specs/epochs.md §4): three genesis participants on loopback with
/// the built-in worker run epoch 1; in its inference stage each re-runs PoC in the confirmation
/// window with the window's seed, commits the reading, serves its proofs, and the others validate it
/// over the mesh. Epoch 2's final table records every reading as passed, identically everywhere.
@Suite(.serialized) struct NodeConfirmationTests {
    @Test(.timeLimit(.minutes(2))) func readingsAreMeasuredProvenAndRecorded() async throws {
        let keys = (0..<3).map { _ in Ed25519.SigningKey.generate() }
        let dirs = (0..<3).map { temporaryDirectory("confirm-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let service = WorkerService()
        let digest = try await service.loadModel(NodePoCTests.modelRequest).digest

        let nodes = try #require(try await NodeHarnessForTests.fullMesh(keys: keys, directories: dirs, networkID: NodeHarnessForTests.networkID))
        let a = nodes[0]
        defer { Task { for n in nodes { await n.shutdown() } } }

        var p = try NodePoCTests.parameters(participants: keys, digest: digest, genesisInMs: 1500)
        p.stages = StageDurations(generationMs: 3000, validationMs: 6000, tallyMs: 3000, inferenceMs: 5000, beaconRevealMs: 500)
        p.confirmation = ConfirmationParameters(windowsPerEpoch: 1, windowMs: 2000, passRatio: try Ratio(7, 10))
        for (i, n) in nodes.enumerated() {
            let link = WorkerLink(api: service, endpoint: "in-process")
            let served = try await PoCModels.load([NodePoCTests.modelRequest], on: link, parameters: p)
            await n.node.attachPoC(worker: link, artifacts: try n.artifactStore(), proofTimeout: .milliseconds(1500))
            let seedByte = UInt8(i)
            await n.node.attachEpochs(EpochEngine(
                parameters: p, key: keys[i], configuration: .init(servedModels: served, commitIntervalMs: 1000, validationGraceMs: 500),
                beaconSecret: { epoch in Blake2b.hash256([seedByte] + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) }) }))
        }

        // Epoch 1 ends 18.5 s from now; epoch 2's table is final after its tally, about 31 s from now.
        #expect(await eventually(timeout: .seconds(60)) {
            var finals: [Bool] = []
            for n in nodes { finals.append(await n.node.epochStatus(2)?.final ?? false) }
            return finals.allSatisfy { $0 }
        })
        var tables: [WeightTable] = []
        for n in nodes { tables.append(try #require(await n.node.weights(2))) }
        #expect(tables.allSatisfy { $0.digest == tables[0].digest })
        let records = tables[0].confirmations
        for r in records { print("confirmation of \(r.participant.hex.prefix(8)): readings \(r.readings), expected \(r.expected), passed \(r.passed)") }
        #expect(Set(records.map(\.participant)) == Set(keys.map(\.publicKey.raw)))
        #expect(records.allSatisfy { $0.passed && $0.weight > 0 })
        #expect(tables[0].entries.allSatisfy { $0.votingWeight > 0 })
        let status = try #require(await a.node.status().poc)
        #expect(status.proofs.requestsServed >= 4, "generation and confirmation proofs served")
    }
}
