import ChorusCrypto
import ChorusWire
import Testing

@Suite("WireWriter and WireReader primitives")
struct WirePrimitiveTests {
    @Test func integersAreLittleEndianFixedWidth() {
        var w = WireWriter()
        w.writeU8(0xab)
        w.writeU16(0x0102)
        w.writeU32(0x0102_0304)
        w.writeU64(0x0102_0304_0506_0708)
        w.writeI64(-2)
        w.writeBool(true)
        w.writeBool(false)
        #expect(Hex.encode(w.bytes) == "ab" + "0201" + "04030201" + "0807060504030201" + "feffffffffffffff" + "01" + "00")
    }

    @Test func theSpecExampleEncodesAsDocumented() {
        // Specs/encoding.md, "Example".
        var w = WireWriter()
        w.writeBool(true)
        w.writeU16(0x0102)
        w.writeString("ok")
        w.writeArray([UInt32(7)]) { $0.writeU32($1) }
        w.writeOptional(UInt8?.none) { $0.writeU8($1) }
        #expect(Hex.encode(w.bytes) == "01" + "0201" + "02000000" + "6f6b" + "01000000" + "07000000" + "00")
    }

    @Test func primitivesRoundTrip() throws {
        var rng = SeededGeneratorForTests(seed: 1)
        for _ in 0..<200 {
            let a = UInt8.random(in: .min ... .max, using: &rng)
            let b = UInt16.random(in: .min ... .max, using: &rng)
            let c = UInt32.random(in: .min ... .max, using: &rng)
            let d = UInt64.random(in: .min ... .max, using: &rng)
            let e = Int64.random(in: .min ... .max, using: &rng)
            let f = Bool.random(using: &rng)
            let g = rng.bytes(Int.random(in: 0...40, using: &rng))
            let h = rng.string("abcé€😀 ", length: Int.random(in: 0...10, using: &rng))
            let k = try #require(Bytes32(rng.bytes(32)))
            var w = WireWriter()
            w.writeU8(a); w.writeU16(b); w.writeU32(c); w.writeU64(d); w.writeI64(e); w.writeBool(f)
            w.writeBytes(g); w.writeString(h); w.writeBytes32(k)
            try WireReader.decode(w.bytes) { (r: inout WireReader) throws(WireError) in
                #expect(try r.readU8(field: "a") == a)
                #expect(try r.readU16(field: "b") == b)
                #expect(try r.readU32(field: "c") == c)
                #expect(try r.readU64(field: "d") == d)
                #expect(try r.readI64(field: "e") == e)
                #expect(try r.readBool(field: "f") == f)
                #expect(Array(try r.readBytes(field: "g", maxLength: 40)) == g)
                #expect(try r.readString(field: "h", maxLength: 100) == h)
                #expect(try r.readBytes32(field: "k") == k)
            }
        }
    }

