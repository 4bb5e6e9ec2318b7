import ChorusCrypto
import Testing

struct ChaChaPolyVectorFile: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name: String
        let key: String
        let nonce: String
        let aad: String
        let plaintext: String
        let ciphertext: String
        let tag: String
        var testDescription: String { name }
    }
    let vectors: [Vector]
}

@Suite("ChaCha20-Poly1305 (RFC 8439)")
struct ChaChaPolyTests {
    static let vectors = (try? VectorFiles.load("chacha20poly1305-rfc8439.json", as: ChaChaPolyVectorFile.self).vectors) ?? []

    @Test func vectorFileHasSection2_8_2AndAppendixA5() {
        #expect(Self.vectors.map(\.name) == ["2.8.2", "A.5"])
    }

    @Test(arguments: vectors)
    func sealMatchesTheRFC(_ v: ChaChaPolyVectorFile.Vector) throws {
        let sealed = try ChaChaPoly.seal(key: SecretBytes(bytes(v.key)), nonce: bytes(v.nonce),
                                         associatedData: bytes(v.aad), plaintext: bytes(v.plaintext))
        #expect(Hex.encode(sealed) == v.ciphertext + v.tag)
    }

    @Test(arguments: vectors)
    func openRecoversThePlaintext(_ v: ChaChaPolyVectorFile.Vector) throws {
        let opened = try ChaChaPoly.open(key: SecretBytes(bytes(v.key)), nonce: bytes(v.nonce),
                                         associatedData: bytes(v.aad), ciphertext: bytes(v.ciphertext + v.tag))
        #expect(Hex.encode(opened) == v.plaintext)
    }

    /// Every single-bit change of ciphertext, tag, associated data or nonce must be detected.
    @Test(arguments: vectors)
    func openFailsOnAnyFlippedBit(_ v: ChaChaPolyVectorFile.Vector) throws {
        let key = SecretBytes(try bytes(v.key))
        let nonce = try bytes(v.nonce)
        let aad = try bytes(v.aad)
        let sealed = try bytes(v.ciphertext + v.tag)
        var undetected: [String] = []
        for bit in 0..<sealed.count * 8 {
            var bad = sealed
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            if (try? ChaChaPoly.open(key: key, nonce: nonce, associatedData: aad, ciphertext: bad)) != nil {
                undetected.append("ciphertext bit \(bit)")
            }
        }
        for bit in 0..<aad.count * 8 {
            var bad = aad
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            if (try? ChaChaPoly.open(key: key, nonce: nonce, associatedData: bad, ciphertext: sealed)) != nil {
                undetected.append("aad bit \(bit)")
            }
        }
        for bit in 0..<nonce.count * 8 {
            var bad = nonce
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            if (try? ChaChaPoly.open(key: key, nonce: bad, associatedData: aad, ciphertext: sealed)) != nil {
                undetected.append("nonce bit \(bit)")
            }
        }
        #expect(undetected.isEmpty)
    }

    @Test func truncatedCiphertextFailsAuthentication() throws {
        let key = SecretBytes.random(count: 32)
        let sealed = try ChaChaPoly.seal(key: key, nonce: ChaChaPoly.noiseNonce(1), plaintext: [1, 2, 3])
        for length in 0..<sealed.count {
            #expect(throws: CryptoError.authenticationFailed) {
                try ChaChaPoly.open(key: key, nonce: ChaChaPoly.noiseNonce(1), ciphertext: Array(sealed.prefix(length)))
            }
        }
    }

    @Test func emptyPlaintextRoundTrips() throws {
        let key = SecretBytes.random(count: 32)
        let sealed = try ChaChaPoly.seal(key: key, nonce: ChaChaPoly.noiseNonce(0), associatedData: [9], plaintext: [])
        #expect(sealed.count == ChaChaPoly.tagLength)
        #expect(try ChaChaPoly.open(key: key, nonce: ChaChaPoly.noiseNonce(0), associatedData: [9], ciphertext: sealed) == [])
    }

    @Test func noiseNonceIsFourZeroBytesThenLittleEndianCounter() {
        #expect(Hex.encode(ChaChaPoly.noiseNonce(0x0102030405060708)) == "000000000807060504030201")
    }

    @Test func wrongKeyOrNonceLengthIsATypedError() {
        #expect(throws: CryptoError.invalidLength(what: "ChaCha20-Poly1305 key", expected: 32, actual: 16)) {
            try ChaChaPoly.seal(key: SecretBytes([UInt8](repeating: 0, count: 16)), nonce: ChaChaPoly.noiseNonce(0), plaintext: [])
        }
        #expect(throws: CryptoError.invalidLength(what: "ChaCha20-Poly1305 nonce", expected: 12, actual: 8)) {
            try ChaChaPoly.seal(key: SecretBytes.random(count: 32), nonce: [UInt8](repeating: 0, count: 8), plaintext: [])
        }
    }
}
