/// Logarithms computed in plain Swift, so the pure state machines need no libm (Foundation/Glibc)
/// and give bit-identical timeouts on every platform (simulations replay exactly everywhere).
enum DeterministicMath {
    private static let ln2 = 0.693_147_180_559_945_309_417_232_121_458

    /// Natural logarithm of a positive finite `x`; 0 for anything else (callers pass counts ≥ 1).
    static func log(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return 0 }
        // x = m · 2^e with m in [1, 2); ln m = 2·atanh(z) with z = (m − 1)/(m + 1) ≤ 1/3.
        let e = Double(x.exponent)
        let m = x.significand
        let z = (m - 1) / (m + 1)
        let z2 = z * z
        var term = z, sum = 0.0
        var k = 1.0
        while k < 60 {
            sum += term / k
            term *= z2
            k += 2
        }
        return e * ln2 + 2 * sum
    }

    static func log10(_ x: Double) -> Double { log(x) / log(10) }
}
