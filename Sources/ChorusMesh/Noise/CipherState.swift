import ChorusCrypto

/// A Noise CipherState (Noise spec rev. 34 §5.1) for ChaChaPoly: a key and a 64-bit nonce counter.
/// Nonce 2^64 − 1 is reserved for rekeying and never used to encrypt.
public struct NoiseCipherState: Sendable {
    private var key: SecretBytes?
    public private(set) var nonce: UInt64 = 0

    public init(key: SecretBytes? = nil) { self.key = key }

    public var hasKey: Bool { key != nil }

    /// ENCRYPT with the current nonce, then increment it. Without a key, returns the plaintext.
    public mutating func encrypt(ad: [UInt8], plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        guard nonce < .max else { throw .nonceExhausted }
        let out: [UInt8]
        do { out = try ChaChaPoly.seal(key: key, nonce: ChaChaPoly.noiseNonce(nonce), associatedData: ad, plaintext: plaintext) }
        catch { throw .malformed("encryption failed: \(error)") }
        nonce += 1
        return out
    }

    /// ENCRYPT of `buffer[range]` with empty associated data, in place, the tag written right after
    /// the range; then increment the nonce. Requires a key (transport messages only).
    public mutating func encryptInPlace(_ buffer: inout [UInt8], range: Range<Int>) throws(NoiseError) {
        guard let key else { throw .outOfOrder("in-place encryption needs a key") }
        guard nonce < .max else { throw .nonceExhausted }
        do { try ChaChaPoly.sealInPlace(key: key, nonce: ChaChaPoly.noiseNonce(nonce), buffer: &buffer, range: range) }
        catch { throw .malformed("encryption failed: \(error)") }
        nonce += 1
    }

    /// DECRYPT of a transport message (empty associated data) in place; returns the plaintext
    /// length. The nonce advances only on success. Requires a key.
    public mutating func decryptInPlace(_ buffer: inout [UInt8], message: Int) throws(NoiseError) -> Int {
        guard let key else { throw .outOfOrder("in-place decryption needs a key") }
        guard nonce < .max else { throw .nonceExhausted }
        let length: Int
        do { length = try ChaChaPoly.openInPlace(key: key, nonce: ChaChaPoly.noiseNonce(nonce), buffer: &buffer) }
        catch { throw .decryptFailed(message: message) }
        nonce += 1
        return length
    }

    /// DECRYPT with the current nonce; the nonce advances only on success.
    public mutating func decrypt(ad: [UInt8], ciphertext: [UInt8], message: Int) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext }
        guard nonce < .max else { throw .nonceExhausted }
        let out: [UInt8]
        do { out = try ChaChaPoly.open(key: key, nonce: ChaChaPoly.noiseNonce(nonce), associatedData: ad, ciphertext: ciphertext) }
        catch { throw .decryptFailed(message: message) }
        nonce += 1
        return out
    }

    /// Rekey (§11.3): the new key is the first 32 bytes of ENCRYPT(k, 2^64 − 1, empty, 32 zero bytes).
    /// The nonce is not reset.
    public mutating func rekey() {
        guard let key else { return }
        let zeros = [UInt8](repeating: 0, count: 32)
        guard let out = try? ChaChaPoly.seal(key: key, nonce: ChaChaPoly.noiseNonce(.max), plaintext: zeros) else { return }
        self.key = SecretBytes(out.prefix(32))
    }
}

/// The SymmetricState of §5.2: chaining key, handshake hash, and the current cipher.
struct NoiseSymmetricState: Sendable {
    static let protocolName = Array("Noise_XX_25519_ChaChaPoly_SHA256".utf8)

    private(set) var chainingKey: Bytes32
    private(set) var handshakeHash: Bytes32
    var cipher = NoiseCipherState()

    init(prologue: [UInt8]) {
        // The protocol name is exactly 32 bytes (HASHLEN), so h is the name itself.
        precondition(Self.protocolName.count == 32)
        let h = Bytes32(Self.protocolName)!
        chainingKey = h
        handshakeHash = h
        mixHash(prologue)
    }

    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = SHA256.hash(handshakeHash.bytes + data)
    }

    mutating func mixKey(_ inputKeyMaterial: SecretBytes) {
        let (ck, tempKey) = inputKeyMaterial.withUnsafeBytes { NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: $0) }
        chainingKey = ck
        cipher = NoiseCipherState(key: tempKey.withUnsafeBytes { SecretBytes($0) })
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let c = try cipher.encrypt(ad: handshakeHash.bytes, plaintext: plaintext)
        mixHash(c)
        return c
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8], message: Int) throws(NoiseError) -> [UInt8] {
        let p = try cipher.decrypt(ad: handshakeHash.bytes, ciphertext: ciphertext, message: message)
        mixHash(ciphertext)
        return p
    }

    /// Two CipherStates: initiator→responder and responder→initiator.
    func split() -> (NoiseCipherState, NoiseCipherState) {
        let (k1, k2) = [UInt8]().withUnsafeBytes { NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: $0) }
        return (NoiseCipherState(key: k1.withUnsafeBytes { SecretBytes($0) }),
                NoiseCipherState(key: k2.withUnsafeBytes { SecretBytes($0) }))
    }
}
