import Foundation
import Testing
import ChorusCrypto
@testable import ChorusCompute

/// Writes `writer`'s bytes (optionally transformed) to a temporary file and opens it.
private func open(_ bytes: [UInt8]) throws -> Result<GGUFFile, GGUFError> {
    let url = try TestPaths.temporaryFile("model.gguf")
    defer { TestPaths.removeTemporary(url) }
    try Data(bytes).write(to: url)
    do {
        return .success(try GGUFFile(path: url.path))
    } catch {
        return .failure(error)
    }
}

private func expectKind(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
                        _ matches: (GGUFError.Kind) -> Bool) throws {
    switch try open(bytes) {
    case .success:
        Issue.record("expected the reader to reject the file", sourceLocation: sourceLocation)
    case let .failure(error):
        #expect(matches(error.kind), "unexpected error: \(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains("model.gguf"), sourceLocation: sourceLocation)
    }
}

@Suite struct GGUFReaderTests {
    static let allMetadata: [(String, GGUFValue)] = [
        ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60_000)), ("i16", .int16(-30_000)),
        ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)),
        ("u64", .uint64(UInt64.max)), ("i64", .int64(Int64.min)),
        ("f32", .float32(-1.5)), ("f64", .float64(0.1)), ("yes", .bool(true)), ("no", .bool(false)),
        ("text", .string("héllo ✓")), ("empty", .string("")),
        ("ints", .array(elementType: .int32, [.int32(1), .int32(-2), .int32(3)])),
        ("strings", .array(elementType: .string, [.string("a"), .string(""), .string("ccc")])),
        ("none", .array(elementType: .float32, [])),
        ("nested", .array(elementType: .array, [.array(elementType: .uint8, [.uint8(1), .uint8(2)]),
                                                  .array(elementType: .bool, [.bool(true)])])),
    ]

    @Test(arguments: [UInt32(2), 3])
    func metadataRoundTripsEveryValueType(version: UInt32) throws {
        var w = GGUFWriterForTests()
        w.version = version
        for (k, v) in Self.allMetadata { w.add(k, v) }
        let file = try open(w.bytes()).get()
        #expect(file.version == version)
        #expect(file.metadataKeys == Self.allMetadata.map(\.0))
        for (k, v) in Self.allMetadata { #expect(file.metadata[k] == v, "\(k)") }
        #expect(try file.requiredInt("u32") == 4_000_000_000)
        #expect(try file.requiredDouble("f32") == -1.5)
        #expect(try file.requiredString("text") == "héllo ✓")
        #expect(try file.requiredStringArray("strings") == ["a", "", "ccc"])
        #expect(try file.requiredIntArray("ints") == [1, -2, 3])
        #expect(try file.optionalBool("yes") == true)
        #expect(file.tensors.isEmpty)
    }

    @Test func metadataAccessorsRejectWrongTypes() throws {
        var w = GGUFWriterForTests()
        for (k, v) in Self.allMetadata { w.add(k, v) }
        let file = try open(w.bytes()).get()
        #expect(throws: GGUFError.self) { try file.requiredInt("text") }
        #expect(throws: GGUFError.self) { try file.requiredInt("yes") }
        #expect(throws: GGUFError.self) { try file.requiredString("u8") }
        #expect(throws: GGUFError.self) { try file.requiredStringArray("ints") }
        #expect(throws: GGUFError.self) { try file.requiredIntArray("strings") }
        #expect(throws: GGUFError(file: file.path, .missingMetadata(key: "absent"))) { try file.requiredInt("absent") }
        #expect(try file.optionalInt("absent") == nil)
    }

    /// Hand-built blocks with exactly representable scales, and the values ggml defines for them.
    static func knownBlocks() -> [(name: String, type: GGMLType, data: [UInt8], expected: [Float])] {
        var out: [(name: String, type: GGMLType, data: [UInt8], expected: [Float])] = []
        func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

        // Q4_0: d = 0.5; byte j = (low: j, high: 15 − j) → x[j] = (j − 8)/2, x[j+16] = (7 − j)/2.
        var q40 = u16(0x3800)
        var e40 = [Float](repeating: 0, count: 32)
        for j in 0..<16 {
            q40.append(UInt8(j) | UInt8(15 - j) << 4)
            e40[j] = Float(j - 8) * 0.5
            e40[j + 16] = Float(7 - j) * 0.5
        }
        out.append(("q4_0", .q4_0, q40, e40))

        // Q4_1: d = 0.25, m = −1 → x = q/4 − 1; two blocks (second with d = 2, m = 0.5).
        var q41: [UInt8] = [], e41: [Float] = []
        for (d, dBits, m, mBits) in [(Float(0.25), UInt16(0x3400), Float(-1), UInt16(0xBC00)),
                                     (Float(2), UInt16(0x4000), Float(0.5), UInt16(0x3800))] {
            q41 += u16(dBits) + u16(mBits)
            var block = [Float](repeating: 0, count: 32)
            for j in 0..<16 {
                let lo = (j * 7) % 16, hi = (j * 3 + 5) % 16
                q41.append(UInt8(lo) | UInt8(hi) << 4)
                block[j] = Float(lo) * d + m
                block[j + 16] = Float(hi) * d + m
            }
            e41 += block
        }
        out.append(("q4_1", .q4_1, q41, e41))

        // Q8_0: d = 2 → x = 2q for q in −128 …
        var q80 = u16(0x4000), e80: [Float] = []
        for j in 0..<32 {
            let q = Int8(truncatingIfNeeded: -128 + j * 9)
            q80.append(UInt8(bitPattern: q))
            e80.append(Float(q) * 2)
        }
        out.append(("q8_0", .q8_0, q80, e80))

        let halves: [(UInt16, Float)] = [(0x3C00, 1), (0xBE00, -1.5), (0x7BFF, 65504), (0x0001, 0x1p-24), (0x0000, 0), (0x3555, 0.333251953125)]
        out.append(("f16", .f16, halves.flatMap { u16($0.0) }, halves.map(\.1)))
        let bf: [(UInt16, Float)] = [(0x3F80, 1), (0xC040, -3), (0x4049, 3.140625), (0x0000, 0)]
        out.append(("bf16", .bf16, bf.flatMap { u16($0.0) }, bf.map(\.1)))
        let f32: [Float] = [1, -2.5, .pi, 1e-30, -0]
        out.append(("f32", .f32, f32.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }, f32))
        return out
    }

    @Test(arguments: [32, 64, 256])
    func tensorsRoundTripEveryTypeAtAnyAlignment(alignment: Int) throws {
        var w = GGUFWriterForTests()
        w.alignment = alignment
        if alignment != 32 { w.add("general.alignment", .uint32(UInt32(alignment))) }
        let blocks = Self.knownBlocks()
        for b in blocks {
            w.addTensor(b.name, dimensions: [b.expected.count], type: b.type, data: b.data)
        }
        w.addF32("matrix", dimensions: [4, 3, 2], values: (0..<24).map(Float.init))
        let file = try open(w.bytes()).get()
        #expect(file.alignment == alignment)
        #expect(file.dataOffset % alignment == 0)
        #expect(file.tensors.map(\.name) == blocks.map(\.name) + ["matrix"])
        for b in blocks {
            let info = try #require(file.tensor(named: b.name))
            #expect(info.type == b.type)
            #expect(info.byteCount == b.data.count)
            #expect(info.fileOffset % alignment == 0)
            let values = file.floats(info)
            #expect(values.count == b.expected.count)
            for (got, want) in zip(values, b.expected) {
                #expect(got == want && got.sign == want.sign, "\(b.name): \(got) vs \(want)")
            }
        }
        let matrix = try #require(file.tensor(named: "matrix"))
        #expect(matrix.dimensions == [4, 3, 2])
        #expect(matrix.elementCount == 24)
        #expect(file.floats(matrix) == (0..<24).map(Float.init))
    }

    // MARK: - Corrupt files

    static func validFile() -> [UInt8] {
        var w = GGUFWriterForTests()
        w.add("general.architecture", .string("llama"))
        w.add("tokens", .array(elementType: .string, [.string("a"), .string("b")]))
        w.addF32("t", dimensions: [8], values: (0..<8).map(Float.init))
        return w.bytes()
    }

    @Test func truncationAnywhereIsReported() throws {
        let bytes = Self.validFile()
        let file = try open(bytes).get()
        let tensorStart = try #require(file.tensor(named: "t")).fileOffset
        // Every cut in the header must be "truncated"; a cut inside the data "out of bounds".
        for cut in [0, 3, 4, 7, 12, 20, 30, 50, 70, 90, tensorStart - 1] where cut < tensorStart {
            try expectKind(Array(bytes.prefix(cut))) { kind in
                if case .truncated = kind { return true }
                if case .cannotOpen = kind { return false }
                // A cut inside the tensor table's padding leaves a parsable header with data missing.
                if case .tensorOutOfBounds = kind { return true }
                return false
            }
        }
        try expectKind(Array(bytes.prefix(tensorStart + 5))) { kind in
            if case .tensorOutOfBounds(tensor: "t", _, 32, _) = kind { return true }
            return false
        }
    }

    @Test func emptyFileIsTruncated() throws {
        try expectKind([]) { if case .truncated(field: "magic", _, _) = $0 { true } else { false } }
    }

    @Test func badMagic() throws {
        var bytes = Self.validFile()
        bytes[0] = UInt8(ascii: "X")
        try expectKind(bytes) { $0 == .badMagic(found: Array("XGUF".utf8)) }
    }

    @Test(arguments: [UInt32(1), 4, 0xFFFF_FFFF])
    func unsupportedVersion(_ version: UInt32) throws {
        var bytes = Self.validFile()
        withUnsafeBytes(of: version.littleEndian) { for i in 0..<4 { bytes[4 + i] = $0[i] } }
        try expectKind(bytes) { $0 == .unsupportedVersion(version) }
    }

    @Test(arguments: [(UInt32(14), "Q6_K"), (12, "Q4_K"), (28, "F64"), (99, "unknown type 99")])
    func unsupportedTensorTypeIsNamed(rawType: UInt32, name: String) throws {
        var w = GGUFWriterForTests()
        w.tensors.append(.init(name: "blk.0.ffn_down.weight", dimensions: [256], rawType: rawType, data: [UInt8](repeating: 0, count: 256)))
        try expectKind(w.bytes()) { $0 == .unsupportedTensorType(tensor: "blk.0.ffn_down.weight", type: name) }
        if case let .failure(error) = try open(w.bytes()) {
            #expect(error.description.contains(name))
        }
    }

    @Test func tensorDataOutOfBounds() throws {
        var w = GGUFWriterForTests()
        w.addF32("t", dimensions: [8], values: (0..<8).map(Float.init))
        w.tensors[0].offsetOverride = 1 << 20
        try expectKind(w.bytes()) { if case .tensorOutOfBounds(tensor: "t", _, 32, _) = $0 { true } else { false } }
        w.tensors[0].offsetOverride = UInt64.max - 31
        try expectKind(w.bytes()) { if case .tensorOutOfBounds(tensor: "t", _, _, _) = $0 { true } else { false } }
    }

    @Test func misalignedTensorOffset() throws {
        var w = GGUFWriterForTests()
        w.addF32("t", dimensions: [8], values: (0..<8).map(Float.init))
        w.tensors[0].offsetOverride = 4
        try expectKind(w.bytes()) { if case .invalidTensorInfo(tensor: "t", _) = $0 { true } else { false } }
    }

    @Test func badTensorShapes() throws {
        var w = GGUFWriterForTests()
        w.tensors.append(.init(name: "q", dimensions: [33], rawType: GGMLType.q8_0.rawValue, data: [UInt8](repeating: 0, count: 68)))
        try expectKind(w.bytes()) { if case .invalidTensorInfo(tensor: "q", _) = $0 { true } else { false } }
        w.tensors = [.init(name: "z", dimensions: [4, 0], rawType: 0, data: [])]
        try expectKind(w.bytes()) { if case .invalidTensorInfo(tensor: "z", _) = $0 { true } else { false } }
        w.tensors = [.init(name: "five", dimensions: [1, 1, 1, 1, 1], rawType: 0, data: [0, 0, 0, 0])]
        try expectKind(w.bytes()) { if case .invalidTensorInfo(tensor: "five", _) = $0 { true } else { false } }
    }

    @Test func invalidMetadataEncodings() throws {
        var bytes = Self.validFile()
        // The first key's value type sits after magic(4) version(4) counts(16) key(8 + 20).
        let typeOffset = 4 + 4 + 16 + 8 + "general.architecture".utf8.count
        bytes[typeOffset] = 42
        try expectKind(bytes) { $0 == .invalidValueType(key: "general.architecture", rawType: 42) }

        var w = GGUFWriterForTests()
        w.add("flag", .uint8(7))
        var raw = w.bytes()
        raw[4 + 4 + 16 + 8 + 4] = UInt8(GGUFValueType.bool.rawValue)
        try expectKind(raw) { if case .invalidMetadata(key: "flag", _, _) = $0 { true } else { false } }

        var dup = GGUFWriterForTests()
        dup.add("k", .uint8(1))
        dup.add("k", .uint8(2))
        try expectKind(dup.bytes()) { $0 == .duplicate(name: "k") }

        var bad = GGUFWriterForTests()
        bad.add("s", .string("ok"))
        var badBytes = bad.bytes()
        badBytes[4 + 4 + 16 + 8 + 1 + 4 + 8] = 0xFF  // first byte of the string value
        try expectKind(badBytes) { $0 == .invalidString(field: "s") }
    }

    @Test func hugeCountsAreTruncationNotAllocation() throws {
        // Huge tensor or key counts make the reader consume the rest of the file as entries; it
        // must stop with an error (whatever garbage it meets first), not allocate or crash.
        for countOffset in [8, 16] {
            var bytes = Self.validFile()
            withUnsafeBytes(of: UInt64(1 << 60).littleEndian) { for i in 0..<8 { bytes[countOffset + i] = $0[i] } }
            try expectKind(bytes) { _ in true }
        }

        var w = GGUFWriterForTests()
        w.add("huge", .array(elementType: .uint64, [.uint64(1)]))
        var raw = w.bytes()
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { for i in 0..<8 { raw[4 + 4 + 16 + 8 + 4 + 4 + 4 + i] = $0[i] } }
        try expectKind(raw) { if case .truncated(field: "huge", _, _) = $0 { true } else { false } }
    }

    @Test func deeplyNestedArraysAreRejected() throws {
        var value = GGUFValue.array(elementType: .uint8, [])
        for _ in 0..<40 { value = .array(elementType: .array, [value]) }
        var w = GGUFWriterForTests()
        w.add("deep", value)
        try expectKind(w.bytes()) { $0 == .arrayNestingTooDeep(key: "deep") }
    }

    @Test(arguments: [UInt32(0), 3, 48])
    func invalidAlignment(_ alignment: UInt32) throws {
        var w = GGUFWriterForTests()
        w.add("general.alignment", .uint32(alignment))
        try expectKind(w.bytes()) { $0 == .invalidAlignment(UInt64(alignment)) }
    }

    @Test func missingFile() throws {
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/chorus/model.gguf") }
        do {
            _ = try GGUFFile(path: "/nonexistent/chorus/model.gguf")
        } catch {
            guard case .cannotOpen = error.kind else { Issue.record("wrong kind \(error)"); return }
            #expect(error.description.contains("/nonexistent/chorus/model.gguf"))
        }
    }

    // MARK: - Llama models from GGUF

    static let seed = Blake2b.hash256(Array("gguf-tests".utf8))

    @Test(arguments: [LlamaConfig.syntheticTiny, .syntheticSmall])
    func syntheticModelThroughGGUFMatchesDirectBuild(config: LlamaConfig) throws {
        let synthetic = SyntheticModel(config: config, seed: Self.seed)
        let file = try open(GGUFWriterForTests.llama(synthetic).bytes()).get()
        let fromFile = try LlamaModel(gguf: file)
        #expect(fromFile.config == config)
        let direct = try synthetic.build()
        let tokens = [1, 72, 101, 108, 108, 111, 255, 0]
        let a = try fromFile.forward([ForwardSequence(tokens: tokens, logits: .all)])
        let b = try direct.forward([ForwardSequence(tokens: tokens, logits: .all)])
        #expect(a.logits == b.logits)
    }

    static func llamaWriter(mutate: (inout GGUFWriterForTests) -> Void) throws -> Result<LlamaModel, GGUFError> {
        var w = GGUFWriterForTests.llama(SyntheticModel(config: .syntheticTiny, seed: seed))
        mutate(&w)
        let file: GGUFFile
        switch try open(w.bytes()) {
        case let .success(f): file = f
        case let .failure(e): return .failure(e)
        }
        do { return .success(try LlamaModel(gguf: file)) } catch { return .failure(error) }
    }

    @Test(arguments: ["llama.block_count", "llama.embedding_length", "llama.attention.layer_norm_rms_epsilon",
                      "general.architecture", "llama.context_length"])
    func missingRequiredMetadata(key: String) throws {
        let result = try Self.llamaWriter { w in w.metadata.removeAll { $0.0 == key } }
        guard case let .failure(error) = result else { Issue.record("loaded without \(key)"); return }
        #expect(error.kind == .missingMetadata(key: key))
        #expect(error.description.contains(key))
    }

    @Test func wrongArchitectureIsRejected() throws {
        let result = try Self.llamaWriter { w in
            if let i = w.metadata.firstIndex(where: { $0.0 == "general.architecture" }) { w.metadata[i].1 = .string("bert") }
        }
        guard case let .failure(error) = result, case .invalidMetadata(key: "general.architecture", _, _) = error.kind else {
            Issue.record("expected invalidMetadata for the architecture"); return
        }
    }

    @Test func shapeMismatchNamesTheTensor() throws {
        let result = try Self.llamaWriter { w in
            if let i = w.tensors.firstIndex(where: { $0.name == "blk.1.attn_k.weight" }) {
                w.tensors[i].dimensions = [32, 64]  // same element count, wrong shape
            }
        }
        guard case let .failure(error) = result else { Issue.record("loaded a mis-shaped tensor"); return }
        #expect(error.kind == .shapeMismatch(tensor: "blk.1.attn_k.weight", expected: [64, 32], found: [32, 64]))
    }

    @Test func missingTensorIsNamed() throws {
        let result = try Self.llamaWriter { w in w.tensors.removeAll { $0.name == "blk.0.ffn_up.weight" } }
        guard case let .failure(error) = result else { Issue.record("loaded without a tensor"); return }
        #expect(error.kind == .missingTensor(name: "blk.0.ffn_up.weight"))
    }
}
