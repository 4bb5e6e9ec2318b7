/// Dot products straight from a `QuantizedMatrix`'s blocks, for decode steps (a handful of rows
/// against every weight): the weights are read in their 4.5–8.5-bit form, which is what bounds a
/// decode step's speed, instead of 32-bit copies.
///
/// Arithmetic (Specs/worker.md, numerics): activations stay fp32. Each block of 32 weights is
/// widened to fp32 in registers (its integer codes, Q4_0 minus 8), multiplied lane-wise with the
/// activations and summed in 8 fp32 lanes into s; the row accumulates s·d per block in 8 fp32
/// lanes (Q4_1 adds Σ m·Σx over blocks, Σx being the block's fp32 activation sum), reduced at the
/// end. Every (activation row, weight row) pair runs exactly this sequence whatever the batch
/// composition or thread split, so a sequence's logits do not depend on what it was batched with.
///
/// 8-lane SIMD for the reason `VectorMath` gives (baseline x86-64 keeps 8 lanes in registers).
enum QuantizedKernels {
    typealias V = SIMD8<Float>
    typealias V4 = SIMD4<Float>

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    private static func load4(_ p: UnsafePointer<Float>) -> V4 {
        UnsafeRawPointer(p).loadUnaligned(as: V4.self)
    }

    @inline(__always)
    private static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    @inline(__always)
    private static func store4(_ v: V4, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V4.self)
    }

    // MARK: - Repacked layouts

    // The loops below widen codes with a shift, a mask and an int→float conversion of the same
    // lane width: on baseline x86-64 that compiles to psrld/pand/cvtdq2ps, while widening bytes to
    // 32-bit lanes compiled to byte shuffles (measured 2–3× slower per block). The blocks are
    // reordered once at load so that each shift yields consecutive elements.

    /// A 4-bit block of ggml (byte j: element j low, j+16 high) in the kernel's order: four
    /// 32-bit words, nibble j of word k holding element 4j+k.
    static func repack4(_ ggml: UnsafeRawPointer, into out: UnsafeMutableRawPointer) {
        for k in 0..<4 {
            var word: UInt32 = 0
            for j in 0..<8 {
                let e = 4 * j + k
                let byte = ggml.load(fromByteOffset: e % 16, as: UInt8.self)
                word |= UInt32(e < 16 ? byte & 0x0F : byte >> 4) << (4 * j)
            }
            out.storeBytes(of: word.littleEndian, toByteOffset: 4 * k, as: UInt32.self)
        }
    }

    /// A Q8_0 block's 32 signed codes in the kernel's order: eight 32-bit words, byte j of word
    /// k holding element 8j+k offset by 128 (so it widens as unsigned; the kernel subtracts 128).
    static func repack8(_ ggml: UnsafeRawPointer, into out: UnsafeMutableRawPointer) {
        for e in 0..<32 {
            let code = ggml.load(fromByteOffset: e, as: UInt8.self) ^ 0x80
            out.storeBytes(of: code, toByteOffset: 4 * (e % 8) + e / 8, as: UInt8.self)
        }
    }

    /// Nibble j of every word of a repacked 4-bit block: elements 4j..<4j+4 as fp32 codes.
    @inline(__always)
    private static func nibble(_ w: SIMD4<UInt32>, _ j: UInt32) -> V4 {
        V4(unsafeBitCast((w &>> (4 * j)) & 0x0F, to: SIMD4<Int32>.self))
    }

    /// Byte j of every word of a repacked Q8_0 block: elements 8j..<8j+8 as fp32 codes.
    /// `mask` is 0xFF read from the matrix at run time: with a constant mask the optimizer
    /// recognises byte extraction and rewrites the four shifts into byte shuffles and scalar
    /// moves, which ran at half the speed.
    @inline(__always)
    private static func byte(_ w: SIMD8<UInt32>, _ j: UInt32, _ mask: SIMD8<UInt32>) -> V {
        V(unsafeBitCast((w &>> (8 * j)) & mask, to: SIMD8<Int32>.self)) - 128
    }

    typealias Codes4 = (V4, V4, V4, V4, V4, V4, V4, V4)

    /// A repacked 4-bit block's codes as fp32 (Q4_1: q; Q4_0 subtracts 8 after, exactly).
    @inline(__always)
    private static func codes4(_ p: UnsafeRawPointer) -> Codes4 {
        let w = p.loadUnaligned(as: SIMD4<UInt32>.self)
        return (nibble(w, 0), nibble(w, 1), nibble(w, 2), nibble(w, 3), nibble(w, 4), nibble(w, 5), nibble(w, 6), nibble(w, 7))
    }

    @inline(__always)
    private static func q4_0Codes(_ p: UnsafeRawPointer) -> Codes4 {
        let c = codes4(p)
        let o = V4(repeating: 8)
        return (c.0 - o, c.1 - o, c.2 - o, c.3 - o, c.4 - o, c.5 - o, c.6 - o, c.7 - o)
    }

    @inline(__always)
    private static func codes8(_ p: UnsafeRawPointer, _ mask: SIMD8<UInt32>) -> (V, V, V, V) {
        let w = p.loadUnaligned(as: SIMD8<UInt32>.self)
        return (byte(w, 0, mask), byte(w, 1, mask), byte(w, 2, mask), byte(w, 3, mask))
    }

    // MARK: - Dequantization (prefill scratch, embedding rows)

    /// Block `block` of `m` (a block format) as 32 fp32 values: exactly `Dequantize.run`'s
    /// values — the same single rounding of code·d (then + m) per element (code − 8 and
    /// code − 128 are exact).
    @inline(__always)
    static func dequantizeBlock(_ m: QuantizedMatrix, block: Int, into o: UnsafeMutablePointer<Float>) {
        let p = UnsafeRawPointer(m.quants + block * m.format.blockBytes)
        let d = m.scales.pointer[block]
        switch m.format {
        case .q4_0, .q4_1:
            let c = m.format == .q4_0 ? q4_0Codes(p) : codes4(p)
            let dv = V4(repeating: d)
            if m.format == .q4_1 {
                let mv = V4(repeating: m.minimums.pointer[block])
                store4(c.0 * dv + mv, o); store4(c.1 * dv + mv, o + 4); store4(c.2 * dv + mv, o + 8); store4(c.3 * dv + mv, o + 12)
                store4(c.4 * dv + mv, o + 16); store4(c.5 * dv + mv, o + 20); store4(c.6 * dv + mv, o + 24); store4(c.7 * dv + mv, o + 28)
            } else {
                store4(c.0 * dv, o); store4(c.1 * dv, o + 4); store4(c.2 * dv, o + 8); store4(c.3 * dv, o + 12)
                store4(c.4 * dv, o + 16); store4(c.5 * dv, o + 20); store4(c.6 * dv, o + 24); store4(c.7 * dv, o + 28)
            }
        case .q8_0:
            let c = codes8(p, SIMD8(repeating: m.byteMask))
            let dv = V(repeating: d)
            store(c.0 * dv, o); store(c.1 * dv, o + 8); store(c.2 * dv, o + 16); store(c.3 * dv, o + 24)
        case .f32: preconditionFailure("fp32 matrices are copied, not dequantized")
        }
    }

    // MARK: - Dot products

    /// Σx over each block of 32, one fp32 per block: the Q4_1 minimum's partner.
    static func blockSums(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let p = x + b * 32
            out[b] = ((load(p) + load(p + 8)) + (load(p + 16) + load(p + 24))).sum()
        }
    }

    /// `out[r·ldo] (+)= row `row` of m · (x + r·ldx)` for r in 0..<count (count ≥ 1).
    /// `sums` (Q4_1 only) holds `blockSums` of each x row, `ldSums` apart; `scratch` holds at
    /// least `count` 8-lane vectors.
    static func dot(_ m: QuantizedMatrix, row: Int, x: UnsafePointer<Float>, ldx: Int, count: Int,
                    sums: UnsafePointer<Float>, ldSums: Int, scratch: UnsafeMutablePointer<V>,
                    out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool) {
        @inline(__always) func finish(_ r: Int, _ value: Float) {
            out[r * ldo] = accumulate ? out[r * ldo] + value : value
        }
        let nb = m.blocksPerRow
        switch m.format {
        case .q4_0, .q4_1:
            let q = UnsafeRawPointer(m.quants + row * nb * 16)
            let d = m.scales.pointer + row * nb
            let acc = UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: V4.self)
            if m.format == .q4_0 {
                q4Rows(Q4_0Codes.self, q: q, d: d, blocks: nb, x: x, ldx: ldx, count: count, acc: acc)
            } else {
                q4Rows(Q4_1Codes.self, q: q, d: d, blocks: nb, x: x, ldx: ldx, count: count, acc: acc)
            }
            for r in 0..<count {
                var value = acc[r].sum()
                if m.format == .q4_1 { value += minimumShare(m, row: row, sums: sums + r * ldSums) }
                finish(r, value)
            }
        case .q8_0:
            let q = UnsafeRawPointer(m.quants + row * nb * 32)
            let d = m.scales.pointer + row * nb
            let mask = SIMD8<UInt32>(repeating: m.byteMask)
            @inline(__always) func block(_ c: (V, V, V, V), _ xb: UnsafePointer<Float>) -> V {
                var s0 = c.0 * load(xb)
                var s1 = c.1 * load(xb + 8)
                s0 += c.2 * load(xb + 16)
                s1 += c.3 * load(xb + 24)
                return s0 + s1
            }
            if count == 1 {
                var a = V()
                for b in 0..<nb { a += block(codes8(q + b * 32, mask), x + b * 32) * V(repeating: d[b]) }
                scratch[0] = a
            } else {
                scratch.update(repeating: V(), count: count)
                for b in 0..<nb {
                    let c = codes8(q + b * 32, mask)
                    let db = V(repeating: d[b])
                    for r in 0..<count { scratch[r] += block(c, x + r * ldx + b * 32) * db }
                }
            }
            for r in 0..<count { finish(r, scratch[r].sum()) }
        case .f32:
            let w = m.floats + row * m.columns
            for r in 0..<count {
                let xr = x + r * ldx
                var acc = V()
                var i = 0
                while i + 8 <= m.columns { acc += load(w + i) * load(xr + i); i += 8 }
                var total = acc.sum()
                while i < m.columns { total += w[i] * xr[i]; i += 1 }
                finish(r, total)
            }
        }
    }

    /// Σ lanes codes·x over one block of 32 (two partial sums of four products each).
    @inline(__always)
    private static func q4Block(_ c: Codes4, _ xb: UnsafePointer<Float>) -> V4 {
        var s0 = c.0 * load4(xb)
        var s1 = c.1 * load4(xb + 4)
        s0 += c.2 * load4(xb + 8)
        s1 += c.3 * load4(xb + 12)
        s0 += c.4 * load4(xb + 16)
        s1 += c.5 * load4(xb + 20)
        s0 += c.6 * load4(xb + 24)
        s1 += c.7 * load4(xb + 28)
        return s0 + s1
    }

    /// acc[r] = Σ_b d_b · q4Block(row codes, x_r's block b) for r < count. Generic over the code
    /// decoder so each format gets its own specialised loop (a closure parameter was not inlined
    /// and cost a call per block).
    @inline(__always)
    private static func q4Rows<C: Q4CodeDecoder>(_: C.Type, q: UnsafeRawPointer, d: UnsafePointer<Float>, blocks nb: Int,
                                                  x: UnsafePointer<Float>, ldx: Int, count: Int, acc: UnsafeMutablePointer<V4>) {
        if count == 1 {
            // One row: the accumulator stays in a register (through memory, each block would wait
            // on the previous block's store).
            var a = V4()
            for b in 0..<nb { a += q4Block(C.codes(q + b * 16), x + b * 32) * V4(repeating: d[b]) }
            acc[0] = a
            return
        }
        acc.update(repeating: V4(), count: count)
        for b in 0..<nb {
            let c = C.codes(q + b * 16)
            let db = V4(repeating: d[b])
            for r in 0..<count { acc[r] += q4Block(c, x + r * ldx + b * 32) * db }
        }
    }

    fileprivate enum Q4_0Codes: Q4CodeDecoder {
        @inline(__always) static func codes(_ p: UnsafeRawPointer) -> Codes4 { q4_0Codes(p) }
    }

    fileprivate enum Q4_1Codes: Q4CodeDecoder {
        @inline(__always) static func codes(_ p: UnsafeRawPointer) -> Codes4 { codes4(p) }
    }

    /// Σ_b m_b·Σx_b over a Q4_1 row: the minimums' share of its dot product.
    @inline(__always)
    private static func minimumShare(_ m: QuantizedMatrix, row: Int, sums s: UnsafePointer<Float>) -> Float {
        let nb = m.blocksPerRow
        let mins = m.minimums.pointer + row * nb
        var acc = V()
        var b = 0
        while b + 8 <= nb { acc += load(mins + b) * load(s + b); b += 8 }
        var total = acc.sum()
        while b < nb { total += mins[b] * s[b]; b += 1 }
        return total
    }
}

/// Turns a repacked 4-bit block into fp32 codes (Q4_0: q − 8, Q4_1: q).
private protocol Q4CodeDecoder {
    static func codes(_ p: UnsafeRawPointer) -> QuantizedKernels.Codes4
}
