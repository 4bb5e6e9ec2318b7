import ChorusCrypto
import ChorusLoop
import Foundation
import Synchronization
import Testing
@testable import ChorusMesh
@testable import ChorusNode

/// Every hostile case of Specs/transport.md §6 against a real node: each ends in a closed
/// connection with a logged reason and a counter, and the node keeps serving an honest peer.
@Suite(.serialized) struct HostileInputTests {
    /// A node under attack with an honest peer connected, and a loop for the attacker's sockets.
    struct Arena {
        let target: NodeHarnessForTests
        let honest: NodeHarnessForTests
        let attackerLoop: EventLoop

        static func make(configuration: NodeConfiguration = NodeHarnessForTests.testConfiguration()) async throws -> Arena {
            let target = try await NodeHarnessForTests(configuration: configuration)
            let honest = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [target.address]))
            _ = await eventually { await target.node.connectedPeers.count == 1 }
            return Arena(target: target, honest: honest, attackerLoop: try EventLoop(name: "attacker"))
        }

        func attacker() async throws -> RawPeerForTests {
            try await RawPeerForTests.connect(to: target.address, loop: attackerLoop)
        }

        /// The honest session survived: still connected and answering pings.
        func honestPeerStillServed() async throws -> Bool {
            let rtt = try await honest.node.ping(target.key.publicKey)
            let peers = await target.node.connectedPeers
            return rtt > .zero && peers.contains(honest.key.publicKey)
        }

        func close() async {
            await target.shutdown()
            await honest.shutdown()
            attackerLoop.shutdown()
        }
    }

    /// An initiator handshake of a well-behaved client with its own identity.
    static func initiator(network: String = NodeHarnessForTests.networkID, key: Ed25519.SigningKey = .generate()) -> NoiseHandshake {
        NoiseHandshake(role: .initiator, networkID: network, identity: key, localStatic: .generate(), ephemeral: .generate())
    }

    /// Completes a real handshake with the target and returns the session.
    static func handshake(_ peer: RawPeerForTests, maxMessageSize: Int = 4 << 20,
                          key: Ed25519.SigningKey = .generate(), network: String = NodeHarnessForTests.networkID) async throws -> NoiseSession {
        var handshake = initiator(network: network, key: key)
        peer.write(FrameDecoder.frame(try handshake.writeMessage()))
        try handshake.readMessage(try await peer.nextFrame())
        peer.write(FrameDecoder.frame(try handshake.writeMessage()))
        return NoiseSession(transport: try handshake.split(), maxMessageSize: maxMessageSize)
    }

    func expectClosed(_ arena: Arena, _ peer: RawPeerForTests, code: String, logged fragment: String,
                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(await eventually { await arena.target.counter(code) >= 1 }, "counter \(code)", sourceLocation: sourceLocation)
        #expect(await eventually { peer.isClosed }, "connection closed", sourceLocation: sourceLocation)
        #expect(arena.target.logs.contains("closed connection", fragment), "logged \(fragment)", sourceLocation: sourceLocation)
        #expect(try await arena.honestPeerStillServed(), sourceLocation: sourceLocation)
    }

    @Test func randomBytes() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        let peer = try await arena.attacker()
        var rng = SystemRandomNumberGenerator()
        // A plausible length prefix (so the frame is read), then noise where message 3 should be.
        var junk: [UInt8] = [0x00, 0x60] + (0..<96).map { _ in UInt8.random(in: 0...255, using: &rng) }
        junk += [0x00, 0xa0] + (0..<160).map { _ in UInt8.random(in: 0...255, using: &rng) }
        peer.write(junk)
        try await expectClosed(arena, peer, code: "handshake_failed", logged: "handshake failed")
    }

    @Test func truncatedHandshakeMessage() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        let peer = try await arena.attacker()
        peer.write(FrameDecoder.frame([UInt8](repeating: 7, count: 10)))  // message 1 needs 32 bytes
        try await expectClosed(arena, peer, code: "handshake_failed", logged: "truncated")
    }

    @Test func wrongPrologueFromAnotherNetwork() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        // The target dials a responder of another network; it cannot authenticate message 2.
        let accepted = LoopBoundBox<RawPeerForTests>()
        let listener = try await arena.attackerLoop.run { () throws -> LoopBound<TCPListener> in
            let listener = try TCPListener(bindingTo: .loopbackIPv4(port: 0), on: arena.attackerLoop) { connection in
                let peer = RawPeerForTests.accepted(connection, loop: arena.attackerLoop)
                accepted.set(peer)
                Task {
                    var responder = NoiseHandshake(role: .responder, networkID: "other-net", identity: .generate(),
                                                   localStatic: .generate(), ephemeral: .generate())
                    guard let first = try? await peer.nextFrame(), (try? responder.readMessage(first)) != nil,
                          let second = try? responder.writeMessage() else { return }
                    peer.write(FrameDecoder.frame(second))
                }
            }
            return LoopBound(listener, loop: arena.attackerLoop)
        }
        let port = try await arena.attackerLoop.run { listener.value.localAddress.port }
        try await arena.target.node.addPeers(["127.0.0.1:\(port)"])
        #expect(await eventually { accepted.get() != nil })
        let peer = try #require(accepted.get())
        try await expectClosed(arena, peer, code: "handshake_failed", logged: "failed authentication")
    }

    @Test func badIdentitySignature() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        let peer = try await arena.attacker()
        // The proof signs some other Noise key than the one this handshake uses.
        let staticKey = X25519.PrivateKey.generate()
        let forged = IdentityProof.make(identity: .generate(), noiseStatic: X25519.PrivateKey.generate().publicKey).encoded
        var handshake = NoiseHandshake(role: .initiator, networkID: NodeHarnessForTests.networkID, localStatic: staticKey,
                                       ephemeral: .generate(), proofPayload: forged)
        peer.write(FrameDecoder.frame(try handshake.writeMessage()))
        try handshake.readMessage(try await peer.nextFrame())
        peer.write(FrameDecoder.frame(try handshake.writeMessage()))
        try await expectClosed(arena, peer, code: "handshake_failed", logged: "bad identity proof")
    }

    @Test func oversizedLengths() async throws {
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.maxMessageSize = 64 << 10
        let arena = try await Arena.make(configuration: configuration)
        defer { Task { await arena.close() } }
        // During the handshake: a frame announcing 65535 bytes is refused before it is read.
        let first = try await arena.attacker()
        first.write([0xff, 0xff, 1, 2, 3])
        try await expectClosed(arena, first, code: "handshake_failed", logged: "frame of 65535 bytes exceeds the limit of 4096")
        // In a session: a message reassembled beyond the node's maximum.
        let second = try await arena.attacker()
        var session = try await Self.handshake(second, maxMessageSize: 1 << 20)
        for frame in try session.seal(message: [UInt8](repeating: 1, count: 100 << 10)) { second.write(frame) }
        try await expectClosed(arena, second, code: "protocol_violation", logged: "exceeds the limit of 65536")
    }

    /// Not hostile, but the case the frame limit must not break: a peer that sends a large first
    /// message in the same segment as handshake message 3.
    @Test func firstMessagePipelinedWithHandshakeMessage3IsAccepted() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        let received = LoopBoundBox<Int>()
        await arena.target.node.setHandler(for: 9) { _, bytes in received.set(bytes.count) }
        let peer = try await arena.attacker()
        var handshake = Self.initiator()
        peer.write(FrameDecoder.frame(try handshake.writeMessage()))
        try handshake.readMessage(try await peer.nextFrame())
        var wire = FrameDecoder.frame(try handshake.writeMessage())
        var session = NoiseSession(transport: try handshake.split())
        for frame in try session.seal(message: [9] + [UInt8](repeating: 7, count: 60_000)) { wire += frame }
        peer.write(wire)
        #expect(await eventually { received.get() == 60_000 })
        #expect(!peer.isClosed)
    }

    @Test func aSilentSessionHitsTheIdleTimeout() async throws {
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.idleTimeout = .milliseconds(400)
        let arena = try await Arena.make(configuration: configuration)
        defer { Task { await arena.close() } }
        let peer = try await arena.attacker()
        _ = try await Self.handshake(peer)  // then never answers anything, not even pings
        try await expectClosed(arena, peer, code: "idle_timeout", logged: "idle timeout")
    }

    /// Pings without ever reading the pongs: pongs once bypassed the send queue and RSS grew from
    /// 33 to 559 MB in 38 s. Now the unsent bytes stay near the send high watermark.
    @Test func pingsFromAPeerThatNeverReadsAreNotAnsweredWithoutBound() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        let peer = try await arena.attacker()
        var session = try await Self.handshake(peer)
        #expect(await eventually { await arena.target.node.connectedPeers.count == 2 })
        peer.stopReading()
        // ~13 MB of pongs would be owed if every one were answered (500,000 frames of 27 bytes):
        // more than the kernel's socket buffers take, so the rest would pile up in the node.
        for burst in 0..<250 {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(2000 * 27)
            for k in 0..<2000 { bytes += try session.sealPing(UInt64(burst * 2000 + k)) }
            peer.write(bytes)
        }
        #expect(await eventually {
            let info = await arena.target.node.peers().first { $0.publicKey != arena.honest.key.publicKey.hex }
            return (info?.pongsWithheld ?? 0) > 0
        })
        let info = try #require(await arena.target.node.peers().first { $0.publicKey != arena.honest.key.publicKey.hex })
        #expect(info.unsentBytes <= 512 * 1024, "\(info.unsentBytes) bytes unsent")
        #expect(try await arena.honestPeerStillServed())
    }

    @Test func ciphertextThatFailsToDecrypt() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        let peer = try await arena.attacker()
        _ = try await Self.handshake(peer)
        #expect(await eventually { await arena.target.node.connectedPeers.count == 2 })
        peer.write(FrameDecoder.frame((0..<64).map { UInt8($0) }))
        try await expectClosed(arena, peer, code: "protocol_violation", logged: "failed authentication")
    }

    @Test func oneBytePerSecondHitsTheHandshakeTimeout() async throws {
        let arena = try await Arena.make()  // handshake timeout: 1 s in tests (5 s by default)
        defer { Task { await arena.close() } }
        let peer = try await arena.attacker()
        var handshake = Self.initiator()
        let message = FrameDecoder.frame(try handshake.writeMessage())
        let dripping = Task {
            for byte in message where !peer.isClosed {
                peer.write([byte])
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        try await expectClosed(arena, peer, code: "handshake_timeout", logged: "handshake timeout")
        dripping.cancel()
    }

    @Test func thousandsOfConnectionAttempts() async throws {
        let arena = try await Arena.make()
        defer { Task { await arena.close() } }
        var peers: [RawPeerForTests] = []
        for round in 0..<20 {
            // 100 connections per round that never speak: they hold slots until the handshake timeout.
            try await withThrowingTaskGroup(of: RawPeerForTests?.self) { group in
                for _ in 0..<100 { group.addTask { try? await arena.attacker() } }
                for try await peer in group { if let peer { peers.append(peer) } }
            }
            if round % 5 == 4 { #expect(try await arena.honestPeerStillServed()) }
            if round % 2 == 1 { peers.forEach { $0.close() }; peers.removeAll() }
        }
        peers.forEach { $0.close() }
        // Silent connections are evicted by newer ones once 32 handshakes wait (Specs/transport.md §5),
        // so the flood never holds a slot an honest handshake needs.
        let counters = await arena.target.node.currentCounters
        #expect(counters.closes["handshake_timeout", default: 0] > 1000)
        #expect(try await arena.honestPeerStillServed())
        // Once the flood is gone, new honest connections are accepted again.
        let late = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [arena.target.address]))
        #expect(await eventually(timeout: .seconds(5)) { await late.node.connectedPeers == [arena.target.key.publicKey] })
        await late.shutdown()
    }
}

/// A slot a loop callback fills and a test reads (guarded by a lock).
final class LoopBoundBox<Value: Sendable>: Sendable {
    private let slot = Mutex<Value?>(nil)
    func set(_ value: Value) { slot.withLock { $0 = value } }
    func get() -> Value? { slot.withLock { $0 } }
}
