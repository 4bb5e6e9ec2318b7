import ChorusCompute
import ChorusCrypto
import ChorusLoop
import ChorusMesh
import Foundation
import Testing
@testable import ChorusNode

/// Hostile proof traffic (Specs/proofs.md §6): a forged or malformed message costs the sender its
/// session; a properly signed request for a commit the node does not have is answered, not punished.
struct ProofHostileInputTests {
    static func node() async throws -> NodeHarnessForTests {
        let harness = try await NodeHarnessForTests()
        await harness.node.attachPoC(worker: WorkerLink(api: WorkerService(), endpoint: "in-process"), artifacts: nil)
        return harness
    }

    @Test func forgedRequestClosesTheSession() async throws {
        let a = try await Self.node()
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "proof-attacker")
        defer { loop.shutdown() }
        let attacker = try await RawPeerForTests.connect(to: a.address, loop: loop)
        var session = try await HostileInputTests.handshake(attacker, key: .generate())
        // Signed by a key that is not the session's identity.
        let forged = ProofRequest(requestID: 1, epoch: 1, model: "m", commit: .zero, indices: [0], networkID: NodeHarnessForTests.networkID, validator: .generate())
        for frame in try session.seal(message: [Node.proofTag] + ProofMessage.request(forged).encoded()) { attacker.write(frame) }
        #expect(await eventually { attacker.isClosed })
        #expect(a.logs.contains("disconnecting misbehaving peer", "signature that is not the peer's"))
        #expect(await a.node.status().poc?.proofs.forgedRequests == 1)
    }

    @Test func malformedMessageClosesTheSession() async throws {
        let a = try await Self.node()
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "proof-attacker")
        defer { loop.shutdown() }
        let attacker = try await RawPeerForTests.connect(to: a.address, loop: loop)
        var session = try await HostileInputTests.handshake(attacker)
        // A response claiming four billion proofs in three bytes.
        for frame in try session.seal(message: [Node.proofTag, 2, 1] + [UInt8](repeating: 0, count: 41) + [0xff, 0xff, 0xff, 0xff]) {
            attacker.write(frame)
        }
        #expect(await eventually { attacker.isClosed })
        #expect(a.logs.contains("disconnecting misbehaving peer", "malformed proof message"))
    }

    @Test func signedRequestForAnUnknownCommitIsAnsweredNotPunished() async throws {
        let a = try await Self.node()
        defer { Task { await a.shutdown() } }
        let key = Ed25519.SigningKey.generate()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), key: key)
        defer { Task { await b.shutdown() } }
        await b.node.attachPoC(worker: WorkerLink(api: WorkerService(), endpoint: "in-process"), artifacts: nil)
        #expect(await eventually { await b.node.connectedPeers.count == 1 })
        let response = await b.node.requestProofs(from: a.node.publicKey, epoch: 1, model: "m", commit: .zero, indices: [0, 1], timeout: .seconds(5))
        #expect(response?.status == .unknownCommit && response?.proofs.isEmpty == true)
        #expect(await a.node.connectedPeers.count == 1)
        #expect(await a.node.status().poc?.proofs.requestsUnknownCommit == 1)
    }
}
