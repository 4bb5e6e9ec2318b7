import ChorusCrypto

/// The payload of handshake messages 2 and 3: it binds the sender's Noise static key to its
/// Ed25519 identity, so a completed handshake tells each side which participant it talks to.
///
/// Layout: `ed25519_public_key (32) ‖ signature (64) ‖ extensions`, where the signature is over
/// ASCII `chorus-noise-static-key:` followed by the 32-byte Noise static public key. Extensions are
/// `type (u8) ‖ length (u16 BE) ‖ value` entries; receivers skip types they do not know.
public struct IdentityProof: Sendable, Equatable {
    static let context = Array("chorus-noise-static-key:".utf8)

    /// Extension type 1: the sender's listen address as UTF-8 `host:port`, so the receiver can
    /// dial it back later (an inbound connection only shows an ephemeral port).
    public static let listenAddressExtension: UInt8 = 1

    public let identity: Ed25519.PublicKey
    public let signature: Ed25519.Signature
    public let extensions: [(type: UInt8, value: [UInt8])]

    public static func == (a: IdentityProof, b: IdentityProof) -> Bool {
        a.identity == b.identity && a.signature == b.signature
            && a.extensions.map(\.type) == b.extensions.map(\.type) && a.extensions.map(\.value) == b.extensions.map(\.value)
    }

    public static func make(identity key: Ed25519.SigningKey, noiseStatic: Bytes32,
                            extensions: [(type: UInt8, value: [UInt8])] = []) -> IdentityProof {
        IdentityProof(identity: key.publicKey, signature: key.sign(context + noiseStatic.bytes), extensions: extensions)
    }

    public var encoded: [UInt8] {
        var out = identity.raw.bytes + signature.bytes
        for (type, value) in extensions {
            out.append(type)
            out.append(UInt8(value.count >> 8))
            out.append(UInt8(value.count & 0xff))
            out += value
        }
        return out
    }

    /// Parses and verifies a proof for the Noise static key the handshake authenticated.
    public static func verify(_ payload: [UInt8], noiseStatic: Bytes32) throws(NoiseError) -> IdentityProof {
        guard payload.count >= 96 else { throw .badIdentityProof("payload has \(payload.count) bytes, needs at least 96") }
        let identity: Ed25519.PublicKey, signature: Ed25519.Signature
        do {
            identity = try Ed25519.PublicKey(bytes: payload[0..<32])
            signature = try Ed25519.Signature(bytes: payload[32..<96])
        } catch { throw .badIdentityProof("malformed key or signature") }
        guard identity.isValidSignature(signature, for: context + noiseStatic.bytes) else {
            throw .badIdentityProof("signature does not bind the Noise static key to identity \(identity.hex.prefix(16))…")
        }
        var extensions: [(type: UInt8, value: [UInt8])] = []
        var i = 96
        while i < payload.count {
            guard i + 3 <= payload.count else { throw .badIdentityProof("truncated extension header") }
            let length = Int(payload[i + 1]) << 8 | Int(payload[i + 2])
            guard i + 3 + length <= payload.count else { throw .badIdentityProof("extension longer than the payload") }
            extensions.append((payload[i], Array(payload[(i + 3)..<(i + 3 + length)])))
            i += 3 + length
        }
        return IdentityProof(identity: identity, signature: signature, extensions: extensions)
    }

    /// The advertised listen address, if the extension is present and valid UTF-8.
    public var listenAddress: String? {
        extensions.first { $0.type == Self.listenAddressExtension }.flatMap { String(validating: $0.value, as: UTF8.self) }
    }
}
