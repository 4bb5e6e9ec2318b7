import ChorusCrypto
import Testing

struct SHA256VectorFile: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name: String
        let input: String
        let digest: String
        var testDescription: String { name }
    }
    let vectors: [Vector]
}

struct HMACVectorFile: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name: String
        let key: String
        let data: String
        let mac: String
        var testDescription: String { name }
    }
    let vectors: [Vector]
}

struct Blake2bVectorFile: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        let name: String
        let input: String
        let key: String
        let outputLength: Int
        let digest: String
        var testDescription: String { name }
    }
    let vectors: [Vector]
}

@Suite("SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 4231)")
struct SHA256Tests {
    static let sha = (try? VectorFiles.load("sha256-fips180.json", as: SHA256VectorFile.self).vectors) ?? []
    static let hmac = (try? VectorFiles.load("hmac-sha256-rfc4231.json", as: HMACVectorFile.self).vectors) ?? []

    @Test func vectorFilesLoaded() {
        #expect(Self.sha.count == 3)
        #expect(Self.hmac.map(\.name) == ["test case 1", "test case 2", "test case 3", "test case 4", "test case 6", "test case 7"])
    }

    @Test(arguments: sha)
    func sha256MatchesFIPS(_ v: SHA256VectorFile.Vector) throws {
        #expect(SHA256.hash(try bytes(v.input)).hex == v.digest)
    }

    @Test(arguments: hmac)
    func hmacMatchesRFC4231(_ v: HMACVectorFile.Vector) throws {
        #expect(HMACSHA256.authenticate(key: try bytes(v.key), data: try bytes(v.data)).hex == v.mac)
    }
}

@Suite("BLAKE2b (RFC 7693, blake2b-kat.txt)")
struct Blake2bTests {
    static let vectors = (try? VectorFiles.load("blake2b.json", as: Blake2bVectorFile.self).vectors) ?? []

    @Test func vectorFileLoaded() {
        #expect(Self.vectors.count >= 8)
        #expect(Self.vectors.contains { !$0.key.isEmpty })
    }

    @Test(arguments: vectors)
    func oneShotMatches(_ v: Blake2bVectorFile.Vector) throws {
        let digest = try Blake2b.hash(bytes(v.input), outputLength: v.outputLength, key: bytes(v.key))
        #expect(Hex.encode(digest) == v.digest)
        if v.outputLength == 32 && v.key.isEmpty {
            #expect(Blake2b.hash256(try bytes(v.input)).hex == v.digest)
        }
    }

    @Test(arguments: vectors)
    func streamingMatchesTheVector(_ v: Blake2bVectorFile.Vector) throws {
        var hasher = try Blake2b.Hasher(outputLength: v.outputLength, key: bytes(v.key))
        for byte in try bytes(v.input) { hasher.update([byte]) }
        #expect(Hex.encode(hasher.finalize()) == v.digest)
    }

    /// Streaming in chunks that straddle the 128-byte block boundary in every way equals one-shot.
    @Test(arguments: [32, 64], [[UInt8](), [UInt8](repeating: 7, count: 64)])
    func streamingEqualsOneShot(outputLength: Int, key: [UInt8]) throws {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = try Blake2b.hash(data, outputLength: outputLength, key: key)
        for chunk in [1, 3, 64, 127, 128, 129, 500, 1000] {
            var hasher = try Blake2b.Hasher(outputLength: outputLength, key: key)
            var start = 0
            while start < data.count {
                let end = min(start + chunk, data.count)
                data[start..<end].withUnsafeBytes { hasher.update($0) }
                start = end
            }
            #expect(hasher.finalize() == expected, "chunk size \(chunk)")
        }
    }

    @Test func invalidParametersAreTypedErrors() {
        #expect(throws: CryptoError.self) { try Blake2b.hash([], outputLength: 0) }
        #expect(throws: CryptoError.self) { try Blake2b.hash([], outputLength: 65) }
        #expect(throws: CryptoError.self) { try Blake2b.hash([], outputLength: 32, key: [UInt8](repeating: 0, count: 65)) }
        #expect(throws: CryptoError.self) { _ = try Blake2b.Hasher(outputLength: 65) }
    }
}
