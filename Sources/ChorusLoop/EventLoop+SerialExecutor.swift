/// The loop is a Swift serial executor, so an actor can run *on* the loop thread:
///
/// ```swift
/// actor NodeShell {
///     let loop: EventLoop
///     nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
/// }
/// ```
///
/// Such an actor may create and use loop-confined objects (connections, timers) directly, and their
/// callbacks, which run on the loop thread, may enter it with `assumeIsolated`. The actor must keep a
/// strong reference to the loop: an unowned executor reference does not retain it. Actor jobs are
/// queued with `execute` jobs in one FIFO, so both kinds of work keep their submission order.
extension EventLoop: SerialExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(task: UnownedJob(job))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` and runtime isolation checks recognise the loop thread (SE-0424).
    public func checkIsolated() {
        preconditionInLoop()
    }

    /// Answers the runtime's "am I isolated here?" question without trapping (SE-0471).
    public func isIsolatingCurrentContext() -> Bool? {
        isInLoopThread
    }
}
