import ChorusCrypto
import Foundation
import Testing
@testable import ChorusMesh

private struct NoiseVector: Decodable {
    struct Transport: Decodable { let sender, plaintext, ciphertext: String }
    let networkId, initiatorEd25519Seed, initiatorStatic, initiatorEphemeral: String
    let responderEd25519Seed, responderStatic, responderEphemeral, initiatorExtensions, handshakeHash: String
    let messages: [String]
    let transport: [Transport]
}

private func secret(_ hex: String) -> SecretBytes { SecretBytes(try! Hex.decode(hex)) }

/// Builds both sides of a handshake from seeds.
private func parties(network: String = "chorus-devnet", responderNetwork: String? = nil, seed: UInt8 = 1,
                     initiatorIdentity: Ed25519.SigningKey? = nil) -> (NoiseHandshake, NoiseHandshake) {
    func key(_ k: UInt8) -> SecretBytes { SecretBytes([UInt8](repeating: seed &+ k, count: 32)) }
    let i = NoiseHandshake(role: .initiator, networkID: network,
                           identity: initiatorIdentity ?? (try! Ed25519.SigningKey(seed: key(1))),
                           localStatic: try! X25519.PrivateKey(secret: key(2)), ephemeral: try! X25519.PrivateKey(secret: key(3)))
    let r = NoiseHandshake(role: .responder, networkID: responderNetwork ?? network,
                           identity: try! Ed25519.SigningKey(seed: key(4)),
                           localStatic: try! X25519.PrivateKey(secret: key(5)), ephemeral: try! X25519.PrivateKey(secret: key(6)))
    return (i, r)
}

private func complete(_ i: inout NoiseHandshake, _ r: inout NoiseHandshake) throws -> (NoiseTransport, NoiseTransport) {
    try r.readMessage(i.writeMessage())
    try i.readMessage(r.writeMessage())
    try r.readMessage(i.writeMessage())
    return (try i.split(), try r.split())
}

