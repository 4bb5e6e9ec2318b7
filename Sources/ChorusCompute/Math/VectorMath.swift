/// The element-wise kernels of the forward pass. They run on raw pointers with 8-lane SIMD so
/// that everything outside the GEMMs stays a small fraction of the forward time. Eight lanes is
/// the width that stays in registers when the package is compiled for baseline x86-64 (SSE2);
/// 16 lanes spill and run about 5× slower there.
///
/// Pointer invariant for every function here: each pointer addresses at least `count` valid
/// floats (the callers slice rows out of `FloatBuffer`s sized for them).
enum VectorMath {
    typealias V = SIMD8<Float>
    typealias I = SIMD8<Int32>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Σ x², accumulated in fp32 lanes, then reduced in fp64.
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var acc = V()
        var i = 0
        while i + V.scalarCount <= count {
            let v = load(x + i)
            acc += v * v
            i += V.scalarCount
        }
        var total = 0.0
        for lane in 0..<V.scalarCount { total += Double(acc[lane]) }
        while i < count {
            total += Double(x[i]) * Double(x[i])
            i += 1
        }
        return total
    }

    /// out = x · weight / sqrt(mean(x²) + eps): RMSNorm over one row. `out` may equal `x`.
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, count: Int, eps: Float,
                        out: UnsafeMutablePointer<Float>) {
        let meanSquare = sumOfSquares(x, count: count) / Double(count)
        let scale = Float(1 / (meanSquare + Double(eps)).squareRoot())
        var i = 0
        while i + V.scalarCount <= count {
            store(load(x + i) * scale * load(weight + i), out + i)
            i += V.scalarCount
        }
        while i < count {
            out[i] = x[i] * scale * weight[i]
            i += 1
        }
    }

    /// e^x lane-wise (Cephes-style range reduction and degree-6 polynomial; relative error
    /// about 2e-7). Inputs are clamped to [-87.3, 88], which keeps 2^n a normal number.
    /// n = round(x·log2 e) is obtained by adding 1.5·2^23, which leaves n in the low mantissa bits
    /// of the sum — pure vector arithmetic (a generic float→int SIMD conversion is scalarised).
    @inline(__always)
    static func exp(_ x: V) -> V {
        // Masked replacement inlines; the generic pointwiseMin/Max stay calls in -O builds.
        var xc = x
        xc.replace(with: V(repeating: -87.33654), where: x .< -87.33654)
        xc.replace(with: V(repeating: 88), where: x .> 88)
        let magic = V(repeating: 12_582_912)  // 1.5 · 2^23
        let shifted = xc * 1.442_695_04 + magic
        let n = shifted - magic
        var r = xc - n * 0.693_359_375
        r -= n * -2.121_944_4e-4
        let r2 = r * r
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * r2 + r + 1
        // bits(shifted) = 0x4B400000 + n, so the biased exponent is that minus 0x4B400000 plus 127.
        let biased = unsafeBitCast(shifted, to: I.self) &+ (127 - 0x4B40_0000)
        return p * unsafeBitCast(biased &<< 23, to: V.self)
    }

    /// Scalar e^x with the same polynomial as the SIMD version, for loop tails.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        exp(V(repeating: x))[0]
    }

    /// gate[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g): the SwiGLU activation.
    static func siluMultiply(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + V.scalarCount <= count {
            let g = load(gate + i)
            store(g / (1 + exp(-g)) * load(up + i), gate + i)
            i += V.scalarCount
        }
        while i < count {
            let g = gate[i]
            gate[i] = g / (1 + exp(-g)) * up[i]
            i += 1
        }
    }

    /// In-place softmax over `count` values (max-subtracted), sum accumulated in fp64.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        let m = max(x, count: count)
        var acc = V()
        var i = 0
        let mv = V(repeating: m)
        while i + V.scalarCount <= count {
            let e = exp(load(x + i) - mv)
            store(e, x + i)
            acc += e
            i += V.scalarCount
        }
        var total = 0.0
        for lane in 0..<V.scalarCount { total += Double(acc[lane]) }
        while i < count {
            let e = exp(x[i] - m)
            x[i] = e
            total += Double(e)
            i += 1
        }
        scale(x, count: count, by: Float(1 / total))
    }

    static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var i = 0
        var best = -Float.infinity
        if count >= V.scalarCount {
            var acc = load(x)
            i = V.scalarCount
            while i + V.scalarCount <= count {
                let v = load(x + i)
                acc.replace(with: v, where: v .> acc)
                i += V.scalarCount
            }
            best = acc.max()
        }
        while i < count {
            best = Swift.max(best, x[i])
            i += 1
        }
        return best
    }

    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        var i = 0
        while i + V.scalarCount <= count {
            store(load(x + i) * s, x + i)
            i += V.scalarCount
        }
        while i < count {
            x[i] *= s
            i += 1
        }
    }
}

extension VectorMath {
    /// Σ a·b, accumulated in fp32 lanes, then reduced in fp64.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        var acc = V()
        var i = 0
        while i + V.scalarCount <= count {
            acc += load(a + i) * load(b + i)
            i += V.scalarCount
        }
        var total = 0.0
        for lane in 0..<V.scalarCount { total += Double(acc[lane]) }
        while i < count {
            total += Double(a[i]) * Double(b[i])
            i += 1
        }
        return total
    }

    /// y += s · x.
    static func addScaled(_ x: UnsafePointer<Float>, scale s: Float, to y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + V.scalarCount <= count {
            store(load(y + i) + s * load(x + i), y + i)
            i += V.scalarCount
        }
        while i < count {
            y[i] += s * x[i]
            i += 1
        }
    }
}
