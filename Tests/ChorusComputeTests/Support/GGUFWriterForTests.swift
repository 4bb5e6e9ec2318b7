import Foundation
@testable import ChorusCompute

/// A minimal GGUF writer for tests: builds files (valid or deliberately broken) for the reader.
struct GGUFWriterForTests {
    struct Tensor {
        var name: String
        var dimensions: [Int]
        var rawType: UInt32
        var data: [UInt8]
        /// Overrides the computed (aligned) data offset, to produce out-of-bounds entries.
        var offsetOverride: UInt64?
    }

    var version: UInt32 = 3
    var alignment = 32
    var metadata: [(String, GGUFValue)] = []
    var tensors: [Tensor] = []

    mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) {
        tensors.append(Tensor(name: name, dimensions: dimensions, rawType: type.rawValue, data: data))
    }

    mutating func addF32(_ name: String, dimensions: [Int], values: [Float]) {
        var data: [UInt8] = []
        data.reserveCapacity(values.count * 4)
        for v in values { Self.append(&data, v.bitPattern) }
        addTensor(name, dimensions: dimensions, type: .f32, data: data)
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out += Array("GGUF".utf8)
        Self.append(&out, version)
        Self.append(&out, UInt64(tensors.count))
        Self.append(&out, UInt64(metadata.count))
        for (key, value) in metadata {
            Self.appendString(&out, key)
            Self.append(&out, value.type.rawValue)
            Self.appendValue(&out, value)
        }
        var offsets: [UInt64] = []
        var next = 0
        for t in tensors {
            offsets.append(t.offsetOverride ?? UInt64(next))
            next = (next + t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, offset) in zip(tensors, offsets) {
            Self.appendString(&out, t.name)
            Self.append(&out, UInt32(t.dimensions.count))
            for d in t.dimensions { Self.append(&out, UInt64(d)) }
            Self.append(&out, t.rawType)
            Self.append(&out, offset)
        }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        for t in tensors {
            out += t.data
            while (out.count - dataStart) % alignment != 0 { out.append(0) }
        }
        return out
    }

    func write(to url: URL) throws {
        try Data(bytes()).write(to: url)
    }

    // MARK: - Encoding

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    static func appendString(_ out: inout [UInt8], _ s: String) {
        append(&out, UInt64(s.utf8.count))
        out += Array(s.utf8)
    }

    static func appendValue(_ out: inout [UInt8], _ value: GGUFValue) {
        switch value {
        case let .uint8(v): append(&out, v)
        case let .int8(v): append(&out, v)
        case let .uint16(v): append(&out, v)
        case let .int16(v): append(&out, v)
        case let .uint32(v): append(&out, v)
        case let .int32(v): append(&out, v)
        case let .uint64(v): append(&out, v)
        case let .int64(v): append(&out, v)
        case let .float32(v): append(&out, v.bitPattern)
        case let .float64(v): append(&out, v.bitPattern)
        case let .bool(v): out.append(v ? 1 : 0)
        case let .string(s): appendString(&out, s)
        case let .array(elementType, items):
            append(&out, elementType.rawValue)
            append(&out, UInt64(items.count))
            for item in items { appendValue(&out, item) }
        }
    }

    /// fp32 → IEEE half, round to nearest even (values used in tests are exactly representable).
    static func half(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let a = abs(f)
        if a == 0 { return sign }
        if a < 0x1p-14 { return sign | UInt16((a * 0x1p24).rounded(.toNearestOrEven)) }
        let exponent = Int((a.bitPattern >> 23) & 0xFF) - 127 + 15
        let mantissa = (a.bitPattern & 0x7F_FFFF) >> 13
        return sign | UInt16(exponent << 10) | UInt16(mantissa)
    }

    /// The GGUF metadata and F32 tensors of a synthetic model, so it can be loaded from a file.
    static func llama(_ model: SyntheticModel) -> GGUFWriterForTests {
        let c = model.config
        var w = GGUFWriterForTests()
        w.add("general.architecture", .string("llama"))
        w.add("general.name", .string("synthetic"))
        w.add("llama.block_count", .uint32(UInt32(c.layerCount)))
        w.add("llama.context_length", .uint32(UInt32(c.contextLength)))
        w.add("llama.embedding_length", .uint32(UInt32(c.hiddenSize)))
        w.add("llama.feed_forward_length", .uint32(UInt32(c.feedForwardSize)))
        w.add("llama.attention.head_count", .uint32(UInt32(c.headCount)))
        w.add("llama.attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
        w.add("llama.rope.freq_base", .float32(c.ropeBase))
        w.add("llama.attention.layer_norm_rms_epsilon", .float32(c.rmsEpsilon))
        w.add("llama.vocab_size", .uint32(UInt32(c.vocabularySize)))
        w.add("llama.rope.dimension_count", .uint32(UInt32(c.ropeDimensions)))
        for (name, dims) in LlamaWeights.tensorShapes(c) {
            w.addF32(name, dimensions: dims, values: model.tensorValues(name: name, dimensions: dims))
        }
        return w
    }
}
