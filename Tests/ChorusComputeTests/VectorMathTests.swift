import Foundation
import Testing
@testable import ChorusCompute

@Suite struct VectorMathTests {
    @Test func vectorExpIsAccurate() {
        var worst = 0.0
        var x: Float = -87
        while x < 88 {
            let got = Double(VectorMath.exp(x))
            let want = Foundation.exp(Double(x))
            worst = max(worst, abs(got - want) / want)
            x += 0.0137
        }
        #expect(worst < 5e-7)
        #expect(VectorMath.exp(-200) < 1e-37 && VectorMath.exp(-200) >= 0)
        #expect(VectorMath.exp(200).isFinite)
    }

    @Test func kernelsMatchScalarDefinitions() {
        let n = 37  // exercises the SIMD body and the scalar tail
        let x = (0..<n).map { Float(sin(Double($0)) * 3) }
        let w = (0..<n).map { Float(1 + Double($0) / 100) }
        var out = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    VectorMath.rmsNorm(xp.baseAddress!, weight: wp.baseAddress!, count: n, eps: 1e-5, out: op.baseAddress!)
                }
            }
        }
        let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) + 1e-5).squareRoot()
        for i in 0..<n { #expect(abs(Double(out[i]) - Double(x[i]) / rms * Double(w[i])) < 1e-5) }

        var gate = x
        gate.withUnsafeMutableBufferPointer { g in
            w.withUnsafeBufferPointer { u in VectorMath.siluMultiply(gate: g.baseAddress!, up: u.baseAddress!, count: n) }
        }
        for i in 0..<n {
            let g = Double(x[i])
            #expect(abs(Double(gate[i]) - g / (1 + Foundation.exp(-g)) * Double(w[i])) < 1e-5)
        }

        var soft = x
        soft.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, count: n) }
        let m = x.max()!
        let total = x.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }
        for i in 0..<n { #expect(abs(Double(soft[i]) - Foundation.exp(Double(x[i] - m)) / total) < 1e-6) }
        #expect(abs(soft.reduce(0.0) { $0 + Double($1) } - 1) < 1e-6)
    }

    @Test func coreTypeChoiceFollowsCPUFlags() {
        #expect(BLAS.preferredCoreType(cpuFlags: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"]) == "SkylakeX")
        #expect(BLAS.preferredCoreType(cpuFlags: ["avx2", "fma", "sse4_2"]) == "Haswell")
        #expect(BLAS.preferredCoreType(cpuFlags: ["sse2"]) == nil)
    }
}