    @Test func booleanOtherThanZeroOrOneIsRefused() {
        for byte: UInt8 in [2, 7, 0x80, 0xff] {
            #expect(throws: WireError.invalidValue(field: "flag", reason: "a boolean byte must be 0 or 1, got \(byte)")) {
                try WireReader.decode([byte]) { (r: inout WireReader) throws(WireError) in try r.readBool(field: "flag") }
            }
        }
    }

    @Test func optionalTagOtherThanZeroOrOneIsRefused() throws {
        let absent = try WireReader.decode([0]) { (r: inout WireReader) throws(WireError) in
            try r.readOptional(field: "opt") { (r: inout WireReader) throws(WireError) in try r.readU8(field: "v") }
        }
        #expect(absent == nil)
        let present = try WireReader.decode([1, 9]) { (r: inout WireReader) throws(WireError) in
            try r.readOptional(field: "opt") { (r: inout WireReader) throws(WireError) in try r.readU8(field: "v") }
        }
        #expect(present == 9)
        #expect(throws: WireError.invalidValue(field: "opt", reason: "an optional's tag must be 0 or 1, got 2")) {
            try WireReader.decode([2, 9]) { (r: inout WireReader) throws(WireError) in
                try r.readOptional(field: "opt") { (r: inout WireReader) throws(WireError) in try r.readU8(field: "v") }
            }
        }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: WireError.invalidValue(field: "name", reason: "not valid UTF-8")) {
            try WireReader.decode([2, 0, 0, 0, 0xc3, 0x28]) { (r: inout WireReader) throws(WireError) in
                try r.readString(field: "name", maxLength: 10)
            }
        }
    }

    @Test func truncationIsReportedWithTheField() {
        #expect(throws: WireError.truncated(field: "epoch", needed: 8, remaining: 3)) {
            try WireReader.decode([1, 2, 3]) { (r: inout WireReader) throws(WireError) in try r.readU64(field: "epoch") }
        }
        #expect(throws: WireError.truncated(field: "body", needed: 5, remaining: 2)) {
            try WireReader.decode([5, 0, 0, 0, 1, 2]) { (r: inout WireReader) throws(WireError) in
                try r.readBytes(field: "body", maxLength: 100)
            }
        }
        #expect(throws: WireError.truncated(field: "sig", needed: 64, remaining: 40)) {
            try WireReader.decode([UInt8](repeating: 0, count: 40)) { (r: inout WireReader) throws(WireError) in
                try r.readSignature(field: "sig")
            }
        }
        #expect(throws: WireError.truncated(field: "key", needed: 32, remaining: 31)) {
            try WireReader.decode([UInt8](repeating: 0, count: 31)) { (r: inout WireReader) throws(WireError) in
                try r.readBytes32(field: "key")
            }
        }
    }

    @Test func trailingBytesAreRefused() {
        #expect(throws: WireError.trailingBytes(count: 2)) {
            try WireReader.decode([1, 0, 0xaa, 0xbb]) { (r: inout WireReader) throws(WireError) in try r.readU16(field: "n") }
        }
    }

    @Test func lengthOverLimitIsRefusedBeforeReading() {
        // The prefix says 11 bytes, the limit is 10: refused even though the bytes are present.
        let input: [UInt8] = [11, 0, 0, 0] + [UInt8](repeating: 0x61, count: 11)
        #expect(throws: WireError.lengthOverLimit(field: "name", length: 11, limit: 10)) {
            try WireReader.decode(input) { (r: inout WireReader) throws(WireError) in try r.readString(field: "name", maxLength: 10) }
        }
        #expect(throws: WireError.lengthOverLimit(field: "ids", length: 5, limit: 4)) {
            try WireReader.decode([5, 0, 0, 0]) { (r: inout WireReader) throws(WireError) in
                try r.readArray(field: "ids", maxCount: 4) { (r: inout WireReader) throws(WireError) in try r.readU8(field: "id") }
            }
        }
    }

    /// A count of 2^32 - 1 eight-byte elements would reserve 32 GiB; it must be refused from the
    /// bytes actually present, before any allocation (the process would not survive otherwise).
    @Test func hugeArrayCountIsRefusedWithoutAllocating() {
        let input: [UInt8] = [0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8]
        #expect(throws: WireError.truncated(field: "values", needed: Int(UInt32.max) * 8, remaining: 8)) {
            try WireReader.decode(input) { (r: inout WireReader) throws(WireError) in
                try r.readArray(field: "values", maxCount: Int(UInt32.max), minElementSize: 8) { (r: inout WireReader) throws(WireError) in
                    try r.readU64(field: "value")
                }
            }
        }
    }

    @Test func hugeByteLengthIsRefusedWithoutAllocating() {
        let input: [UInt8] = [0xff, 0xff, 0xff, 0xff, 1, 2, 3]
        #expect(throws: WireError.truncated(field: "blob", needed: Int(UInt32.max), remaining: 3)) {
            try WireReader.decode(input) { (r: inout WireReader) throws(WireError) in
                try r.readBytes(field: "blob", maxLength: Int(UInt32.max))
            }
        }
    }

    @Test func bytesShareTheInputStorage() throws {
        let input: [UInt8] = [3, 0, 0, 0, 7, 8, 9, 0xee]
        var reader = WireReader(input)
        let slice = try reader.readBytes(field: "b", maxLength: 3)
        #expect(slice.startIndex == 4 && Array(slice) == [7, 8, 9])
        #expect(reader.remaining == 1 && reader.consumed == 7 && !reader.isAtEnd)
        #expect(Array(reader.readRemaining()) == [0xee])
        #expect(reader.isAtEnd)
    }

    @Test func readerWorksOnASliceWithNonZeroStart() throws {
        let buffer: [UInt8] = [0xaa, 0xbb, 0x04, 0x03, 0x02, 0x01, 0xcc]
        let value = try WireReader.decode(buffer[2..<6]) { (r: inout WireReader) throws(WireError) in try r.readU32(field: "v") }
        #expect(value == 0x0102_0304)
    }

    @Test func strictlyAscendingSetsOnly() throws {
        try WireReader.requireStrictlyAscending([1, 2, 5], field: "set")
        try WireReader.requireStrictlyAscending([Int](), field: "set")
        #expect(throws: WireError.self) { try WireReader.requireStrictlyAscending([1, 1], field: "set") }
        #expect(throws: WireError.self) { try WireReader.requireStrictlyAscending([2, 1], field: "set") }
    }

    @Test func everyErrorHasACodeAndADescriptionNamingTheProblem() {
        let errors: [(WireError, String, String)] = [
            (.truncated(field: "statement.body", needed: 4, remaining: 1), "truncated", "statement.body"),
            (.trailingBytes(count: 3), "trailing-bytes", "3 unexpected bytes"),
            (.lengthOverLimit(field: "statement.type", length: 33, limit: 32), "length-over-limit", "33 exceeds its limit of 32"),
            (.unknownVersion(what: "signed statement", version: 2, highestKnown: 1), "unknown-version", "version 2"),
            (.unknownType("future"), "unknown-type", "\"future\""),
            (.invalidValue(field: "flag", reason: "must be 0 or 1"), "invalid-value", "invalid flag: must be 0 or 1"),
            (.badSignature, "bad-signature", "signature does not verify"),
            (.wrongNetwork(expected: "main", got: "test"), "wrong-network", "\"test\", not \"main\""),
        ]
        for (error, code, fragment) in errors {
            #expect(error.code == code)
            #expect(error.description.contains(fragment), "\(error.description)")
        }
        #expect(Set(errors.map(\.0.code)).count == errors.count)
    }
}
