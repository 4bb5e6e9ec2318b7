import Testing
@testable import ChorusCompute

/// The decode-step kernels (`QuantizedKernels`, `WeightMatrix.multiply`) against the reference
/// they replace: dequantize the blocks to fp32 (`Dequantize.run`), then a dot product in fp64.
///
/// Tolerance: the kernel sums in fp32. For a row of nb blocks, every term d·code·x (and, for
/// Q4_1, m·x) passes through at most nb + 16 roundings on its way to the result (4 product sums
/// in a block's lanes, the block scale, nb block accumulations, the lane reduction, the Q4_1
/// minimum share and its sum), each of relative size ≤ 2⁻²⁴. The standard bound for such a sum is
/// |error| ≤ (nb + 16)·2⁻²⁴·Σ|terms|, which is what the tests allow; anything above it is a wrong
/// code, scale or element order rather than rounding.
struct QuantizedKernelTests {
    /// SplitMix64: reproducible random blocks.
    struct SeededRandomForTests: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// `rows × columns` elements of `type` as ggml blocks: random codes, scales k/1024 and
    /// minimums −k/256 (exact in fp16).
    static func randomBlocks(_ type: GGMLType, rows: Int, columns: Int, rng: inout SeededRandomForTests) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<(rows * columns / type.blockSize) {
            func half(_ f: Float) { let h = GGUFWriterForTests.half(f); out += [UInt8(h & 0xFF), UInt8(h >> 8)] }
            switch type {
            case .q4_0, .q8_0:
                half(Float(Int.random(in: 1...64, using: &rng)) / 1024 * (Bool.random(using: &rng) ? 1 : -1))
            case .q4_1:
                half(Float(Int.random(in: 1...64, using: &rng)) / 1024)
                half(-Float(Int.random(in: 0...64, using: &rng)) / 256)
            case .f32, .f16, .bf16:
                preconditionFailure("block types only")
            }
            for _ in 0..<(type == .q8_0 ? 32 : 16) { out.append(UInt8.random(in: 0...255, using: &rng)) }
        }
        return out
    }

    static func dequantized(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in values.withUnsafeMutableBufferPointer { Dequantize.run(type, source: src, into: $0) } }
        return values
    }

    static func matrix(_ type: GGMLType, _ bytes: [UInt8], rows: Int, columns: Int) -> QuantizedMatrix {
        bytes.withUnsafeBytes { QuantizedMatrix(rows: rows, columns: columns, type: type, source: $0) }
    }

    /// The fp64 dot of dequantized row `w` with `x`, and Σ|terms| for the tolerance.
    static func reference(_ type: GGMLType, _ bytes: [UInt8], row: [Float], x: ArraySlice<Float>) -> (value: Double, terms: Double) {
        var value = 0.0, terms = 0.0
        for (k, (w, v)) in zip(row, x).enumerated() {
            value += Double(w) * Double(v)
            if type == .q4_1 {
                // Split as the kernel computes it: d·code·x + m·x.
                let block = (k / 32) * 20
                let m = Double(Dequantize.halfToFloat(UInt16(bytes[block + 2]) | UInt16(bytes[block + 3]) << 8))
                terms += abs((Double(w) - m) * Double(v)) + abs(m * Double(v))
            } else {
                terms += abs(Double(w) * Double(v))
            }
        }
        return (value, terms)
    }

    static func tolerance(columns: Int, terms: Double) -> Double {
        Double(columns / 32 + 16) * 0x1p-24 * terms
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func blocksExpandExactlyAsDequantizeDoes(type: GGMLType) {
        var rng = SeededRandomForTests(state: UInt64(type.rawValue))
        let rows = 5, columns = 96
        let bytes = Self.randomBlocks(type, rows: rows, columns: columns, rng: &rng)
        let m = Self.matrix(type, bytes, rows: rows, columns: columns)
        #expect(m.format != .f32)
        var out = [Float](repeating: .nan, count: 3 * columns)
        out.withUnsafeMutableBufferPointer { m.dequantize(rows: 1..<4, into: $0.baseAddress!) }
        let expected = Self.dequantized(type, bytes, count: rows * columns)[columns..<(4 * columns)]
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func dotMatchesDequantizeThenFP64(type: GGMLType) {
        var rng = SeededRandomForTests(state: 100 + UInt64(type.rawValue))
        let rows = 7, columns = 576, batch = 3
        let bytes = Self.randomBlocks(type, rows: rows, columns: columns, rng: &rng)
        let w = WeightMatrix([Self.matrix(type, bytes, rows: rows, columns: columns)])
        let dense = Self.dequantized(type, bytes, count: rows * columns)
        let x = (0..<(batch * columns)).map { _ in Float.random(in: -3...3, using: &rng) }
        var single = [Float](repeating: 0, count: batch * rows)
        var batched = [Float](repeating: 0, count: batch * rows)
        x.withUnsafeBufferPointer { xs in
            for r in 0..<batch {
                single.withUnsafeMutableBufferPointer {
                    w.multiply(xs.baseAddress! + r * columns, count: 1, ldx: columns, out: $0.baseAddress! + r * rows, ldo: rows, accumulate: false)
                }
            }
            batched.withUnsafeMutableBufferPointer {
                w.multiply(xs.baseAddress!, count: batch, ldx: columns, out: $0.baseAddress!, ldo: rows, accumulate: false)
            }
        }
        for r in 0..<batch {
            for n in 0..<rows {
                let ref = Self.reference(type, Array(bytes[(n * columns / 32 * type.blockBytes)...]),
                                         row: Array(dense[(n * columns)..<((n + 1) * columns)]),
                                         x: x[(r * columns)..<((r + 1) * columns)])
                let got = Double(single[r * rows + n])
                #expect(abs(got - ref.value) <= Self.tolerance(columns: columns, terms: ref.terms), "\(type) row \(n): \(got) vs \(ref.value)")
            }
        }
        // A row's result does not depend on what it is batched with.
        #expect(batched.map(\.bitPattern) == single.map(\.bitPattern))
    }

    @Test func stackedPartsOfMixedTypesAccumulateIntoTheResidual() {
        var rng = SeededRandomForTests(state: 7)
        let columns = 64
        let parts: [(GGMLType, Int)] = [(.q4_1, 3), (.q8_0, 2), (.q4_0, 4)]
        var matrices: [QuantizedMatrix] = [], dense: [Float] = [], blocks: [(GGMLType, [UInt8])] = []
        for (type, rows) in parts {
            let bytes = Self.randomBlocks(type, rows: rows, columns: columns, rng: &rng)
            matrices.append(Self.matrix(type, bytes, rows: rows, columns: columns))
            dense += Self.dequantized(type, bytes, count: rows * columns)
            for n in 0..<rows { blocks.append((type, Array(bytes[(n * columns / 32 * type.blockBytes)...]))) }
        }
        // An fp32 part (F16/F32 tensors, synthetic models) goes through the plain fp32 loop.
        let f32 = (0..<(2 * columns)).map { _ in Float.random(in: -1...1, using: &rng) }
        matrices.append(f32.withUnsafeBytes { QuantizedMatrix(rows: 2, columns: columns, type: .f32, source: $0) })
        dense += f32
        let w = WeightMatrix(matrices)
        #expect(w.rows == 11 && !w.isPlainFloat)
        let x = (0..<columns).map { _ in Float.random(in: -2...2, using: &rng) }
        let residual = (0..<w.rows).map { Float($0) - 5 }
        var out = residual
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { w.multiply(xs.baseAddress!, count: 1, ldx: columns, out: $0.baseAddress!, ldo: 1, accumulate: true) }
        }
        for n in 0..<w.rows {
            let row = Array(dense[(n * columns)..<((n + 1) * columns)])
            let ref: (value: Double, terms: Double) = n < blocks.count
                ? Self.reference(blocks[n].0, blocks[n].1, row: row, x: x[...])
                : (zip(row, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, zip(row, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) })
            let expected = Double(residual[n]) + ref.value
            #expect(abs(Double(out[n]) - expected) <= Self.tolerance(columns: columns, terms: ref.terms) + 1e-6, "row \(n)")
        }
        var expanded = [Float](repeating: .nan, count: w.rows * columns)
        expanded.withUnsafeMutableBufferPointer { w.dequantize(rows: 0..<w.rows, into: $0.baseAddress!) }
        #expect(expanded.map(\.bitPattern) == dense.map(\.bitPattern))
    }

    @Test func repackedLayoutsRoundTrip() {
        // Element e of a ggml block must come back as element e after the kernel's reordering.
        var ggml4 = [UInt8](repeating: 0, count: 16), ggml8 = [UInt8](repeating: 0, count: 32)
        for e in 0..<32 {
            let code = UInt8(e % 16)
            ggml4[e % 16] |= e < 16 ? code : code << 4
            ggml8[e] = UInt8(bitPattern: Int8(e - 16))
        }
        var out4 = [UInt8](repeating: 0, count: 16), out8 = [UInt8](repeating: 0, count: 32)
        ggml4.withUnsafeBytes { s in out4.withUnsafeMutableBytes { QuantizedKernels.repack4(s.baseAddress!, into: $0.baseAddress!) } }
        ggml8.withUnsafeBytes { s in out8.withUnsafeMutableBytes { QuantizedKernels.repack8(s.baseAddress!, into: $0.baseAddress!) } }
        for e in 0..<32 {
            let word = UInt32(out4[4 * (e % 4)]) | UInt32(out4[4 * (e % 4) + 1]) << 8 | UInt32(out4[4 * (e % 4) + 2]) << 16
                | UInt32(out4[4 * (e % 4) + 3]) << 24
            #expect((word >> (4 * UInt32(e / 4))) & 0xF == UInt32(e % 16))
            #expect(Int(out8[4 * (e % 8) + e / 8]) - 128 == e - 16)
        }
    }
}
