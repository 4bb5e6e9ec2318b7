internal import CLibUV

/// A one-shot or repeating timer on the loop (a `uv_timer_t`).
///
/// Loop-confined: create and use it on the loop thread only. One timer handle can be scheduled,
/// cancelled and rescheduled any number of times; it stays open (and keeps this object alive) until
/// `close()` or loop shutdown, so long-lived protocol timers reuse one `LoopTimer` each.
///
/// Resolution is one millisecond: delays are rounded up to whole milliseconds, and since libuv's clock
/// counts whole milliseconds, a timer may fire up to 1 ms before the exact delay has passed (never
/// more). Timers due at the same time fire in the order they were scheduled.
public final class LoopTimer: HandleOwner {
    /// The loop the timer belongs to.
    public let loop: EventLoop
    /// The `uv_timer_t`; nil once its close callback ran and the memory is freed.
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    private var handler: (() -> Void)?

    /// Opens a timer handle on `loop`. Must be called on the loop thread.
    public init(on loop: EventLoop) {
        loop.preconditionInLoop()
        self.loop = loop
        let handle = loop.allocateHandle(uv_timer_t.self)
        uv_timer_init(loop.loop, handle)  // cannot fail: it only initialises the struct
        self.handle = handle
        loop.adopt(handle, owner: self)
    }

    /// Arms the timer, replacing any earlier schedule and handler. Does nothing once the timer is closed.
    ///
    /// - Parameters:
    ///   - delay: time until the first call (negative counts as zero).
    ///   - interval: if given, the handler repeats every `interval` (at least 1 ms) until cancelled.
    ///   - handler: runs on the loop thread; it may cancel, reschedule or close this timer.
    public func schedule(
        after delay: Duration, repeatingEvery interval: Duration? = nil, _ handler: @escaping () -> Void
    ) {
        loop.preconditionInLoop()
        guard let handle else { return }
        self.handler = handler
        // The loop's cached "now" is stale after a long callback; refresh it so the delay counts from now.
        uv_update_time(loop.loop)
        let repeatMilliseconds = interval.map { max(1, Self.milliseconds(roundingUp: $0)) } ?? 0
        uv_timer_start(
            handle,
            { timer in
                handleOwner(timer, as: LoopTimer.self)?.fire()
            }, Self.milliseconds(roundingUp: delay), repeatMilliseconds)
    }

    /// Stops the timer; its handler will not run until it is scheduled again. Harmless when idle or closed.
    public func cancel() {
        loop.preconditionInLoop()
        guard let handle else { return }
        uv_timer_stop(handle)
        handler = nil
    }

    /// Whether the timer is armed (a one-shot timer disarms itself when it fires).
    public var isScheduled: Bool {
        loop.preconditionInLoop()
        guard let handle else { return false }
        return uv_is_active(cuv_handle(handle)) != 0
    }

    /// Closes the handle. The timer cannot be used afterwards; idempotent.
    public func close() {
        loop.preconditionInLoop()
        guard let handle, uv_is_closing(cuv_handle(handle)) == 0 else { return }
        handler = nil
        uv_close(cuv_handle(handle), closeHandleCallback)
    }

    /// Whether `close()` was called (or the loop shut down).
    public var isClosed: Bool {
        loop.preconditionInLoop()
        guard let handle else { return true }
        return uv_is_closing(cuv_handle(handle)) != 0
    }

    private func fire() {
        guard let handler else { return }
        if !isScheduled { self.handler = nil }  // a one-shot timer fired: drop the closure and its captures
        handler()
    }

    func closeForShutdown() { close() }

    func handleDidClose() {
        handle = nil
        handler = nil
    }

    static func milliseconds(roundingUp duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, seconds > 0 || attoseconds > 0 else { return 0 }
        let millisecondsFromAttoseconds = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1000)
        let (total, carry) = whole.addingReportingOverflow(UInt64(millisecondsFromAttoseconds))
        return overflow || carry ? UInt64.max : total  // libuv clamps huge timeouts to "never"
    }
}

@available(*, unavailable, message: "LoopTimer is confined to its loop's thread")
extension LoopTimer: Sendable {}
