import ChorusCrypto
import ChorusMesh
import ChorusWire

/// Fixed keys: deterministic, so a crash input replays identically.
enum FuzzKeys {
    static func bytes(_ hex: String) -> [UInt8] { (try? Hex.decode(hex)) ?? [] }
    static func signing(_ hex: String) -> Ed25519.SigningKey {
        // The seeds are constants: this cannot fail.
        try! Ed25519.SigningKey(seed: SecretBytes(bytes(hex)))
    }
    static func x25519(_ hex: String) -> X25519.PrivateKey { try! X25519.PrivateKey(secret: SecretBytes(bytes(hex))) }

    /// The keys of Specs/vectors/noise-xx.json, so that its messages are valid seeds.
    static let networkID = "chorus-devnet"
    static let initiatorIdentity = signing("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    static let initiatorStatic = x25519("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")
    static let initiatorEphemeral = x25519("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f")
    static let responderIdentity = signing("606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f")
    static let responderStatic = x25519("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let responderEphemeral = x25519("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf")
    static let initiatorExtensions: [(type: UInt8, value: [UInt8])] = [(1, Array("127.0.0.1:7000".utf8))]

    /// The key fuzzed SWIM datagrams and statements are signed with (seed 01…01, as in the vectors).
    static let signer = signing(String(repeating: "01", count: 32))
}

/// Handshake states at each step, computed once (value types: each input gets a fresh copy).
struct HandshakeStates: Sendable {
    /// A fresh responder, about to read message 1.
    let responderAtMessage1: NoiseHandshake
    /// An initiator that wrote message 1, about to read message 2.
    let initiatorAtMessage2: NoiseHandshake
    /// A responder that read message 1 and wrote message 2, about to read message 3.
    let responderAtMessage3: NoiseHandshake
    /// The initiator's send cipher and the responder's session after a completed handshake.
    let initiatorSend: NoiseCipherState
    let responderTransport: NoiseTransport

    static let shared: HandshakeStates = {
        var initiator = NoiseHandshake(role: .initiator, networkID: FuzzKeys.networkID, identity: FuzzKeys.initiatorIdentity,
                                       localStatic: FuzzKeys.initiatorStatic, ephemeral: FuzzKeys.initiatorEphemeral,
                                       extensions: FuzzKeys.initiatorExtensions)
        var responder = NoiseHandshake(role: .responder, networkID: FuzzKeys.networkID, identity: FuzzKeys.responderIdentity,
                                       localStatic: FuzzKeys.responderStatic, ephemeral: FuzzKeys.responderEphemeral)
        let fresh = responder
        // The handshake of fixed keys succeeds (it is the vector's): a failure is a broken build.
        let m1 = try! initiator.writeMessage()
        let atMessage2 = initiator
        try! responder.readMessage(m1)
        let m2 = try! responder.writeMessage()
        let atMessage3 = responder
        try! initiator.readMessage(m2)
        let m3 = try! initiator.writeMessage()
        try! responder.readMessage(m3)
        return HandshakeStates(responderAtMessage1: fresh, initiatorAtMessage2: atMessage2, responderAtMessage3: atMessage3,
                               initiatorSend: try! initiator.split().send, responderTransport: try! responder.split())
    }()
}

enum WireTargets {
    /// Feeds the input in chunks (size from the first byte) to a decoder; the frames it returns,
    /// re-framed, must be exactly the bytes it consumed. A second decoder with the handshake's small
    /// limit checks that an oversized length is refused.
    static func frame(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let chunkSize = Int(first % 32) + 1
        var decoder = FrameDecoder()
        var small = FrameDecoder(maxFrameLength: Int(first) * 4)
        var frames: [[UInt8]] = []
        var smallFailed = false
        var offset = 0
        do {
            while offset < data.count {
                let end = min(offset + chunkSize, data.count)
                let chunk = Array(data[offset..<end])
                frames += try decoder.feed(chunk)
                if !smallFailed {
                    do {
                        for f in try small.feed(chunk) { check(f.count <= Int(first) * 4, "frame over the limit returned") }
                    } catch { smallFailed = true }
                }
                offset = end
            }
        } catch {
            return  // a FrameDecoder with the 65535 limit cannot refuse a 2-byte length; if it does, it is a clean error
        }
        let consumed = data.count - decoder.bufferedBytes
        check(consumed >= 0 && consumed <= data.count, "buffered more than fed")
        let reframed = frames.flatMap { FrameDecoder.frame($0) }
        check(reframed == Array(data[..<consumed]), "frames do not re-frame to the consumed bytes")
        check(decoder.bufferedBytes < 2 + 65535, "more than one partial frame buffered")
    }

    /// First byte selects the handshake state (0: responder reads message 1, 1: initiator reads
    /// message 2, 2: responder reads message 3); the rest is the message.
    static func noiseHandshake(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let message = Array(data.dropFirst())
        let states = HandshakeStates.shared
        switch first % 3 {
        case 0:
            var h = states.responderAtMessage1
            do {
                try h.readMessage(message)
                check(h.nextStep == .write, "responder did not move to message 2")
                _ = try h.writeMessage()
            } catch {}
        case 1:
            var h = states.initiatorAtMessage2
            do {
                try h.readMessage(message)
                check(h.remoteProof != nil, "message 2 accepted without an identity proof")
                _ = try h.writeMessage()
                _ = try h.split()
            } catch {}
        default:
            var h = states.responderAtMessage3
            do {
                try h.readMessage(message)
                check(h.remoteProof != nil, "message 3 accepted without an identity proof")
                _ = try h.split()
            } catch {}
        }
    }

    /// A proof whose key and signature are valid for a fixed Noise static key; the input is the
    /// extension bytes (the part a fuzzer cannot reach through the signature otherwise).
    static let proofPrefix: (prefix: [UInt8], noiseStatic: Bytes32) = {
        let proof = IdentityProof.make(identity: FuzzKeys.initiatorIdentity, noiseStatic: FuzzKeys.initiatorStatic.publicKey)
        return (proof.encoded, FuzzKeys.initiatorStatic.publicKey)
    }()

    static func identityProof(_ data: [UInt8]) {
        let payload = proofPrefix.prefix + data
        guard let proof = try? IdentityProof.verify(payload, noiseStatic: proofPrefix.noiseStatic) else { return }
        check(proof.encoded == payload, "identity proof does not re-encode to its payload")
        _ = proof.listenAddress
        if let claim = proof.networkParameters {
            check(NetworkParametersClaim(encoded: claim.encoded) == claim, "network parameters claim does not round-trip")
        }
    }

    /// The input is a sequence of plaintext transport messages, each `length (1 byte) ‖ plaintext`
    /// (the plaintext's first byte is the session header). Each is encrypted with the sending side's
    /// key, as a peer with a valid session could, and opened by the receiving session (small limits,
    /// frequent rekeying). Whole messages must equal the data fragments that made them.
    static func noiseSession(_ data: [UInt8]) {
        let states = HandshakeStates.shared
        var send = states.initiatorSend
        let rekeyEvery: UInt64 = 5
        var session = NoiseSession(transport: states.responderTransport, maxMessageSize: 600, rekeyAfterMessages: rekeyEvery)
        var sent: UInt64 = 0
        var expected: [UInt8] = []
        var i = 0
        while i < data.count {
            let length = Int(data[i])
            i += 1
            let end = min(i + length, data.count)
            let plaintext = Array(data[i..<end])
            i = end
            var frame = plaintext + [UInt8](repeating: 0, count: 16)
            do { try send.encryptInPlace(&frame, range: 0..<plaintext.count) } catch { return }
            sent += 1
            if sent >= rekeyEvery {
                send.rekey()
                sent = 0
            }
            if let header = plaintext.first, header & 0x7f == 0 { expected += plaintext.dropFirst() }
            let event: NoiseSession.Event?
            do { event = try session.open(frame: frame) } catch { return }
            switch event {
            case let .message(body)?:
                check(Array(body) == expected, "reassembled message differs from its fragments")
                expected = []
            case let .close(_, reason)?:
                check(reason.unicodeScalars.count <= plaintext.count, "close reason longer than the frame")
            default:
                break
            }
        }
        // Finally the raw input as a frame: it must fail authentication, never trap.
        var raw = session
        _ = try? raw.open(frame: data)
    }

    static func gossipRPC(_ data: [UInt8]) {
        guard let rpc = try? GossipRPC(decoding: data[...], maxPayload: 1 << 16) else { return }
        check(rpc.encoded() == data, "gossip RPC does not re-encode to its bytes")
    }

    static func syncMessage(_ data: [UInt8]) {
        guard let message = try? SyncMessage(decoding: data[...], maxStatement: 1 << 16) else { return }
        check(message.encoded() == data, "sync message does not re-encode to its bytes")
    }

    static func peerRecord(_ data: [UInt8]) {
        guard let record = try? PeerRecord(decoding: data[...]) else { return }
        check(record.encoded() == data, "peer record does not re-encode to its bytes")
        check(record.signedBody.count + Ed25519.signatureLength == data.count, "signed body is not the record less its signature")
    }

    static func peerExchange(_ data: [UInt8]) {
        guard let message = try? PeerExchangeMessage(decoding: data[...]) else { return }
        check(message.encoded() == data, "peer exchange message does not re-encode to its bytes")
    }

    static let swimNetworkID = "test-net"

    /// First byte 0: the rest is a whole datagram (signature included) and goes in as is. Otherwise
    /// the rest is a datagram up to its signature: the sender field is replaced by a fixed key, which
    /// signs it, so that the fuzzer reaches the message decoder behind the signature check.
    static func swimDatagram(_ data: [UInt8]) {
        guard let first = data.first else { return }
        if first == 0 {
            _ = try? SWIMDatagram(verifying: Array(data.dropFirst()), networkID: swimNetworkID)
            return
        }
        var unsigned = Array(data.dropFirst())
        guard unsigned.count >= 1 + 32 + 8 + 1 else { return }
        unsigned.replaceSubrange(1..<33, with: FuzzKeys.signer.publicKey.raw.bytes)
        var w = WireWriter()
        w.writeRaw(SWIMDatagram.domain)
        w.writeString(swimNetworkID)
        w.writeRaw(unsigned)
        let signed = unsigned + FuzzKeys.signer.sign(w.bytes).bytes
        guard let datagram = try? SWIMDatagram(verifying: signed, networkID: swimNetworkID) else { return }
        check(datagram.signed(with: FuzzKeys.signer, networkID: swimNetworkID) == signed, "SWIM datagram does not re-encode to its bytes")
    }
}
