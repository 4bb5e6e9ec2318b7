/// A point on a monotonic clock, in nanoseconds from an arbitrary origin.
///
/// The pure state machines take `now` as an input instead of reading a clock, so tests and the
/// simulator can drive them with a manual clock and replay runs exactly.
public struct MonotonicTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = MonotonicTime(nanoseconds: 0)

    public static func seconds(_ s: Double) -> MonotonicTime { MonotonicTime(nanoseconds: UInt64(s * 1e9)) }

    public static func + (t: MonotonicTime, d: Duration) -> MonotonicTime {
        MonotonicTime(nanoseconds: t.nanoseconds &+ d.nanoseconds)
    }

    /// The time elapsed since `earlier`, zero if `earlier` is later.
    public func since(_ earlier: MonotonicTime) -> Duration {
        nanoseconds >= earlier.nanoseconds ? .nanoseconds(Int64(nanoseconds - earlier.nanoseconds)) : .zero
    }

    public static func < (a: MonotonicTime, b: MonotonicTime) -> Bool { a.nanoseconds < b.nanoseconds }

    public var description: String { "t+\(Double(nanoseconds) / 1e9)s" }
}

extension Duration {
    /// Whole nanoseconds, saturating at zero for negative durations.
    public var nanoseconds: UInt64 {
        let (s, attos) = components
        guard s >= 0 else { return 0 }
        return UInt64(s) &* 1_000_000_000 &+ UInt64(attos / 1_000_000_000)
    }
}
