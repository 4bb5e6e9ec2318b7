import ChorusCrypto
import ChorusProtocol
import ChorusWorkerAPI
import Foundation
import Testing
@testable import ChorusNode

/// The node's worker calls always end: a hung worker is reported unhealthy within the deadline
/// (and visible in the node's status), and the next call that works makes it healthy again.
struct WorkerLinkTests {
    @Test func aHungWorkerIsMarkedUnhealthyAndRecovers() async throws {
        let double = HangingWorkerForTests()
        // Long enough that a working call never misses it on a machine running every suite at once
        // (0.3 s once did); the hung call waits it out.
        let link = WorkerLink(api: double, endpoint: "test-double", timeout: .seconds(2))
        _ = try await link.call("load") { try await $0.loadModel(NodePoCTests.modelRequest) }
        let request = PoCJobRequest(model: NodePoCTests.modelID, seed: Bytes32.zero.hex, participant: Bytes32.zero.hex,
                                    params: PoCParamsMessage(seqLen: 4))
        let started = ContinuousClock.now
        do {
            _ = try await link.call("start PoC job") { try await $0.startJob(request) }
            Issue.record("a hung call returned")
        } catch {
            #expect(error == .timedOut("start PoC job", .seconds(2)))
        }
        #expect(started.duration(to: .now) < .seconds(10))
        #expect(!link.health.healthy && link.health.failures == 1 && link.health.lastError?.contains("did not answer") == true)

        let harness = try await NodeHarnessForTests()
        await harness.node.attachPoC(worker: link, artifacts: nil)
        let status = try #require(await harness.node.status().poc)
        #expect(!status.worker.healthy && status.worker.endpoint == "test-double")
        await harness.shutdown()

        double.hanging.store(false, ordering: .relaxed)
        let job = try await link.call("start PoC job") { try await $0.startJob(request) }
        #expect(link.health.healthy)
        _ = try await link.call("delete") { try await $0.deleteJob(job.id) }
    }

    @Test func faultsAreForDevnetsOnly() throws {
        #expect(throws: PoCFaultError.notDevnet("chorus-mainnet")) { try PoCFaults.parse(["withhold-proofs"], networkID: "chorus-mainnet") }
        #expect(try PoCFaults.parse([], networkID: "chorus-mainnet").isEmpty)
        let faults = try PoCFaults.parse(["fake-artifacts=0.25", "withhold-proofs", "random-votes", "never-reveal", "inflate-counts", "equivocate"],
                                         networkID: "x-devnet")
        #expect(faults.fakeArtifacts == 0.25 && faults.withholdProofs && faults.randomVotes && faults.neverReveal)
        #expect(faults.commits == CommitFaults(inflateCounts: true, equivocate: true))
        #expect(faults.names == ["fake-artifacts=0.25", "withhold-proofs", "random-votes", "never-reveal", "inflate-counts", "equivocate"])
        #expect(throws: PoCFaultError.notDevnet("chorus-mainnet")) { try PoCFaults.parse(["equivocate"], networkID: "chorus-mainnet") }
        for bad in ["fake-artifacts=0", "fake-artifacts=2", "fake-artifacts", "withhold-proofs=1", "inflate-counts=2", "equivocate=1", "nonsense"] {
            #expect(throws: PoCFaultError.self) { try PoCFaults.parse([bad], networkID: "x-devnet") }
        }
    }
}
