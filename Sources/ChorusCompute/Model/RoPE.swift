#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding in the layout GGUF Llama weights expect.
///
/// Hugging Face Llama checkpoints rotate the pairs (x[i], x[i + d/2]) of each head ("NeoX" /
/// rotate-half order). When llama.cpp converts them to GGUF it permutes the rows of Wq and Wk so
/// that the same rotation becomes one of adjacent pairs (x[2i], x[2i+1]) — ggml's "normal" RoPE,
/// which is what every `llama` GGUF (SmolLM2 included) must be run with. This type implements that
/// adjacent-pair form:
///
///     θ_i = base^(−2i / ropeDimensions),  i = 0 ..< ropeDimensions/2
///     (x[2i], x[2i+1]) ← (x[2i]·cos(p·θ_i) − x[2i+1]·sin(p·θ_i), x[2i]·sin(p·θ_i) + x[2i+1]·cos(p·θ_i))
///
/// for position p; dimensions from `ropeDimensions` on are left unrotated. Angles are computed in
/// fp64 and rounded to fp32 once.
struct RoPETable {
    let pairs: Int
    let positions: Int
    /// [position][pair]
    let cosTable: FloatBuffer
    let sinTable: FloatBuffer

    init(config: LlamaConfig) {
        pairs = config.ropeDimensions / 2
        positions = config.contextLength
        cosTable = FloatBuffer(count: positions * pairs)
        sinTable = FloatBuffer(count: positions * pairs)
        var theta = [Double](repeating: 0, count: pairs)
        for i in 0..<pairs {
            theta[i] = pow(Double(config.ropeBase), -2 * Double(i) / Double(config.ropeDimensions))
        }
        for p in 0..<positions {
            for i in 0..<pairs {
                let angle = Double(p) * theta[i]
                cosTable.pointer[p * pairs + i] = Float(cos(angle))
                sinTable.pointer[p * pairs + i] = Float(sin(angle))
            }
        }
    }

    /// Rotates `heads` consecutive head vectors of `headDimension` floats starting at `x`, all at
    /// position `position` (< `positions`). Invariant: `x` addresses heads × headDimension floats.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int, position: Int) {
        let c = cosTable.pointer + position * pairs
        let s = sinTable.pointer + position * pairs
        for h in 0..<heads {
            let v = x + h * headDimension
            for i in 0..<pairs {
                let x0 = v[2 * i], x1 = v[2 * i + 1]
                v[2 * i] = x0 * c[i] - x1 * s[i]
                v[2 * i + 1] = x0 * s[i] + x1 * c[i]
            }
        }
    }
}
