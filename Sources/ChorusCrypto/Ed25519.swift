internal import CSodium

/// Ed25519 signatures (RFC 8032, "pure" Ed25519) over libsodium, so any RFC 8032 implementation
/// verifies what Chorus signs and vice versa.
public enum Ed25519 {
    public static let publicKeyLength = 32
    public static let signatureLength = 64
    public static let seedLength = 32

    /// A public key: a node's identity and participant id.
    public struct PublicKey: Hashable, Sendable, Comparable, CustomStringConvertible {
        public let raw: Bytes32

        public init(_ raw: Bytes32) { self.raw = raw }

        public init<C: Collection>(bytes: C) throws(CryptoError) where C.Element == UInt8 {
            guard let raw = Bytes32(bytes) else {
                throw .invalidLength(what: "Ed25519 public key", expected: 32, actual: bytes.count)
            }
            self.raw = raw
        }

        public init(hex: some StringProtocol) throws(CryptoError) {
            try self.init(bytes: Hex.decode(hex))
        }

        public var hex: String { raw.hex }
        public var description: String { raw.hex }

        /// True when `signature` is a valid Ed25519 signature of `message` by this key.
        /// libsodium rejects non-canonical encodings and small-order keys.
        public func isValidSignature(_ signature: Signature, for message: UnsafeRawBufferPointer) -> Bool {
            _ = Sodium.ready
            return raw.withUnsafeBytes { pk in
                signature.withUnsafeBytes { sig in
                    crypto_sign_ed25519_verify_detached(
                        sig.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        UInt64(message.count),
                        pk.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
                }
            }
        }

        public func isValidSignature(_ signature: Signature, for message: [UInt8]) -> Bool {
            message.withUnsafeBytes { isValidSignature(signature, for: $0) }
        }

        public static func < (a: PublicKey, b: PublicKey) -> Bool { a.raw < b.raw }
    }

    /// A 64-byte signature, stored inline.
    public struct Signature: Hashable, Sendable, CustomStringConvertible {
        public let r: Bytes32
        public let s: Bytes32

        public init<C: Collection>(bytes: C) throws(CryptoError) where C.Element == UInt8 {
            guard bytes.count == 64 else {
                throw .invalidLength(what: "Ed25519 signature", expected: 64, actual: bytes.count)
            }
            r = Bytes32(bytes.prefix(32))!
            s = Bytes32(bytes.dropFirst(32))!
        }

        public init(hex: some StringProtocol) throws(CryptoError) {
            try self.init(bytes: Hex.decode(hex))
        }

        public var bytes: [UInt8] { r.bytes + s.bytes }
        public var hex: String { r.hex + s.hex }
        public var description: String { hex }

        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            // Invariant: a struct of two trivial Bytes32 values is 64 contiguous bytes, r then s.
            try Swift.withUnsafeBytes(of: self, body)
        }
    }

    /// A signing key. Holds only the 32-byte seed (the RFC 8032 private key), in `SecretBytes`;
    /// libsodium's 64-byte expanded key is rebuilt in locked memory per signature batch.
    public struct SigningKey: Sendable, CustomStringConvertible {
        public let seed: SecretBytes
        public let publicKey: PublicKey
        /// seed ‖ public key, the form libsodium signs with; secret, so kept in SecretBytes too.
        private let expanded: SecretBytes

        public init(seed: SecretBytes) throws(CryptoError) {
            guard seed.count == 32 else {
                throw .invalidLength(what: "Ed25519 seed", expected: 32, actual: seed.count)
            }
            _ = Sodium.ready
            var pk = Bytes32.zero
            let expanded = seed.withUnsafeBytes { s in
                SecretBytes(count: 64) { sk in
                    pk.withUnsafeMutableBytes { p in
                        _ = crypto_sign_ed25519_seed_keypair(
                            p.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            sk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            self.seed = seed
            self.expanded = expanded
            self.publicKey = PublicKey(pk)
        }

        /// A fresh key from the OS random source.
        public static func generate() -> SigningKey {
            // A 32-byte seed is always valid.
            try! SigningKey(seed: .random(count: 32))
        }

        public func sign(_ message: UnsafeRawBufferPointer) -> Signature {
            var out = [UInt8](repeating: 0, count: 64)
            expanded.withUnsafeBytes { sk in
                out.withUnsafeMutableBytes { sig in
                    _ = crypto_sign_ed25519_detached(
                        sig.baseAddress!.assumingMemoryBound(to: UInt8.self), nil,
                        message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                        sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            return try! Signature(bytes: out)
        }

        public func sign(_ message: [UInt8]) -> Signature {
            message.withUnsafeBytes { sign($0) }
        }

        public var description: String { "Ed25519.SigningKey(public: \(publicKey.hex))" }
    }
}
