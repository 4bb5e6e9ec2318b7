import ChorusCrypto
import Testing

struct Ed25519VectorFile: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name: String
        let secretKey: String
        let publicKey: String
        let message: String
        let signature: String
        var testDescription: String { name }
    }
    let vectors: [Vector]
}

@Suite("Ed25519 (RFC 8032 §7.1)")
struct Ed25519Tests {
    static let vectors = (try? VectorFiles.load("ed25519-rfc8032.json", as: Ed25519VectorFile.self).vectors) ?? []

    @Test func vectorFileHasTheFiveRFCTests() {
        #expect(Self.vectors.map(\.name) == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"])
    }

    @Test(arguments: vectors)
    func signsAndVerifiesLikeTheRFC(_ v: Ed25519VectorFile.Vector) throws {
        let key = try Ed25519.SigningKey(seed: SecretBytes(bytes(v.secretKey)))
        let message = try bytes(v.message)
        #expect(key.publicKey.hex == v.publicKey)
        let signature = key.sign(message)
        #expect(signature.hex == v.signature)
        let publicKey = try Ed25519.PublicKey(hex: v.publicKey)
        #expect(publicKey.isValidSignature(try Ed25519.Signature(hex: v.signature), for: message))
    }

    @Test(arguments: vectors)
    func rejectsAlteredMessageOrSignature(_ v: Ed25519VectorFile.Vector) throws {
        let publicKey = try Ed25519.PublicKey(hex: v.publicKey)
        let message = try bytes(v.message)
        let signature = try bytes(v.signature)
        for position in [0, 31, 32, 63] {
            var bad = signature
            bad[position] ^= 0x01
            #expect(!publicKey.isValidSignature(try Ed25519.Signature(bytes: bad), for: message))
        }
        let longer = message + [0x00]
        #expect(!publicKey.isValidSignature(try Ed25519.Signature(bytes: signature), for: longer))
        if !message.isEmpty {
            var altered = message
            altered[altered.count / 2] ^= 0x80
            #expect(!publicKey.isValidSignature(try Ed25519.Signature(bytes: signature), for: altered))
        }
    }

    @Test func wrongLengthsAreTypedErrors() {
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 public key", expected: 32, actual: 31)) {
            try Ed25519.PublicKey(bytes: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 signature", expected: 64, actual: 65)) {
            try Ed25519.Signature(bytes: [UInt8](repeating: 1, count: 65))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 seed", expected: 32, actual: 16)) {
            try Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 1, count: 16)))
        }
    }

    @Test func signingKeyDescriptionShowsOnlyThePublicKey() throws {
        let seed = [UInt8](repeating: 0xab, count: 32)
        let key = try Ed25519.SigningKey(seed: SecretBytes(seed))
        let text = "\(key) \(String(reflecting: key))"
        #expect(text.contains(key.publicKey.hex))
        #expect(!text.contains(Hex.encode(seed)))
    }
}
