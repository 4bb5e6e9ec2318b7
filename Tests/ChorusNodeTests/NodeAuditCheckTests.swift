import ChorusCompute
import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// A verify-only node with a worker re-checks proofs: three genesis participants on loopback run
/// one epoch with the built-in worker on a small synthetic model, one of them faking half of its
/// artifacts; an auditor beside them fetches its own sample of every commit's proofs over the
/// mesh, recomputes them on its worker, and reports its verdicts against the final table's.
@Suite(.serialized) struct NodeAuditCheckTests {
    @Test(.timeLimit(.minutes(2))) func auditorRecheckCatchesTheFakerAndAgreesWithTheTable() async throws {
        let keys = (0..<3).map { _ in Ed25519.SigningKey.generate() }
        let auditorKey = Ed25519.SigningKey.generate()
        let dirs = (0..<4).map { temporaryDirectory("recheck-\($0)") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        let service = WorkerService()
        let digest = try await service.loadModel(NodePoCTests.modelRequest).digest

        let nodes = try #require(try await NodeHarnessForTests.fullMesh(keys: keys + [auditorKey], directories: dirs, networkID: NodeHarnessForTests.networkID))
        let participants = Array(nodes.prefix(3))
        let auditor = nodes[3]
        defer { Task { for n in nodes { await n.shutdown() } } }

        var p = try NodePoCTests.parameters(participants: keys, digest: digest, genesisInMs: 2000)
        p.stages = StageDurations(generationMs: 3500, validationMs: 6000, tallyMs: 3000, inferenceMs: 1000, beaconRevealMs: 500)
        let faults = [PoCFaults(), PoCFaults(), try PoCFaults.parse(["fake-artifacts=0.5"], networkID: p.networkID)]
        for (i, n) in participants.enumerated() {
            let link = WorkerLink(api: service, endpoint: "in-process")
            let served = try await PoCModels.load([NodePoCTests.modelRequest], on: link, parameters: p)
            await n.node.attachPoC(worker: link, faults: faults[i], artifacts: try n.artifactStore(), proofTimeout: .milliseconds(1500))
            let seedByte = UInt8(i)
            await n.node.attachEpochs(EpochEngine(
                parameters: p, key: keys[i], configuration: .init(servedModels: served, commitIntervalMs: 1000, validationGraceMs: 1000),
                beaconSecret: { epoch in Blake2b.hash256([seedByte] + (0..<8).map { UInt8(truncatingIfNeeded: epoch >> (8 * $0)) }) }))
        }
        // The auditor: a worker with the model, no artifact table, the auditor engine (signs nothing).
        let auditorLink = WorkerLink(api: service, endpoint: "in-process")
        #expect(try await PoCModels.load([NodePoCTests.modelRequest], on: auditorLink, parameters: p) == [NodePoCTests.modelID])
        await auditor.node.attachPoC(worker: auditorLink, artifacts: nil, proofTimeout: .milliseconds(1500))
        let auditDir = dirs[3] + "/audit"
        await auditor.node.attachEpochs(Node.makeAuditorEngine(parameters: p, key: auditorKey), auditDirectory: auditDir)
        #expect(await auditor.node.status().role == "verify-only")

        // Epoch 1: generation 2-5.5 s, validation to 11.5 s (re-checks from 7.5 s), tally to 14.5 s after genesis was set.
        var report: AuditReport?
        #expect(await eventually(timeout: .seconds(30)) {
            guard let data = FileManager.default.contents(atPath: auditDir + "/epoch-1.json"),
                  let written = try? JSONDecoder().decode(AuditReport.self, from: data) else { return false }
            report = written
            return written.final && written.proofRechecks.count == 3 && written.proofRechecks.allSatisfy { $0.tableAccepted != nil }
        })
        let audit = try #require(report)
        for r in audit.proofRechecks {
            print("re-check of \(r.participant.prefix(8)): \(r.proofsVerified)/\(r.samples) proofs, \(r.mismatches ?? -1) mismatches, \(r.verdict ?? "-"), table \(r.tableAccepted.map { "\($0)" } ?? "-"), \(Int(r.durationMs)) ms")
        }
        #expect(audit.matches)
        func recheck(_ i: Int) -> ProofRecheck? { audit.proofRechecks.first { $0.participant == keys[i].publicKey.hex } }
        for i in 0..<2 {
            let honest = try #require(recheck(i))
            #expect(honest.verdict == "valid" && honest.mismatches == 0 && honest.samples > 0 && honest.proofsVerified == honest.samples)
            #expect(honest.tableAccepted == true && honest.agrees == true)
        }
        let faker = try #require(recheck(2))
        #expect(faker.verdict == "invalid" && (faker.mismatches ?? 0) > 0 && faker.outcome == "checked")
        #expect(faker.tableAccepted == false && faker.agrees == true)
        #expect(audit.divergences.isEmpty)
        // The sample is the auditor's own: its signature over the commit, which anyone can check.
        let commitID = try Bytes32(hex: faker.commit)
        _ = try LeafSampler.verify(proof: Ed25519.Signature(hex: faker.sampleProof), validator: auditorKey.publicKey,
                                   networkID: p.networkID, epoch: 1, commitID: commitID)
        let html = String(decoding: try #require(FileManager.default.contents(atPath: auditDir + "/epoch-1.html")), as: UTF8.self)
        #expect(html.contains("Proof re-checks") && html.contains("invalid"))

        // The auditor never signed anything: no vote, commit or certificate signature of its key.
        for n in participants {
            #expect(!(await n.node.epochs?.engine.statements(epoch: 1) ?? []).contains { $0.author == auditorKey.publicKey })
        }

        // A verdict the table contradicts is a divergence (here an invented one: honest node 0 judged invalid).
        let table = try #require(await participants[0].node.weights(1))
        var contradicted = try #require(recheck(0))
        contradicted.verdict = "invalid"
        contradicted.mismatches = contradicted.samples
        let divergent = AuditReport(epoch: 1, networkID: p.networkID, role: "verify-only", now: 0, own: table, previous: nil, certificate: nil,
                                    final: true, threshold: p.voteThreshold, statements: [], models: [], rechecks: [contradicted], finalTable: table)
        #expect(divergent.proofRechecks.first?.agrees == false)
        #expect(divergent.divergences.contains { $0.what.hasPrefix("proof re-check") && $0.certified == "accepted by the final table" })

        // After a restart the report's re-checks are carried from the file when memory has none.
        await auditor.node.forgetRechecksForTests(epoch: 1)
        let carried = await auditor.node.proofRechecks(epoch: 1, directory: auditDir)
        #expect(carried.map(\.commit).sorted() == audit.proofRechecks.map(\.commit).sorted())
    }
}

extension Node {
    /// Drops the in-memory re-checks of `epoch`, as a restart does.
    func forgetRechecksForTests(epoch: UInt64) {
        epochs?.rechecks.results[epoch] = nil
    }
}