@Suite struct NoiseHandshakeTests {
    /// The vector comes from an independent implementation (PyPI noiseprotocol + cryptography,
    /// Tools/interop/noise_vector.py): every byte must match.
    @Test func matchesTheIndependentImplementationByteForByte() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Specs/vectors/noise-xx.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let v = try decoder.decode(NoiseVector.self, from: Data(contentsOf: url))
        let ext = try Hex.decode(v.initiatorExtensions)
        var i = NoiseHandshake(role: .initiator, networkID: v.networkId,
                               identity: try Ed25519.SigningKey(seed: secret(v.initiatorEd25519Seed)),
                               localStatic: try X25519.PrivateKey(secret: secret(v.initiatorStatic)),
                               ephemeral: try X25519.PrivateKey(secret: secret(v.initiatorEphemeral)),
                               extensions: [(ext[0], Array(ext[3...]))])
        var r = NoiseHandshake(role: .responder, networkID: v.networkId,
                               identity: try Ed25519.SigningKey(seed: secret(v.responderEd25519Seed)),
                               localStatic: try X25519.PrivateKey(secret: secret(v.responderStatic)),
                               ephemeral: try X25519.PrivateKey(secret: secret(v.responderEphemeral)))
        let m1 = try i.writeMessage()
        #expect(Hex.encode(m1) == v.messages[0])
        try r.readMessage(m1)
        let m2 = try r.writeMessage()
        #expect(Hex.encode(m2) == v.messages[1])
        try i.readMessage(m2)
        let m3 = try i.writeMessage()
        #expect(Hex.encode(m3) == v.messages[2])
        try r.readMessage(m3)
        #expect(i.handshakeHash.hex == v.handshakeHash && r.handshakeHash.hex == v.handshakeHash)
        #expect(r.remoteProof?.listenAddress == "127.0.0.1:7000")
        var ti = try i.split(), tr = try r.split()
        for t in v.transport {
            let plaintext = try Hex.decode(t.plaintext)
            if t.sender == "initiator" {
                #expect(Hex.encode(try ti.send.encrypt(ad: [], plaintext: plaintext)) == t.ciphertext)
                #expect(try tr.receive.decrypt(ad: [], ciphertext: Hex.decode(t.ciphertext), message: 4) == plaintext)
            } else {
                #expect(Hex.encode(try tr.send.encrypt(ad: [], plaintext: plaintext)) == t.ciphertext)
                #expect(try ti.receive.decrypt(ad: [], ciphertext: Hex.decode(t.ciphertext), message: 4) == plaintext)
            }
        }
    }

    @Test func bothSidesLearnEachOthersIdentity() throws {
        var (i, r) = parties()
        let initiatorKey = try Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 2, count: 32)))
        let responderKey = try Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 5, count: 32)))
        let (ti, tr) = try complete(&i, &r)
        #expect(ti.remote.identity == responderKey.publicKey)
        #expect(tr.remote.identity == initiatorKey.publicKey)
        #expect(ti.handshakeHash == tr.handshakeHash)
        #expect(i.nextStep == .done && r.nextStep == .done)
    }

    @Test func anotherNetworkFailsAtMessageTwo() throws {
        var (i, r) = parties(network: "net-a", responderNetwork: "net-b")
        try r.readMessage(i.writeMessage())
        let m2 = try r.writeMessage()
        #expect(throws: NoiseError.decryptFailed(message: 2)) { try i.readMessage(m2) }
    }

    @Test func aProofThatDoesNotBindTheStaticKeyIsRefused() throws {
        // The responder signs its proof correctly; we corrupt the signature inside message 2's
        // plaintext by using a responder whose identity proof covers a different static key.
        let liar = try Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 9, count: 32)))
        let otherStatic = try X25519.PrivateKey(secret: SecretBytes([UInt8](repeating: 8, count: 32)))
        let badProof = IdentityProof.make(identity: liar, noiseStatic: otherStatic.publicKey)
        #expect(throws: NoiseError.self) { try IdentityProof.verify(badProof.encoded, noiseStatic: Bytes32([UInt8](repeating: 1, count: 32))!) }
        #expect(throws: NoiseError.self) { try IdentityProof.verify(Array(badProof.encoded.prefix(95)), noiseStatic: otherStatic.publicKey) }
        // And a handshake message 2 with a flipped byte anywhere fails cleanly.
        var (i2, r2) = parties()
        try r2.readMessage(i2.writeMessage())
        let m2 = try r2.writeMessage()
        for k in stride(from: 0, to: m2.count, by: 7) {
            var copy = i2
            var bad = m2
            bad[k] ^= 0x40
            #expect(throws: NoiseError.self) { try copy.readMessage(bad) }
        }
    }

    @Test func truncatedAndOutOfOrderMessagesAreTypedErrors() throws {
        var (i, r) = parties()
        #expect(throws: NoiseError.self) { try r.writeMessage() }
        #expect(throws: NoiseError.truncated(message: 1, needed: 32, got: 5)) { try r.readMessage([1, 2, 3, 4, 5]) }
        try r.readMessage(i.writeMessage())
        let m2 = try r.writeMessage()
        #expect(throws: NoiseError.self) { try i.readMessage(Array(m2.prefix(100))) }
        #expect(throws: NoiseError.self) { try i.split() }
    }
}

@Suite struct NoiseSessionTests {
    func sessions(maxMessage: Int = 4 << 20, rekeyAfter: UInt64 = 1 << 16) throws -> (NoiseSession, NoiseSession) {
        var (i, r) = parties(seed: 40)
        let (ti, tr) = try complete(&i, &r)
        return (NoiseSession(transport: ti, maxMessageSize: maxMessage, rekeyAfterMessages: rekeyAfter),
                NoiseSession(transport: tr, maxMessageSize: maxMessage, rekeyAfterMessages: rekeyAfter))
    }

