/// A weight matrix `[rows × columns]` (one row per output feature, as GGUF stores it) kept in the
/// block format it was stored in, so the model holds about 4.5–8.5 bits per weight instead of 32.
///
/// Decode steps multiply straight from the blocks (`QuantizedKernels`); prefill and PoC passes
/// expand the matrix into a scratch buffer right before their GEMM (`dequantize`), which yields
/// exactly the fp32 values a load-time dequantization produced, so those passes keep their numerics.
///
/// Layout, repacked at load from ggml's blocks of 32 (fp16 scales widened to fp32 once, which
/// is exact, so no half→float conversion runs in the hot loop; codes reordered as
/// `QuantizedKernels.repack4`/`repack8` say):
/// - `.q4_0`, `.q4_1`: 16 bytes of 4-bit codes per block in `quants`; `scales` d per block;
///   `.q4_1` also `minimums` m. x = (q − 8)·d for Q4_0, x = q·d + m for Q4_1.
/// - `.q8_0`: 32 bytes of codes per block, `scales` d; x = q·d.
/// - `.f32`: plain floats in `quants` (F32/F16/BF16 tensors and synthetic models).
///
/// Invariant: `quants` holds `rows × blocksPerRow × format.blockBytes` bytes (`rows × columns`
/// floats for `.f32`), `scales`/`minimums` `rows × blocksPerRow` floats where the format has them;
/// all written only in `init`.
final class QuantizedMatrix: @unchecked Sendable {
    enum Format: Sendable, Hashable {
        case f32, q4_0, q4_1, q8_0

        /// Bytes of quantized values per block of 32 (f32: 4 per element, blocks of one).
        var blockBytes: Int {
            switch self {
            case .f32: 4
            case .q4_0, .q4_1: 16
            case .q8_0: 32
            }
        }

        var blockSize: Int { self == .f32 ? 1 : 32 }
    }

    let format: Format
    let rows: Int
    let columns: Int
    let blocksPerRow: Int
    let quants: UnsafeMutableRawPointer
    let scales: FloatBuffer
    let minimums: FloatBuffer
    /// 0xFF, kept as a stored value so the Q8_0 kernel's mask is not a compile-time constant
    /// (`QuantizedKernels.byte` says why).
    private(set) var byteMask: UInt32 = 0xFF

    /// Bytes held (quantized values and scales), for the memory accounting in reports.
    var byteCount: Int { rows * blocksPerRow * format.blockBytes + 4 * (scales.count + minimums.count) }

    private init(format: Format, rows: Int, columns: Int) {
        precondition(columns % format.blockSize == 0)
        self.format = format
        self.rows = rows
        self.columns = columns
        blocksPerRow = columns / format.blockSize
        let bytes = max(1, rows * blocksPerRow * format.blockBytes)
        quants = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        quants.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        let blocks = format == .f32 ? 0 : rows * blocksPerRow
        scales = FloatBuffer(count: blocks)
        minimums = FloatBuffer(count: format == .q4_1 ? blocks : 0)
    }

    deinit { quants.deallocate() }

    /// An fp32 matrix (values row-major), e.g. from a synthetic generator or an F16 tensor.
    convenience init(rows: Int, columns: Int, fill: (UnsafeMutableBufferPointer<Float>) throws(GGUFError) -> Void) throws(GGUFError) {
        self.init(format: .f32, rows: rows, columns: columns)
        try fill(UnsafeMutableBufferPointer(start: floats, count: rows * columns))
    }

