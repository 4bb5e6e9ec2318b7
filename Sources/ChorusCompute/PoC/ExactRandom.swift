extension CounterRNG {
    /// `C(K, j) = S(K, j) − 393,210`: the integer behind `normal(j)` (|C| ≤ 393,210).
    @inline(__always)
    public func centeredSum(_ index: UInt64) -> Int {
        laneSum(index) - 393_210
    }

    /// The exact unit vector of Specs/poc-kernel.md §2.3 in binary64: `C_i / sqrt(Σ C_i²)` for the
    /// `count` values from `start`. Σ C² is an exact integer below 2^53 (count ≤ 58,000), and the
    /// square root and divisions are single IEEE operations, so every implementation gets the same
    /// bits. Deciding which computation is done (Householder vectors, rotations) must not depend
    /// on floating-point summation order, hence the integer sum. A zero vector becomes e₀.
    public func unitVector(count: Int, start: UInt64 = 0) -> [Double] {
        precondition(count > 0 && count <= PoCKernel.maximumHiddenSize, "unit vectors have 1 ... 58,000 values")
        let sums = (0..<count).map { centeredSum(start &+ UInt64($0)) }
        let q = sums.reduce(0) { $0 + $1 * $1 }
        if q == 0 {
            var e0 = [Double](repeating: 0, count: count)
            e0[0] = 1
            return e0
        }
        let r = Double(q).squareRoot()
        return sums.map { Double($0) / r }
    }

    /// An unbiased integer in `[0, m)` drawn from the word stream at `counter` by rejection
    /// (Specs/poc-kernel.md §2.4); returns the value and the next counter. Rejection keeps every
    /// implementation's counter in step, so later draws agree too.
    public func uniform(below m: UInt64, counter: UInt64) -> (value: UInt64, next: UInt64) {
        precondition(m >= 1, "uniform(below:) needs m ≥ 1")
        // limit = 2^64 − (2^64 mod m); 2^64 mod m = (2^64 − m) mod m, computed without overflow.
        let remainder = (0 &- m) % m
        var c = counter
        while true {
            let w = word(c)
            c &+= 1
            if remainder == 0 || w < 0 &- remainder { return (w % m, c) }
        }
    }
}
