/// The element-wise kernels of the forward pass. They run on raw pointers with 16-lane SIMD so
/// that everything outside the GEMMs stays a small fraction of the forward time.
///
/// Pointer invariant for every function here: each pointer addresses at least `count` valid
/// floats (the callers slice rows out of `FloatBuffer`s sized for them).
enum VectorMath {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Σ x², accumulated in 16 fp32 lanes, then reduced in fp64.
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var acc = V()
        var i = 0
        while i + 16 <= count {
            let v = load(x + i)
            acc += v * v
            i += 16
        }
        var total = 0.0
        for lane in 0..<16 { total += Double(acc[lane]) }
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
        while i + 16 <= count {
            store(load(x + i) * scale * load(weight + i), out + i)
            i += 16
        }
        while i < count {
            out[i] = x[i] * scale * weight[i]
            i += 1
        }
    }

    /// e^x for 16 lanes (Cephes-style range reduction and degree-6 polynomial; relative error
    /// about 2e-7). Inputs are clamped to [-87.3, 88], which keeps 2^n a normal number.
    @inline(__always)
    static func exp(_ x: V) -> V {
        let xc = x.clamped(lowerBound: V(repeating: -87.33654), upperBound: V(repeating: 88))
        let n = (xc * 1.442_695_04).rounded(.toNearestOrEven)
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
        let exponent = (SIMD16<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: V.self)
    }

    /// Scalar e^x with the same polynomial as the SIMD version, for loop tails.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        exp(V(repeating: x))[0]
    }

    /// gate[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g): the SwiGLU activation.
    static func siluMultiply(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let g = load(gate + i)
            store(g / (1 + exp(-g)) * load(up + i), gate + i)
            i += 16
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
        while i + 16 <= count {
            let e = exp(load(x + i) - mv)
            store(e, x + i)
            acc += e
            i += 16
        }
        var total = 0.0
        for lane in 0..<16 { total += Double(acc[lane]) }
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
        if count >= 16 {
            var acc = load(x)
            i = 16
            while i + 16 <= count {
                acc = pointwiseMax(acc, load(x + i))
                i += 16
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
        while i + 16 <= count {
            store(load(x + i) * s, x + i)
            i += 16
        }
        while i < count {
            x[i] *= s
            i += 1
        }
    }

    /// x[i] += y[i].
    static func add(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            store(load(x + i) + load(y + i), x + i)
            i += 16
        }
        while i < count {
            x[i] += y[i]
            i += 1
        }
    }
}
