import ChorusCrypto

/// The `Noise_XX_25519_ChaChaPoly_SHA256` handshake exactly as the Noise specification (rev. 34)
/// defines it, with Chorus's prologue and identity proofs (Specs/transport.md):
///
/// ```
/// -> e
/// <- e, ee, s, es      payload: responder's identity proof
/// -> s, se             payload: initiator's identity proof
/// ```
///
/// Pure: the ephemeral key is an input, so tests replay handshakes byte for byte. The shell
/// alternates `writeMessage()` and `readMessage(_:)` according to `nextStep`, then calls `split()`.
public struct NoiseHandshake: Sendable {
    public enum Role: Sendable { case initiator, responder }
    public enum Step: Sendable, Equatable { case write, read, done }

    public let role: Role
    private var symmetric: NoiseSymmetricState
    private let localStatic: X25519.PrivateKey
    private let localEphemeral: X25519.PrivateKey
    private let proofPayload: [UInt8]
    private var remoteEphemeral: Bytes32?
    private var remoteStatic: Bytes32?
    private var messageIndex = 0   // number of messages processed so far (0...3)
    /// The peer's verified identity proof, once its message 2 (or 3) has been read.
    public private(set) var remoteProof: IdentityProof?

    /// The prologue both sides mix in: ASCII `chorus/noise/1`, a zero byte, the network id. Peers
    /// of different networks fail at the first encrypted payload.
    public static func prologue(networkID: String) -> [UInt8] {
        Array("chorus/noise/1".utf8) + [0] + Array(networkID.utf8)
    }

    public init(role: Role, networkID: String, identity: Ed25519.SigningKey, localStatic: X25519.PrivateKey,
                ephemeral: X25519.PrivateKey, extensions: [(type: UInt8, value: [UInt8])] = []) {
        let proof = IdentityProof.make(identity: identity, noiseStatic: localStatic.publicKey, extensions: extensions)
        self.init(role: role, networkID: networkID, localStatic: localStatic, ephemeral: ephemeral, proofPayload: proof.encoded)
    }

    /// Sends `proofPayload` as this side's identity proof verbatim. Hostile-input tests use it to
    /// send proofs that do not verify; nodes always use the public initializer.
    init(role: Role, networkID: String, localStatic: X25519.PrivateKey, ephemeral: X25519.PrivateKey,
         proofPayload: [UInt8]) {
        self.role = role
        self.localStatic = localStatic
        self.localEphemeral = ephemeral
        self.proofPayload = proofPayload
        self.symmetric = NoiseSymmetricState(prologue: Self.prologue(networkID: networkID))
    }

    public var nextStep: Step {
        if messageIndex >= 3 { return .done }
        // Initiator writes messages 1 and 3, responder writes message 2.
        let initiatorWrites = messageIndex != 1
        return (role == .initiator) == initiatorWrites ? .write : .read
    }

    /// The handshake hash: identical on both sides after completion; usable as a channel binding.
    public var handshakeHash: Bytes32 { symmetric.handshakeHash }

    public mutating func writeMessage() throws(NoiseError) -> [UInt8] {
        guard nextStep == .write else { throw .outOfOrder("expected to \(nextStep) message \(messageIndex + 1)") }
        var out: [UInt8] = []
        switch messageIndex {
        case 0:  // -> e
            out += localEphemeral.publicKey.bytes
            symmetric.mixHash(localEphemeral.publicKey.bytes)
            out += try symmetric.encryptAndHash([])
        case 1:  // <- e, ee, s, es
            out += localEphemeral.publicKey.bytes
            symmetric.mixHash(localEphemeral.publicKey.bytes)
            symmetric.mixKey(try dh(localEphemeral, remoteEphemeral))
            out += try symmetric.encryptAndHash(localStatic.publicKey.bytes)
            symmetric.mixKey(try dh(localStatic, remoteEphemeral))
            out += try symmetric.encryptAndHash(proofPayload)
        default:  // -> s, se
            out += try symmetric.encryptAndHash(localStatic.publicKey.bytes)
            symmetric.mixKey(try dh(localStatic, remoteEphemeral))
            out += try symmetric.encryptAndHash(proofPayload)
        }
        messageIndex += 1
        guard out.count <= 65535 else { throw .tooLarge(what: "handshake message", size: out.count, limit: 65535) }
        return out
    }

    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) {
        guard nextStep == .read else { throw .outOfOrder("expected to \(nextStep) message \(messageIndex + 1)") }
        let n = messageIndex + 1
        switch messageIndex {
        case 0:  // -> e
            guard message.count >= 32 else { throw .truncated(message: n, needed: 32, got: message.count) }
            let re = Bytes32(message[0..<32])!
            remoteEphemeral = re
            symmetric.mixHash(re.bytes)
            _ = try symmetric.decryptAndHash(Array(message[32...]), message: n)  // empty payload (extra bytes are ignored)
        case 1:  // <- e, ee, s, es
            guard message.count >= 32 + 48 + 16 + 96 else { throw .truncated(message: n, needed: 192, got: message.count) }
            let re = Bytes32(message[0..<32])!
            remoteEphemeral = re
            symmetric.mixHash(re.bytes)
            symmetric.mixKey(try dh(localEphemeral, re))
            let rs = try symmetric.decryptAndHash(Array(message[32..<80]), message: n)
            remoteStatic = Bytes32(rs)
            symmetric.mixKey(try dh(localEphemeral, remoteStatic))
            let payload = try symmetric.decryptAndHash(Array(message[80...]), message: n)
            remoteProof = try IdentityProof.verify(payload, noiseStatic: remoteStatic!)
        default:  // -> s, se
            guard message.count >= 48 + 16 + 96 else { throw .truncated(message: n, needed: 160, got: message.count) }
            let rs = try symmetric.decryptAndHash(Array(message[0..<48]), message: n)
            remoteStatic = Bytes32(rs)
            symmetric.mixKey(try dh(localEphemeral, remoteStatic))
            let payload = try symmetric.decryptAndHash(Array(message[48...]), message: n)
            remoteProof = try IdentityProof.verify(payload, noiseStatic: remoteStatic!)
        }
        messageIndex += 1
    }

    /// The transport ciphers after message 3, oriented for this side (send, receive).
    public func split() throws(NoiseError) -> NoiseTransport {
        guard nextStep == .done, let proof = remoteProof else { throw .outOfOrder("split before the handshake completed") }
        let (c1, c2) = symmetric.split()
        return role == .initiator
            ? NoiseTransport(send: c1, receive: c2, remote: proof, handshakeHash: handshakeHash)
            : NoiseTransport(send: c2, receive: c1, remote: proof, handshakeHash: handshakeHash)
    }

    private func dh(_ local: X25519.PrivateKey, _ remote: Bytes32?) throws(NoiseError) -> SecretBytes {
        guard let remote else { throw .outOfOrder("missing remote key") }
        do { return try local.sharedSecret(with: remote) } catch { throw .weakKey }
    }
}

/// The two transport ciphers of a completed handshake and the peer it authenticated.
public struct NoiseTransport: Sendable {
    public var send: NoiseCipherState
    public var receive: NoiseCipherState
    public let remote: IdentityProof
    public let handshakeHash: Bytes32
}
