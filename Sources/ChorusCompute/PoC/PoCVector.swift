import ChorusCrypto

/// A PoC artifact vector: 12 IEEE binary16 values, little-endian, 24 bytes
/// (Specs/poc-kernel.md §5 step 6). Compact enough to commit millions per epoch, and decoded
/// exactly to fp32 for the distance check.
public struct PoCVector: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// `bytes` must be exactly `PoCKernel.vectorBytes` long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == PoCKernel.vectorBytes else { return nil }
        self.bytes = bytes
    }

    /// 48 hex characters.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 2 * PoCKernel.vectorBytes, let raw = try? Hex.decode(hex) else { return nil }
        self.init(bytes: raw)
    }

    /// Encodes the renormalized 12 values: binary64 → binary32 → binary16, each round-to-nearest-even.
    init(encoding z: [Double]) {
        var out: [UInt8] = []
        out.reserveCapacity(PoCKernel.vectorBytes)
        for value in z {
            let bits = Float16(Float(value)).bitPattern
            out.append(UInt8(truncatingIfNeeded: bits))
            out.append(UInt8(truncatingIfNeeded: bits >> 8))
        }
        bytes = out
    }

    /// The 12 values widened exactly to fp32.
    public var values: [Float] {
        (0..<PoCKernel.kDim).map { i in
            Float(Float16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8))
        }
    }

    /// True when every value is finite (a claim with NaN or ±inf always mismatches).
    public var isFinite: Bool { values.allSatisfy(\.isFinite) }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    /// The kernel's L2 distance (§6), accumulated in fp64; nil when either vector is not finite.
    public func distance(to other: PoCVector) -> Double? {
        let a = values, b = other.values
        guard isFinite, other.isFinite else { return nil }
        var total = 0.0
        for i in 0..<PoCKernel.kDim {
            let d = Double(a[i]) - Double(b[i])
            total += d * d
        }
        return total.squareRoot()
    }
}
