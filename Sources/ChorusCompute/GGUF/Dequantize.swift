/// Conversion of ggml storage formats to fp32, done once when a model is loaded. The block layouts
/// follow ggml (all little-endian):
/// - Q4_0: f16 scale d, 16 bytes; byte j holds element j (low nibble) and j+16 (high nibble); x = (q − 8)·d.
/// - Q4_1: f16 scale d, f16 minimum m, 16 bytes as in Q4_0; x = q·d + m.
/// - Q8_0: f16 scale d, 32 int8; x = q·d.
/// - F16 (IEEE half), BF16 (the top 16 bits of an fp32), F32.
enum Dequantize {
    /// `source` holds exactly the blocks for `destination.count` elements of type `type`
    /// (the caller sized both from the same tensor entry).
    static func run(_ type: GGMLType, source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        let n = destination.count
        precondition(source.count == n / type.blockSize * type.blockBytes)
        // Invariant for all loads below: every block index b < n / blockSize, and the block's bytes
        // [b·blockBytes, (b+1)·blockBytes) lie within `source` by the precondition above.
        guard let out = destination.baseAddress else { return }
        switch type {
        case .f32:
            for i in 0..<n {
                out[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f16:
            for i in 0..<n {
                out[i] = halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<n {
                let h = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(h) << 16)
            }
        case .q4_0:
            for b in 0..<(n / 32) {
                let base = b * 18
                let d = halfAt(source, base)
                let o = out + b * 32
                for j in 0..<16 {
                    let q = source[base + 2 + j]
                    o[j] = Float(Int32(q & 0x0F) - 8) * d
                    o[j + 16] = Float(Int32(q >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<(n / 32) {
                let base = b * 20
                let d = halfAt(source, base)
                let m = halfAt(source, base + 2)
                let o = out + b * 32
                for j in 0..<16 {
                    let q = source[base + 4 + j]
                    o[j] = Float(q & 0x0F) * d + m
                    o[j + 16] = Float(q >> 4) * d + m
                }
            }
        case .q8_0:
            for b in 0..<(n / 32) {
                let base = b * 34
                let d = halfAt(source, base)
                let o = out + b * 32
                for j in 0..<32 {
                    o[j] = Float(Int8(bitPattern: source[base + 2 + j])) * d
                }
            }
        }
    }

    @inline(__always)
    private static func halfAt(_ source: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// IEEE 754 binary16 → binary32, exact for every input (done by hand because `Float16` is not
    /// available on every platform the package builds for).
    @inline(__always)
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24, exact in fp32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}
