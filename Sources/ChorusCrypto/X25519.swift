internal import CSodium

/// X25519 Diffie-Hellman (RFC 7748), the DH function of the Noise handshake.
public enum X25519 {
    public struct PrivateKey: Sendable, CustomStringConvertible {
        public let secret: SecretBytes
        public let publicKey: Bytes32

        /// Any 32 bytes are a valid private key (clamping happens inside the scalar multiplication).
        public init(secret: SecretBytes) throws(CryptoError) {
            guard secret.count == 32 else { throw .invalidLength(what: "X25519 private key", expected: 32, actual: secret.count) }
            _ = Sodium.ready
            self.secret = secret
            publicKey = secret.withUnsafeBytes { s in
                Bytes32.filling { out in
                    _ = crypto_scalarmult_curve25519_base(out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                          s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }

        public static func generate() -> PrivateKey {
            try! PrivateKey(secret: .random(count: 32))
        }

        /// The raw X25519 output. Throws `weakPublicKey` for low-order points (all-zero output),
        /// which Noise implementations must reject.
        public func sharedSecret(with peer: Bytes32) throws(CryptoError) -> SecretBytes {
            var ok = true
            let out = secret.withUnsafeBytes { s in
                peer.withUnsafeBytes { p in
                    SecretBytes(count: 32) { o in
                        ok = crypto_scalarmult_curve25519(o.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                          s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                          p.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
                    }
                }
            }
            guard ok else { throw .weakPublicKey }
            return out
        }

        public var description: String { "X25519.PrivateKey(public: \(publicKey.hex))" }
    }
}
