public import ChorusWire

/// An exact non-negative fraction `numerator / denominator`, for every fractional protocol
/// parameter (τ, p-values, penalties, weight scale factors). Nothing signed or hashed may hold a
/// float (Specs/encoding.md), so these are integers compared by cross-multiplication in 128 bits.
/// A ratio is always held in lowest terms (0 is 0/1), so equal values have equal encodings.
public struct Ratio: Sendable, Hashable, CustomStringConvertible, WireCodable {
    public static let maxDenominator: UInt64 = 1 << 40

    public let numerator: UInt64
    public let denominator: UInt64

    /// Refuses a zero denominator or one above `maxDenominator` (which keeps every product
    /// with a 64-bit weight inside 128 bits with room for sums).
    public init(_ numerator: UInt64, _ denominator: UInt64) throws(ProtocolError) {
        guard denominator > 0, denominator <= Ratio.maxDenominator else {
            throw .invalidParameter(key: "ratio", expected: "a denominator in 1...\(Ratio.maxDenominator)", found: "\(denominator)")
        }
        let g = Ratio.gcd(numerator, denominator)
        self.numerator = numerator / g
        self.denominator = denominator / g
    }

    /// For literals in code and tests whose denominator is known to be valid.
    public init(millionths: UInt64) {
        let g = Ratio.gcd(millionths, 1_000_000)
        numerator = millionths / g
        denominator = 1_000_000 / g
    }

    public static let zero = Ratio(millionths: 0)
    public static let one = Ratio(millionths: 1_000_000)

    public var isZero: Bool { numerator == 0 }

    /// `1 − self` for a ratio of at most 1 (0 otherwise).
    public var complement: Ratio {
        guard isAtMostOne else { return .zero }
        return (try? Ratio(denominator - numerator, denominator)) ?? .zero
    }
    /// True when the ratio is at most 1.
    public var isAtMostOne: Bool { numerator <= denominator }
    public var isBelowOne: Bool { numerator < denominator }

    /// `floor(value × self)`, exact. Traps only if the result exceeds 128 bits, which the
    /// denominator and weight limits rule out.
    public func scaledFloor(_ value: UInt128) -> UInt128 {
        value * UInt128(numerator) / UInt128(denominator)
    }

    /// `left > self × right`, exact.
    public func isExceeded(by left: UInt128, of right: UInt128) -> Bool {
        left * UInt128(denominator) > UInt128(numerator) * right
    }

    public static func < (a: Ratio, b: Ratio) -> Bool {
        UInt128(a.numerator) * UInt128(b.denominator) < UInt128(b.numerator) * UInt128(a.denominator)
    }

    public var description: String { "\(numerator)/\(denominator)" }

    public func encode(to writer: inout WireWriter) {
        writer.writeU64(numerator)
        writer.writeU64(denominator)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let numerator = try reader.readU64(field: "ratio.numerator")
        let denominator = try reader.readU64(field: "ratio.denominator")
        guard denominator > 0, denominator <= Ratio.maxDenominator else {
            throw .invalidValue(field: "ratio.denominator", reason: "must be in 1...\(Ratio.maxDenominator), got \(denominator)")
        }
        guard Ratio.gcd(numerator, denominator) == 1 else {
            throw .invalidValue(field: "ratio", reason: "\(numerator)/\(denominator) is not in lowest terms")
        }
        self.numerator = numerator
        self.denominator = denominator
    }

    /// gcd(0, d) = d, so 0/d reduces to 0/1.
    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return max(a, 1)
    }
}

extension Ratio: Comparable {}