    /// Repacks ggml blocks of `type` (`source` holds exactly `rows × columns` elements of it).
    /// Types without a block kernel are widened to fp32 (`Dequantize.run`).
    convenience init(rows: Int, columns: Int, type: GGMLType, source: UnsafeRawBufferPointer) {
        let format: Format? = switch type {
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q8_0: .q8_0
        case .f32, .f16, .bf16: nil
        }
        guard let format, columns % 32 == 0 else {
            self.init(format: .f32, rows: rows, columns: columns)
            Dequantize.run(type, source: source, into: UnsafeMutableBufferPointer(start: floats, count: rows * columns))
            return
        }
        self.init(format: format, rows: rows, columns: columns)
        let blocks = rows * blocksPerRow
        precondition(source.count == blocks * type.blockBytes)
        // Invariant for the loads: block b's bytes [b·blockBytes, (b+1)·blockBytes) lie in `source`.
        let d = scales.pointer, m = minimums.pointer
        let header = type.blockBytes - format.blockBytes
        for b in 0..<blocks {
            let base = b * type.blockBytes
            d[b] = Dequantize.halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: base, as: UInt16.self)))
            if format == .q4_1 {
                m[b] = Dequantize.halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: base + 2, as: UInt16.self)))
            }
            let from = source.baseAddress! + base + header, to = quants + b * format.blockBytes
            if format == .q8_0 { QuantizedKernels.repack8(from, into: to) } else { QuantizedKernels.repack4(from, into: to) }
        }
    }

    /// `.f32` storage as floats.
    var floats: UnsafeMutablePointer<Float> { quants.assumingMemoryBound(to: Float.self) }

    /// Writes rows `range` as fp32 into `destination` (`range.count × columns` floats), bit for bit
    /// the values `Dequantize.run` gives for the same blocks.
    func dequantize(rows range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        if format == .f32 {
            destination.update(from: floats + range.lowerBound * columns, count: range.count * columns)
            return
        }
        let first = range.lowerBound * blocksPerRow
        for b in 0..<(range.count * blocksPerRow) {
            QuantizedKernels.dequantizeBlock(self, block: first + b, into: destination + b * 32)
        }
    }
}

/// A projection's weights: one or more matrices stacked by rows (Q|K|V, gate|up), each in its
/// own format, so a file that stores the parts in different types still loads.
struct WeightMatrix {
    let parts: [QuantizedMatrix]
    let rows: Int
    let columns: Int

    init(_ parts: [QuantizedMatrix]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.columns == parts[0].columns })
        self.parts = parts
        rows = parts.reduce(0) { $0 + $1.rows }
        columns = parts[0].columns
    }

    var byteCount: Int { parts.reduce(0) { $0 + $1.byteCount } }

    /// One fp32 part: a GEMM can read the storage directly.
    var isPlainFloat: Bool { parts.count == 1 && parts[0].format == .f32 }

    /// Rows `range` as fp32 into `destination`, in parallel over the cores.
    func dequantize(rows range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        let columns = columns, parts = parts
        Parallel.forEachChunk(range.count, minimumChunk: 256) { chunk in
            var partStart = 0
            for part in parts {
                defer { partStart += part.rows }
                let lower = max(chunk.lowerBound + range.lowerBound, partStart)
                let upper = min(chunk.upperBound + range.lowerBound, partStart + part.rows)
                guard lower < upper else { continue }
                part.dequantize(rows: (lower - partStart)..<(upper - partStart), into: destination + (lower - range.lowerBound) * columns)
            }
        }
    }
}

extension WeightMatrix {
    /// `out[r·ldo + n] (+)= W[n] · x[r·ldx ..< r·ldx + columns]` for r < `count`, n < `rows`: a
    /// decode step's projection straight from the blocks (`QuantizedKernels.dot`), weight rows
    /// split over the cores. With `accumulate` the products are added to `out` (the residual).
    func multiply(_ x: UnsafePointer<Float>, count: Int, ldx: Int, out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool) {
        guard count > 0 else { return }
        let columns = columns, parts = parts
        let blocks = columns / 32
        let sums = FloatBuffer(count: parts.contains { $0.format == .q4_1 } ? count * blocks : 0)
        if sums.count > 0 {
            for r in 0..<count { QuantizedKernels.blockSums(x + r * ldx, count: columns, into: sums.pointer + r * blocks) }
        }
        let sumsPointer = UnsafePointer(sums.pointer)
        Parallel.forEachChunk(rows, minimumChunk: 64) { chunk in
            withUnsafeTemporaryAllocation(of: QuantizedKernels.V.self, capacity: count) { scratch in
                var partStart = 0
                for part in parts {
                    defer { partStart += part.rows }
                    let lower = max(chunk.lowerBound, partStart), upper = min(chunk.upperBound, partStart + part.rows)
                    guard lower < upper else { continue }
                    for n in lower..<upper {
                        QuantizedKernels.dot(part, row: n - partStart, x: x, ldx: ldx, count: count, sums: sumsPointer, ldSums: blocks,
                                             scratch: scratch.baseAddress!, out: out + n, ldo: ldo, accumulate: accumulate)
                    }
                }
            }
        }
    }
}
