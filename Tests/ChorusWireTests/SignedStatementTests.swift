import ChorusCrypto
import ChorusWire
import Testing

@Suite("SignedStatement")
struct SignedStatementTests {
    static let key = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 0x11, count: 32)))

    static func text(_ body: String = "hello", network: String = "chorus-test", seq: UInt64 = 1) throws -> SignedStatement {
        try SignedStatement.sign(networkID: network, type: .text, epoch: 5, seq: seq, body: Array(body.utf8), key: key)
    }

    @Test func generatedStatementsRoundTrip() throws {
        var rng = SeededGeneratorForTests(seed: 2024)
        let types = Array(StatementType.builtIn) + [try StatementType("x"), try StatementType("future-kind-2")]
        for _ in 0..<150 {
            let key = try Ed25519.SigningKey(seed: SecretBytes(rng.bytes(32)))
            let network = rng.string("abcxyz0189-._", length: Int.random(in: 1...64, using: &rng))
            let type = types[Int.random(in: 0..<types.count, using: &rng)]
            let epoch = UInt64.random(in: .min ... .max, using: &rng)
            let seq = UInt64.random(in: .min ... .max, using: &rng)
            let body = rng.bytes(Int.random(in: 0...600, using: &rng))
            let signed = try SignedStatement.sign(networkID: network, type: type, epoch: epoch, seq: seq, body: body, key: key)
            let decoded = try SignedStatement.decode(signed.encoded)
            #expect(decoded == signed)
            #expect(decoded.id == signed.id)
            #expect(decoded.networkID == network && decoded.type == type && decoded.epoch == epoch && decoded.seq == seq)
            #expect(decoded.author == key.publicKey && Array(decoded.body) == body)
            #expect(decoded.signature == signed.signature)
            #expect(signed.encoded.count == 1 + 4 + network.utf8.count + 4 + type.name.utf8.count + 8 + 32 + 8 + 4 + body.count + 64)
        }
    }

    @Test func idIsBlake2bOfTheDomainSeparatedSignedBytes() throws {
        let s = try Self.text()
        let signedMessage = Array("chorus/v1/text".utf8) + [0] + s.encoded.dropLast(64)
        #expect(s.id == Blake2b.hash256(signedMessage))
        #expect(s.author.isValidSignature(s.signature, for: signedMessage))
        #expect(!s.author.isValidSignature(s.signature, for: Array(s.encoded.dropLast(64))))
    }

    @Test func unverifiedDecodingGivesTheSameIdAndVerifiesLater() throws {
        let s = try Self.text()
        let unverified = try SignedStatement.decodeUnverified(s.encoded)
        #expect(unverified.id == s.id)
        #expect(try unverified.verified() == s)
        var forged = s.encoded
        forged[forged.count - 1] ^= 0x40
        let forgedUnverified = try SignedStatement.decodeUnverified(forged)
        #expect(forgedUnverified.id == s.id)  // the signature is not part of the id
        #expect(throws: WireError.badSignature) { try forgedUnverified.verified() }
    }

    @Test func signatureForOneTypeIsNotValidForAnother() throws {
        let vote = try SignedStatement.sign(networkID: "chorus-test", type: .vote, epoch: 1, seq: 1, body: [1, 2, 3], key: Self.key)
        var relabelled = vote.encoded
        let typeStart = 1 + 4 + "chorus-test".utf8.count + 4
        relabelled.replaceSubrange(typeStart..<typeStart + 4, with: Array("text".utf8))
        #expect(throws: WireError.badSignature) { try SignedStatement.decode(relabelled) }
    }

    @Test func knownTypesOnlyRefusesUnknownTypes() throws {
        let future = try SignedStatement.sign(
            networkID: "chorus-test", type: StatementType("future-kind"), epoch: 0, seq: 0, body: [], key: Self.key)
        #expect(try SignedStatement.decode(future.encoded).type.name == "future-kind")
        #expect(throws: WireError.unknownType("future-kind")) {
            try SignedStatement.decode(future.encoded, policy: .knownTypesOnly)
        }
        #expect(throws: WireError.unknownType("future-kind")) {
            try SignedStatement.decodeUnverified(future.encoded, policy: .knownTypesOnly)
        }
        #expect(try SignedStatement.decode(try Self.text().encoded, policy: .knownTypesOnly).type == .text)
        let onlyVotes = StatementPolicy(allowedTypes: [.vote])
        #expect(throws: WireError.unknownType("text")) { try SignedStatement.decode(try Self.text().encoded, policy: onlyVotes) }
    }

    @Test func otherNetworksAreRefusedWhenAskedFor() throws {
        let s = try Self.text(network: "chorus-other")
        #expect(throws: WireError.wrongNetwork(expected: "chorus-test", got: "chorus-other")) {
            try SignedStatement.decode(s.encoded, policy: StatementPolicy(networkID: "chorus-test"))
        }
        #expect(try SignedStatement.decode(s.encoded, policy: StatementPolicy(networkID: "chorus-other")) == s)
    }

    @Test(arguments: ["", "Text", "vote!", "a b", "ünïcode", String(repeating: "a", count: 33)])
    func malformedTypeNamesAreRefused(_ name: String) {
        #expect(throws: WireError.self) { try StatementType(name) }
    }

    @Test(arguments: ["a", "peer-record", "0-9", String(repeating: "z", count: 32)])
    func wellFormedTypeNamesAreAccepted(_ name: String) throws {
        #expect(try StatementType(name).name == name)
    }

    @Test(arguments: ["", "Chorus", "chorus devnet", "chorus/devnet", String(repeating: "n", count: 65)])
    func signingRefusesMalformedNetworkIDs(_ network: String) {
        #expect(throws: WireError.self) {
            try SignedStatement.sign(networkID: network, type: .text, epoch: 0, seq: 0, body: [], key: Self.key)
        }
    }

    @Test func bodyLimitIsOneMebibyte() throws {
        let max = [UInt8](repeating: 0x5a, count: SignedStatement.maxBodyLength)
        let big = try SignedStatement.sign(networkID: "n", type: .text, epoch: 0, seq: 0, body: max, key: Self.key)
        #expect(try SignedStatement.decode(big.encoded).body.count == SignedStatement.maxBodyLength)
        #expect(throws: WireError.lengthOverLimit(field: "statement.body", length: SignedStatement.maxBodyLength + 1, limit: SignedStatement.maxBodyLength)) {
            try SignedStatement.sign(networkID: "n", type: .text, epoch: 0, seq: 0, body: max + [0], key: Self.key)
        }
    }

    @Test func longestEncodingMatchesMaxEncodedLength() throws {
        let s = try SignedStatement.sign(
            networkID: String(repeating: "n", count: 64), type: StatementType(String(repeating: "t", count: 32)),
            epoch: 0, seq: 0, body: [UInt8](repeating: 0, count: SignedStatement.maxBodyLength), key: Self.key)
        #expect(s.encoded.count == SignedStatement.maxEncodedLength)
    }

    @Test func trailingByteIsRefused() throws {
        #expect(throws: WireError.trailingBytes(count: 1)) { try SignedStatement.decode(try Self.text().encoded + [0]) }
    }

    @Test func unknownVersionIsRefused() throws {
        var bytes = try Self.text().encoded
        bytes[0] = 2
        #expect(throws: WireError.unknownVersion(what: "signed statement", version: 2, highestKnown: 1)) {
            try SignedStatement.decode(bytes)
        }
    }

    /// A body length of 1 MiB (allowed) in a 150-byte input: refused as truncated from the bytes
    /// present; a length over the limit is refused as such, whatever follows.
    @Test func oversizeBodyLengthsAreRefusedWithoutAllocating() throws {
        let s = try Self.text()
        let bodyLengthAt = 1 + 4 + "chorus-test".utf8.count + 4 + 4 + 8 + 32 + 8
        for (length, expected) in [(UInt32(1 << 20), "truncated"), (UInt32(1 << 20) + 1, "length-over-limit"), (UInt32.max, "length-over-limit")] {
            var bytes = s.encoded
            withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(bodyLengthAt..<bodyLengthAt + 4, with: $0) }
            do {
                _ = try SignedStatement.decode(bytes)
                Issue.record("decoded with body length \(length)")
            } catch {
                #expect(error.code == expected, "\(error)")
            }
        }
    }

    @Test func everyProperPrefixIsTruncated() throws {
        let bytes = try Self.text().encoded
        for length in 0..<bytes.count {
            do {
                _ = try SignedStatement.decode(Array(bytes[0..<length]))
                Issue.record("prefix of length \(length) decoded")
            } catch {
                #expect(error.code == "truncated", "length \(length): \(error)")
            }
        }
    }

    @Test func bodySharesTheEncodingsStorage() throws {
        let s = try SignedStatement.decode(try Self.text("abc").encoded)
        #expect(Array(s.body) == Array("abc".utf8))
        #expect(s.body.endIndex == s.encoded.count - 64)
    }

    @Test func equalityIsByEncodingAndDescriptionsAreInformative() throws {
        let a = try Self.text(seq: 1)
        let b = try Self.text(seq: 2)
        #expect(a == (try SignedStatement.decode(a.encoded)))
        #expect(a != b)
        #expect(Set([a, b, a]).count == 2)
        #expect(a.description.contains("type=text") && a.description.contains("seq=1") && a.description.contains(String(a.id.hex.prefix(16))))
        #expect((try SignedStatement.decodeUnverified(a.encoded)).description.hasPrefix("unverified"))
    }
}
