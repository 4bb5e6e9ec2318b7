import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusWire
import Foundation
import Testing
@testable import ChorusNode

/// Signed peer records on a real node: a hostile peer (a raw Noise session driven by the test)
/// offers genuine, replayed, older, forged and private-address records in its peer-exchange
/// requests; only the genuine, newer ones are filed, and forgeries cost the relay its score.
@Suite(.serialized) struct NodePeerRecordTests {
    static func record(_ key: Ed25519.SigningKey, seq: UInt64, address: String = "127.0.0.1:40001") throws -> PeerRecord {
        try PeerRecord(signingWith: key, networkID: NodeHarnessForTests.networkID, seq: seq, issuedAtMs: Node.unixMilliseconds(), role: .verifyOnly,
                       addresses: [try NetAddress(parsing: address)], models: [])
    }

    /// The harness's settings with a handshake deadline that survives a loaded machine (the raw
    /// peer's handshake is driven by the test, which may be scheduled late).
    static func patientConfiguration() -> NodeConfiguration {
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.connections.handshakeTimeout = .seconds(30)
        return configuration
    }

    static func send(_ message: PeerExchangeMessage, over session: inout NoiseSession, to peer: RawPeerForTests) throws {
        for frame in try session.seal(message: [Node.peerExchangeTag] + message.encoded()) { peer.write(frame) }
    }

    @Test func forgedAndReplayedRecordsAreRefusedAndForgeriesCostTheRelayItsScore() async throws {
        let a = try await NodeHarnessForTests(configuration: Self.patientConfiguration())
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "record-peer")
        defer { loop.shutdown() }
        let mallory = Ed25519.SigningKey.generate()
        let peer = try await RawPeerForTests.connect(to: a.address, loop: loop)
        var session = try await HostileInputTests.handshake(peer, key: mallory)
        #expect(await eventually(timeout: .seconds(30)) { await a.node.connectedPeers.contains(mallory.publicKey) })

        let genuine = try Self.record(mallory, seq: 5)
        try Self.send(.request(own: genuine), over: &session, to: peer)
        #expect(await eventually(timeout: .seconds(30)) { await a.node.currentCounters.recordsAccepted == 1 })
        let filed = try NetAddress(parsing: "127.0.0.1:40001")
        #expect(await a.node.addressBook.entry(filed)?.identity == mallory.publicKey)

        try Self.send(.request(own: genuine), over: &session, to: peer)                          // replayed
        try Self.send(.request(own: try Self.record(mallory, seq: 4, address: "127.0.0.1:40002")), over: &session, to: peer)  // older
        #expect(await eventually(timeout: .seconds(30)) { await a.node.currentCounters.recordsStale == 2 })
        #expect(await a.node.addressBook.entry(try NetAddress(parsing: "127.0.0.1:40002")) == nil)
        #expect(await a.node.peerRecords.record(for: mallory.publicKey)?.seq == 5)

        // Someone else's record passed off as the asker's own, and a record whose seq was raised
        // after signing: both forged; the relay's gossip score falls.
        let scoreBefore = await a.node.router.score(mallory.publicKey)
        try Self.send(.request(own: try Self.record(.generate(), seq: 1, address: "127.0.0.1:40003")), over: &session, to: peer)
        var bytes = try Self.record(mallory, seq: 9, address: "127.0.0.1:40004").encoded()
        bytes[1 + 4 + NodeHarnessForTests.networkID.utf8.count + 32] ^= 0x10
        try Self.send(.request(own: try PeerRecord(decoding: bytes[...])), over: &session, to: peer)
        #expect(await eventually(timeout: .seconds(30)) { await a.node.currentCounters.recordsForged == 2 })
        #expect(await a.node.router.score(mallory.publicKey) < scoreBefore)
        #expect(await a.node.router.score(mallory.publicKey) < 0)
        #expect(await a.node.addressBook.entry(try NetAddress(parsing: "127.0.0.1:40003")) == nil)
        #expect(await a.node.addressBook.entry(try NetAddress(parsing: "127.0.0.1:40004")) == nil)
        #expect(await a.node.peerRecords.record(for: mallory.publicKey)?.seq == 5)
    }

    @Test func privateAddressesAreRefusedOnANetworkThatDoesNotAllowThem() async throws {
        var strict = Self.patientConfiguration()
        strict.allowPrivateAddresses = false
        let a = try await NodeHarnessForTests(configuration: strict)
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "record-peer")
        defer { loop.shutdown() }
        let key = Ed25519.SigningKey.generate()
        let peer = try await RawPeerForTests.connect(to: a.address, loop: loop)
        var session = try await HostileInputTests.handshake(peer, key: key)
        try Self.send(.request(own: try Self.record(key, seq: 1, address: "192.168.7.7:7700")), over: &session, to: peer)
        #expect(await eventually(timeout: .seconds(30)) { await a.node.currentCounters.recordsRefused == 1 })
        #expect(await a.node.addressBook.entry(try NetAddress(parsing: "192.168.7.7:7700")) == nil)
        // A public address from the same peer is fine.
        try Self.send(.request(own: try Self.record(key, seq: 2, address: "203.0.113.77:7700")), over: &session, to: peer)
        #expect(await eventually(timeout: .seconds(30)) { await a.node.currentCounters.recordsAccepted == 1 })
        #expect(await a.node.addressBook.entry(try NetAddress(parsing: "203.0.113.77:7700"))?.identity == key.publicKey)
        #expect(!peer.isClosed)
    }

    @Test func ownRecordSeqRisesAcrossRestartsAndAnchorsAreKept() async throws {
        let dir = temporaryDirectory("records")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = Ed25519.SigningKey.generate()
        let b = try await NodeHarnessForTests()
        defer { Task { await b.shutdown() } }
        var a: NodeHarnessForTests? = try await NodeHarnessForTests(
            configuration: NodeHarnessForTests.testConfiguration(seeds: [b.address]), key: key, storeDirectory: dir)
        let first = try #require(await a!.node.ownRecord)
        #expect(first.hasValidSignature && first.publicKey == key.publicKey)
        #expect(first.addresses.map(\.description) == [a!.address])
        #expect(await eventually(timeout: .seconds(30)) { await a!.node.connectedPeers == [b.key.publicKey] })
        // b learned a's record from a's request.
        #expect(await eventually(timeout: .seconds(30)) { await b.node.peerRecords.record(for: key.publicKey)?.seq == first.seq })
        await a!.shutdown()
        a = nil
        // Restarted without seeds: the record's seq rises, and b (the saved anchor) is dialed again.
        a = try await NodeHarnessForTests(key: key, storeDirectory: dir)
        let second = try #require(await a!.node.ownRecord)
        #expect(second.seq > first.seq)
        #expect(a!.logs.contains("dialing anchors first", "count=1"))
        #expect(await eventually(timeout: .seconds(30)) { await a!.node.connectedPeers == [b.key.publicKey] })
        await a!.shutdown()
    }
}
