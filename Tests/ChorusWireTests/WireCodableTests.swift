import ChorusCrypto
import ChorusWire
import Testing

/// A message shaped like the ones later modules define: a version, a set of keys, nested
/// structures, an optional and fixed-point numbers.
struct SampleRecordForTests: StatementBody, Equatable {
    static let statementType = StatementType.text
    static let version: UInt8 = 1

    struct Entry: WireCodable, Equatable {
        var model: String
        var weightMillionths: UInt64
        var accepted: Bool

        func encode(to writer: inout WireWriter) {
            writer.writeString(model)
            writer.writeU64(weightMillionths)
            writer.writeBool(accepted)
        }

        init(model: String, weightMillionths: UInt64, accepted: Bool) {
            self.model = model
            self.weightMillionths = weightMillionths
            self.accepted = accepted
        }

        init(from reader: inout WireReader) throws(WireError) {
            model = try reader.readString(field: "entry.model", maxLength: 64)
            weightMillionths = try reader.readU64(field: "entry.weight")
            accepted = try reader.readBool(field: "entry.accepted")
        }
    }

    var members: [Bytes32]
    var entries: [Entry]
    var note: String?
    var delta: Int64

    init(members: [Bytes32], entries: [Entry], note: String?, delta: Int64) {
        self.members = members
        self.entries = entries
        self.note = note
        self.delta = delta
    }

    func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeArray(members) { $0.writeBytes32($1) }
        writer.writeArray(entries)
        writer.writeOptional(note) { $0.writeString($1) }
        writer.writeI64(delta)
    }

    init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "sample.version")
        guard version == Self.version else {
            throw .unknownVersion(what: "sample record", version: Int(version), highestKnown: Int(Self.version))
        }
        members = try reader.readArray(field: "sample.members", maxCount: 100, minElementSize: 32) {
            (r: inout WireReader) throws(WireError) in try r.readBytes32(field: "sample.member")
        }
        try WireReader.requireStrictlyAscending(members, field: "sample.members")
        entries = try reader.readArray(of: Entry.self, field: "sample.entries", maxCount: 16, minElementSize: 13)
        note = try reader.readOptional(field: "sample.note") { (r: inout WireReader) throws(WireError) in
            try r.readString(field: "sample.note", maxLength: 256)
        }
        delta = try reader.readI64(field: "sample.delta")
    }

    static func random(using rng: inout SeededGeneratorForTests) -> SampleRecordForTests {
        let members = Set((0..<Int.random(in: 0...6, using: &rng)).compactMap { _ in Bytes32(rng.bytes(32)) }).sorted()
        let entries = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            Entry(model: rng.string("abcdefgh-0123", length: Int.random(in: 0...20, using: &rng)),
                  weightMillionths: UInt64.random(in: .min ... .max, using: &rng), accepted: Bool.random(using: &rng))
        }
        let note = Bool.random(using: &rng) ? rng.string("xyz ✓", length: Int.random(in: 0...30, using: &rng)) : nil
        return SampleRecordForTests(members: members, entries: entries, note: note, delta: Int64.random(in: .min ... .max, using: &rng))
    }
}

@Suite("WireCodable")
struct WireCodableTests {
    @Test func generatedValuesRoundTrip() throws {
        var rng = SeededGeneratorForTests(seed: 42)
        for _ in 0..<300 {
            let value = SampleRecordForTests.random(using: &rng)
            let bytes = value.encodedBytes()
            let decoded = try SampleRecordForTests(decoding: bytes)
            #expect(decoded == value)
            #expect(decoded.encodedBytes() == bytes)
        }
    }

    @Test func everyProperPrefixIsTruncated() throws {
        var rng = SeededGeneratorForTests(seed: 7)
        let bytes = SampleRecordForTests.random(using: &rng).encodedBytes()
        for length in 0..<bytes.count {
            do {
                _ = try SampleRecordForTests(decoding: bytes[0..<length])
                Issue.record("prefix of length \(length) decoded")
            } catch {
                #expect(error.code == "truncated", "length \(length): \(error)")
            }
        }
    }

    @Test func trailingByteIsRefused() {
        let bytes = SampleRecordForTests(members: [], entries: [], note: nil, delta: 0).encodedBytes() + [0]
        #expect(throws: WireError.trailingBytes(count: 1)) { try SampleRecordForTests(decoding: bytes) }
    }

    @Test func unsortedOrDuplicateSetIsRefused() throws {
        let a = try #require(Bytes32([UInt8](repeating: 1, count: 32)))
        let b = try #require(Bytes32([UInt8](repeating: 2, count: 32)))
        for members in [[b, a], [a, a]] {
            let bytes = SampleRecordForTests(members: members, entries: [], note: nil, delta: 0).encodedBytes()
            #expect(throws: WireError.self) { try SampleRecordForTests(decoding: bytes) }
        }
    }

    @Test func unknownVersionIsRefused() {
        var bytes = SampleRecordForTests(members: [], entries: [], note: nil, delta: 0).encodedBytes()
        bytes[0] = 2
        #expect(throws: WireError.unknownVersion(what: "sample record", version: 2, highestKnown: 1)) {
            try SampleRecordForTests(decoding: bytes)
        }
    }

    @Test func typedBodiesTravelInStatements() throws {
        var rng = SeededGeneratorForTests(seed: 9)
        let key = try Ed25519.SigningKey(seed: SecretBytes(rng.bytes(32)))
        let body = SampleRecordForTests.random(using: &rng)
        let statement = try SignedStatement.sign(networkID: "chorus-test", epoch: 3, seq: 4, body: body, key: key)
        #expect(statement.type == .text)
        let received = try SignedStatement.decode(statement.encoded)
        #expect(try received.decodeBody(as: SampleRecordForTests.self) == body)
    }

    @Test func decodingABodyOfTheWrongTypeIsRefused() throws {
        let key = try Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 4, count: 32)))
        let body = SampleRecordForTests(members: [], entries: [], note: nil, delta: 0).encodedBytes()
        let vote = try SignedStatement.sign(networkID: "chorus-test", type: .vote, epoch: 0, seq: 0, body: body, key: key)
        #expect(throws: WireError.invalidValue(field: "statement.type", reason: "expected a \"text\" statement, got \"vote\"")) {
            try vote.decodeBody(as: SampleRecordForTests.self)
        }
    }
}
