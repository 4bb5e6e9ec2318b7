/// Whether a node is catching up on epochs it missed, and what to say about it: `chorusd run`
/// feeds it the current epoch and the last final one every few seconds and logs what it returns.
///
/// In step with the network, the epoch before the current one is final or about to be (its
/// certificate is signed during the current epoch), so at most one epoch before the current one is
/// not final. More than that means the node was away (or joined after genesis) and is fetching
/// statements and tallying the epochs in between: a catch-up. Its progress is the epochs made final
/// since it began, out of those plus the ones still to go (which grows if the clock outruns it). A
/// network that finalizes nothing looks the same from here, so the line reports numbers only.
public struct CatchUpProgress: Sendable {
    public enum Report: Sendable, Equatable {
        /// `done` of `total` epochs made final since the catch-up began; `lastFinal` and `current` as seen.
        case catchingUp(done: UInt64, total: UInt64, lastFinal: UInt64?, current: UInt64)
        /// In step again after making `epochs` final in `seconds`.
        case caughtUp(epochs: UInt64, seconds: Double)
    }

    /// Epochs before the current one that may be not final without the node being behind.
    public static let slack: Int64 = 1
    /// A catch-up line is repeated this often while nothing becomes final.
    public static let repeatSeconds: Double = 30

    /// When the catch-up began and the last final epoch then (-1: none).
    private var started: (at: Double, firstFinal: Int64)?
    private var lastReport: (lastFinal: Int64, at: Double)?

    public init() {}

    /// One observation at `now` (seconds on a monotonic clock); nil when there is nothing new to say.
    public mutating func observe(current: UInt64, lastFinal: UInt64?, now: Double) -> Report? {
        let final = lastFinal.map { Int64($0) } ?? -1
        let behind = Int64(current) - 1 - final
        guard behind > Self.slack else {
            defer { started = nil; lastReport = nil }
            guard let started else { return nil }
            return .caughtUp(epochs: UInt64(max(0, final - started.firstFinal)), seconds: now - started.at)
        }
        if started == nil { started = (now, final) }
        let done = max(0, final - started!.firstFinal)
        if let lastReport, lastReport.lastFinal == final, now - lastReport.at < Self.repeatSeconds { return nil }
        lastReport = (final, now)
        return .catchingUp(done: UInt64(done), total: UInt64(done + behind - Self.slack), lastFinal: lastFinal, current: current)
    }
}
