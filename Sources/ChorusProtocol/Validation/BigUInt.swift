/// The little arbitrary-precision arithmetic the exact binomial test needs: non-negative integers
/// as little-endian 32-bit limbs, multiplied and divided by 64-bit numbers, added and compared.
/// Not a general bignum: exactly these operations, kept simple enough to read at a glance.
struct BigUInt: Sendable, Hashable, Comparable {
    /// Little-endian limbs, no trailing zero limbs (zero is `[]`).
    private(set) var limbs: [UInt32]

    init(_ value: UInt64) {
        limbs = [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)]
        normalize()
    }

    var isZero: Bool { limbs.isEmpty }

    /// Number of significant bits.
    var bitWidth: Int { limbs.isEmpty ? 0 : limbs.count * 32 - limbs[limbs.count - 1].leadingZeroBitCount }

    mutating func multiply(by factor: UInt64) {
        var carry: UInt128 = 0
        for i in limbs.indices {
            let product = UInt128(limbs[i]) * UInt128(factor) + carry
            limbs[i] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        while carry > 0 {
            limbs.append(UInt32(truncatingIfNeeded: carry))
            carry >>= 32
        }
        normalize()
    }

    /// Divides in place and returns the remainder.
    @discardableResult
    mutating func divide(by divisor: UInt64) -> UInt64 {
        precondition(divisor > 0, "division by zero")
        var remainder: UInt128 = 0
        for i in limbs.indices.reversed() {
            let current = remainder << 32 | UInt128(limbs[i])
            limbs[i] = UInt32(current / UInt128(divisor))
            remainder = current % UInt128(divisor)
        }
        normalize()
        return UInt64(remainder)
    }

    static func + (a: BigUInt, b: BigUInt) -> BigUInt {
        var result = a
        if result.limbs.count < b.limbs.count { result.limbs += [UInt32](repeating: 0, count: b.limbs.count - result.limbs.count) }
        var carry: UInt64 = 0
        for i in result.limbs.indices {
            let sum = UInt64(result.limbs[i]) + UInt64(i < b.limbs.count ? b.limbs[i] : 0) + carry
            result.limbs[i] = UInt32(truncatingIfNeeded: sum)
            carry = sum >> 32
        }
        if carry > 0 { result.limbs.append(UInt32(carry)) }
        return result
    }

    func times(_ factor: UInt64) -> BigUInt {
        var result = self
        result.multiply(by: factor)
        return result
    }

    static func < (a: BigUInt, b: BigUInt) -> Bool {
        if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
        for i in a.limbs.indices.reversed() where a.limbs[i] != b.limbs[i] { return a.limbs[i] < b.limbs[i] }
        return false
    }

    /// `a / b` as a Double (for display only): the top 64 bits of each, scaled by the bit widths.
    static func ratio(_ a: BigUInt, _ b: BigUInt) -> Double {
        guard !a.isZero else { return 0 }
        let (ma, ea) = a.top64()
        let (mb, eb) = b.top64()
        return Double(sign: .plus, exponent: ea - eb, significand: Double(ma) / Double(mb))
    }

    /// The top 64 significant bits and the shift that was dropped.
    private func top64() -> (UInt64, Int) {
        let shift = max(bitWidth - 64, 0)
        var value: UInt64 = 0
        for bit in stride(from: bitWidth - 1, through: shift, by: -1) {
            value = value << 1 | UInt64((limbs[bit / 32] >> UInt32(bit % 32)) & 1)
        }
        return (value, shift)
    }

    private mutating func normalize() {
        while let last = limbs.last, last == 0 { limbs.removeLast() }
    }
}
