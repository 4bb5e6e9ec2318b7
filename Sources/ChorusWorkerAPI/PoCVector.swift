import ChorusCrypto

/// A PoC artifact vector: 12 IEEE binary16 values, little-endian, 24 bytes
/// (Specs/poc-kernel.md §5 step 6). Compact enough to commit millions per epoch, and decoded
/// exactly to fp32 for the distance check. The worker sends it as 48 hex characters (`vector` of
/// an artifact, Specs/worker.md §5); the kernel that computes it is ChorusCompute's `PoCKernel`.
public struct PoCVector: Sendable, Hashable, CustomStringConvertible {
    /// Coordinates kept per artifact: chorus-poc/1's `k_dim` (fixed in this version).
    public static let dimensions = 12
    /// The artifact's length in bytes: one binary16 per coordinate.
    public static let byteCount = 2 * dimensions

    public let bytes: [UInt8]

    /// `bytes` must be exactly `PoCVector.byteCount` long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// 48 hex characters.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 2 * Self.byteCount, let raw = try? Hex.decode(hex) else { return nil }
        self.init(bytes: raw)
    }

    /// Encodes the renormalized 12 values: binary64 → binary32 → binary16, each round-to-nearest-even.
    package init(encoding z: [Double]) {
        var out: [UInt8] = []
        out.reserveCapacity(Self.byteCount)
        for value in z {
            let bits = Float16(Float(value)).bitPattern
            out.append(UInt8(truncatingIfNeeded: bits))
            out.append(UInt8(truncatingIfNeeded: bits >> 8))
        }
        bytes = out
    }

    /// The 12 values widened exactly to fp32.
    public var values: [Float] {
        (0..<Self.dimensions).map { i in
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
        for i in 0..<Self.dimensions {
            let d = Double(a[i]) - Double(b[i])
            total += d * d
        }
        return total.squareRoot()
    }
}