    /// Sends through a FrameDecoder fed in `chunk`-byte pieces, as TCP may deliver them.
    func transfer(_ frames: [[UInt8]], to receiver: inout NoiseSession, chunk: Int = 4096) throws -> [NoiseSession.Event] {
        var decoder = FrameDecoder()
        var events: [NoiseSession.Event] = []
        let wire = frames.flatMap { $0 }
        var offset = 0
        while offset < wire.count {
            let end = min(offset + chunk, wire.count)
            for frame in try decoder.feed(Array(wire[offset..<end])) {
                if let e = try receiver.open(frame: frame) { events.append(e) }
            }
            offset = end
        }
        #expect(decoder.bufferedBytes == 0)
        return events
    }

    @Test(arguments: [0, 1, NoiseSession.maxFragment, NoiseSession.maxFragment + 1, 200_000, 4 << 20])
    func messagesOfAnySizeRoundTrip(size: Int) throws {
        var (a, b) = try sessions()
        let message = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let frames = try a.seal(message: message)
        #expect(frames.allSatisfy { $0.count <= 65537 })
        #expect(try transfer(frames, to: &b) == [.message(message[...])])
    }

    @Test func oneByteChunksStillDecode() throws {
        var (a, b) = try sessions()
        let frames = try a.seal(message: Array("hello over a slow link".utf8)) + [try a.sealPing(7)]
        #expect(try transfer(frames, to: &b, chunk: 1) == [.message(Array("hello over a slow link".utf8)[...]), .ping(7)])
    }

    @Test func pingPongAndClose() throws {
        var (a, b) = try sessions()
        #expect(try transfer([a.sealPing(0xdead_beef)], to: &b) == [.ping(0xdead_beef)])
        #expect(try transfer([b.sealPong(0xdead_beef)], to: &a) == [.pong(0xdead_beef)])
        #expect(try transfer([a.sealClose(code: 4, reason: "shutting down")], to: &b) == [.close(code: 4, reason: "shutting down")])
    }

    @Test func oversizeMessagesAreRefusedBothWays() throws {
        var (a, _) = try sessions(maxMessage: 100_000)
        #expect(throws: NoiseError.self) { try a.seal(message: [UInt8](repeating: 0, count: 100_001)) }
        var (big, _) = try sessions(maxMessage: 4 << 20)
        var tight = NoiseSession(transport: try { var (i, r) = parties(seed: 40); return try complete(&i, &r).1 }(),
                                 maxMessageSize: 100_000)
        let frames = try big.seal(message: [UInt8](repeating: 1, count: 200_000))
        #expect(throws: NoiseError.self) { _ = try transfer(frames, to: &tight) }
    }

    @Test func rekeyKeepsBothSidesInStep() throws {
        var (a, b) = try sessions(rekeyAfter: 100)
        for k in 0..<1050 {
            let m = [UInt8(k & 0xff), UInt8(k >> 8)]
            #expect(try transfer(a.seal(message: m), to: &b) == [.message(m[...])])
            if k % 3 == 0 { #expect(try transfer(b.seal(message: m), to: &a) == [.message(m[...])]) }
        }
        #expect(a.rekeys.sent == 10 && b.rekeys.received == 10)
        #expect(b.rekeys.sent == 3 && a.rekeys.received == 3)
    }

    @Test func aTamperedOrReplayedFrameFails() throws {
        var (a, b) = try sessions()
        let frame = try a.seal(message: [1, 2, 3])[0]
        var bad = Array(frame.dropFirst(2))
        bad[3] ^= 1
        #expect(throws: NoiseError.self) { try b.open(frame: bad) }
        let good = Array(frame.dropFirst(2))
        #expect(try b.open(frame: good) == .message([1, 2, 3]))
        #expect(throws: NoiseError.self) { try b.open(frame: good) }  // replay: the nonce moved on
    }
}
