import ChorusCompute
import ChorusCrypto
import ChorusNetworkFile
import ChorusProtocol
import ChorusWire
import ChorusWorkerAPI
import Foundation
import Testing
@testable import ChorusNode

/// PoC on real nodes: four genesis participants on loopback run one epoch with the built-in worker
/// on a small synthetic model. Two are honest, one fakes 10 % of its artifacts, one withholds its
/// proofs. Every node generates, commits, serves and fetches proofs over the mesh, recomputes the
/// sampled artifacts and votes; the final table must accept exactly the honest two.
@Suite(.serialized) struct NodePoCTests {
    static let modelID = "chorus/synthetic-test"

    /// A synthetic Llama small enough that a debug build computes hundreds of nonces a second.
    static let modelRequest = LoadModelRequest(id: modelID, synthetic: .init(seed: SyntheticModel.devnetSeed.hex, config: ModelConfigMessage(
        LlamaConfig(hiddenSize: 32, layerCount: 1, headCount: 2, kvHeadCount: 1, feedForwardSize: 64, vocabularySize: 64, contextLength: 64))))

    static func parameters(participants: [Ed25519.SigningKey], digest: String, genesisInMs: Int64) throws -> NetworkParameters {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Network/devnet/network.toml").path
        var p = try NetworkFile.load(path: file)
        p.networkID = NodeHarnessForTests.networkID
        p.genesisUnixMs = Int64(Date().timeIntervalSince1970 * 1000) + genesisInMs
        p.stages = StageDurations(generationMs: 5000, validationMs: 9000, tallyMs: 4000, inferenceMs: 1000, beaconRevealMs: 500)
        p.genesisParticipants = participants.map { GenesisParticipant(id: $0.publicKey.raw, weight: 100) }.sorted { $0.id < $1.id }
        // 100 samples: a 10 % faker mismatches ≥ 4 times (the fraud threshold at p_mismatch 1 %) with probability 0.99.
        p.models = [ModelParameters(id: modelID, digest: digest, seqLen: 4, distThreshold: try Ratio(1, 20), pMismatch: try Ratio(1, 100),
                                    pValueThreshold: try Ratio(1, 20), sampleSize: 100, weightScaleFactor: .one, penaltyStartEpoch: 3,
                                    treeDepth: 20)]
        p.initialModelID = modelID
        return p
    }

    @Test(.timeLimit(.minutes(2))) func honestAcceptedFakerAndWithholderRejected() async throws {
        let keys = (0..<4).map { _ in Ed25519.SigningKey.generate() }
        let dirs = (0..<4).map { temporaryDirectory("poc-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let service = WorkerService()
        let digest = try await service.loadModel(Self.modelRequest).digest

        let nodes = try #require(try await NodeHarnessForTests.fullMesh(keys: keys, directories: dirs, networkID: NodeHarnessForTests.networkID))
        let a = nodes[0]
        defer { Task { for n in nodes { await n.shutdown() } } }

        let p = try Self.parameters(participants: keys, digest: digest, genesisInMs: 1500)
        let faults: [PoCFaults] = [PoCFaults(), PoCFaults(), try PoCFaults.parse(["fake-artifacts=0.1"], networkID: p.networkID),
                                   try PoCFaults.parse(["withhold-proofs"], networkID: p.networkID)]
        for (i, n) in nodes.enumerated() {
            let link = WorkerLink(api: service, endpoint: "in-process")
            let served = try await PoCModels.load([Self.modelRequest], on: link, parameters: p)
            #expect(served == [Self.modelID])
            await n.node.attachPoC(worker: link, faults: faults[i], artifacts: try n.artifactStore(), proofTimeout: .milliseconds(1500))
            let seedByte = UInt8(i)
            await n.node.attachEpochs(EpochEngine(
                parameters: p, key: keys[i], configuration: .init(servedModels: served, commitIntervalMs: 1000, validationGraceMs: 1000),
                beaconSecret: { epoch in Blake2b.hash256([seedByte] + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) }) }))
        }

        // Epoch 1: generation 1.5-6.5 s, validation to 15.5 s, tally to 19.5 s after now.
        #expect(await eventually(timeout: .seconds(45)) {
            var finals: [Bool] = []
            for n in nodes { finals.append(await n.node.epochStatus(1)?.final ?? false) }
            return finals.allSatisfy { $0 }
        })
        let table = try #require(await a.node.weights(1))
        func accepted(_ i: Int) -> Bool? {
            table.entries.first { $0.participant == keys[i].publicKey.raw }?.models.first { $0.model == Self.modelID }?.accepted
        }
        for i in 0..<4 {
            let entry = table.entries.first { $0.participant == keys[i].publicKey.raw }?.models.first
            print("participant \(i) (\(faults[i].names)): committed \(entry?.committedCount ?? 0), accepted \(entry?.accepted ?? false)")
        }
        #expect(accepted(0) == true)
        #expect(accepted(1) == true)
        // Rejected entries carry no PoC weight for the model (or no model entry at all).
        #expect(accepted(2) != true)
        #expect(accepted(3) != true)

        // The honest validator's view: votes on the withholder count every sample as a mismatch.
        let votes = try #require(await a.node.votes(1))
        let onWithholder = try #require(votes.votes.first { $0.own && $0.participant == keys[3].publicKey.hex })
        #expect(onWithholder.verdict == "invalid" && onWithholder.mismatches == onWithholder.samples && onWithholder.samples > 0)
        let onHonest = try #require(votes.votes.first { $0.own && $0.participant == keys[1].publicKey.hex })
        #expect(onHonest.verdict == "valid" && onHonest.mismatches == 0)
        let onFaker = try #require(votes.votes.first { $0.own && $0.participant == keys[2].publicKey.hex })
        #expect(onFaker.verdict == "invalid")
        for record in votes.validations {
            print("validation of \(record.participant.prefix(8)): \(record.proofsVerified)/\(record.samples) proofs, \(record.mismatches) mismatches, \(Int(record.durationMs)) ms")
        }

        let status = try #require(await a.node.status().poc)
        #expect(status.worker.healthy)
        #expect((status.generation.first?.artifacts ?? 0) >= 100)
        print("generation: \(status.generation)")
        let withholder = try #require(await nodes[3].node.status().poc)
        #expect(withholder.proofs.requestsWithheld >= 1)
        #expect(status.proofs.requestsServed >= 3)

        // Proofs survive a restart: the saved artifacts rebuild the tree that the commit names.
        let saved = try #require(try a.artifactStore()).loadForTests(epoch: 1, model: Self.modelID)
        var tree = SparseMerkleSumTree(depth: 20)
        for (nonce, artifact) in saved { try tree.insert(nonce: nonce, artifact: artifact) }
        let ownCommit = try #require(await a.node.ownCommitsForTests(epoch: 1).max { $0.count < $1.count })
        #expect(tree.root == ownCommit.root && tree.count == ownCommit.count)
    }
}

extension ArtifactStore {
    /// `load` from a synchronous context, which the tests' async functions may call.
    func loadForTests(epoch: UInt64, model: String) throws -> [(nonce: UInt64, artifact: [UInt8])] {
        try load(epoch: epoch, model: model)
    }
}

extension Node {
    /// This node's own PoC commit bodies of `epoch`.
    func ownCommitsForTests(epoch: UInt64) -> [PoCCommitBody] {
        (epochs?.engine.statements(epoch: epoch) ?? []).filter { $0.type == .pocCommit && $0.author == publicKey }
            .compactMap { try? $0.decodeBody(as: PoCCommitBody.self) }
    }
}
