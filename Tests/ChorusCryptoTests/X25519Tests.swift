import ChorusCrypto
import Testing

struct X25519VectorFile: Decodable {
    struct ScalarMultiplication: Decodable, CustomTestStringConvertible {
        let name: String
        let scalar: String
        let u: String
        let output: String
        var testDescription: String { name }
    }
    struct Iterated: Decodable {
        let start: String
        let after1: String
        let after1000: String
    }
    struct DiffieHellman: Decodable {
        let alicePrivate: String
        let alicePublic: String
        let bobPrivate: String
        let bobPublic: String
        let sharedSecret: String
    }
    let scalarMultiplication: [ScalarMultiplication]
    let iterated: Iterated
    let diffieHellman: DiffieHellman
}

@Suite("X25519 (RFC 7748)")
struct X25519Tests {
    static let file = try? VectorFiles.load("x25519-rfc7748.json", as: X25519VectorFile.self)

    private func hexOf(_ secret: SecretBytes) -> String { secret.withUnsafeBytes { Hex.encode($0) } }

    private func x25519(_ scalar: [UInt8], _ u: [UInt8]) throws -> [UInt8] {
        let key = try X25519.PrivateKey(secret: SecretBytes(scalar))
        return try key.sharedSecret(with: try #require(Bytes32(u))).withUnsafeBytes { Array($0) }
    }

    @Test(arguments: file?.scalarMultiplication ?? [])
    func scalarMultiplicationMatchesSection5_2(_ v: X25519VectorFile.ScalarMultiplication) throws {
        #expect(Hex.encode(try x25519(bytes(v.scalar), bytes(v.u))) == v.output)
    }

    @Test func iteratedOnceAndAThousandTimes() throws {
        let it = try #require(Self.file).iterated
        var k = try bytes(it.start)
        var u = k
        for round in 1...1000 {
            (k, u) = (try x25519(k, u), k)
            if round == 1 { #expect(Hex.encode(k) == it.after1) }
        }
        #expect(Hex.encode(k) == it.after1000)
    }

    @Test func diffieHellmanMatchesSection6_1() throws {
        let dh = try #require(Self.file).diffieHellman
        let alice = try X25519.PrivateKey(secret: SecretBytes(bytes(dh.alicePrivate)))
        let bob = try X25519.PrivateKey(secret: SecretBytes(bytes(dh.bobPrivate)))
        #expect(alice.publicKey.hex == dh.alicePublic)
        #expect(bob.publicKey.hex == dh.bobPublic)
        #expect(hexOf(try alice.sharedSecret(with: bob.publicKey)) == dh.sharedSecret)
        #expect(hexOf(try bob.sharedSecret(with: alice.publicKey)) == dh.sharedSecret)
    }

    /// Points of small order give an all-zero shared secret; Noise must refuse them.
    static let lowOrderPoints = [
        "0000000000000000000000000000000000000000000000000000000000000000",  // 0
        "0100000000000000000000000000000000000000000000000000000000000000",  // 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p (= 0)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 (= 1)
    ]

    @Test(arguments: lowOrderPoints)
    func lowOrderPointIsRejected(_ point: String) throws {
        let key = X25519.PrivateKey.generate()
        #expect(throws: CryptoError.weakPublicKey) { try key.sharedSecret(with: Bytes32(hex: point)) }
    }

    @Test func privateKeyDescriptionHidesTheSecret() {
        let key = X25519.PrivateKey.generate()
        let text = "\(key) \(String(reflecting: key))"
        #expect(text.contains(key.publicKey.hex))
        #expect(!text.contains(hexOf(key.secret)))
    }
}
