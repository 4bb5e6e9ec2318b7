/// Thresholds on a connection's queued (not yet sent) write bytes that drive `isWritable`.
///
/// When the queue grows above `high`, the connection reports "not writable" so the owner stops
/// producing; once the queue drains to `low` or below, it reports "writable" again. The gap between the
/// two keeps the signal from flapping on every write.
public struct WriteWatermarks: Sendable, Hashable {
    /// Writable again at or below this many queued bytes.
    public let low: Int
    /// Not writable above this many queued bytes.
    public let high: Int

    /// Requires `0 <= low <= high`.
    public init(low: Int, high: Int) {
        precondition(low >= 0 && low <= high, "write watermarks need 0 <= low <= high, got low \(low), high \(high)")
        self.low = low
        self.high = high
    }

    /// 64 KiB / 256 KiB: a few maximum-size transport frames may queue before the owner is told to wait.
    public static let `default` = WriteWatermarks(low: 64 * 1024, high: 256 * 1024)
}
