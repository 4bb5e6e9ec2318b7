internal import CLibUV
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif
import Synchronization

/// One libuv loop running on its own thread: the I/O engine and serial executor of one node.
///
/// Everything that touches libuv (timers, listeners, connections) is created and used on the loop
/// thread only. Other threads talk to the loop through exactly one door, `execute(_:)`, or by running
/// an actor whose executor is this loop (see `asUnownedSerialExecutor()`), or through `run(_:)`.
///
/// Lifecycle: `init` starts the thread; `shutdown()` closes every handle, waits for the thread and
/// frees the loop. A loop that is never shut down keeps its thread (and itself) alive.
///
/// `@unchecked Sendable` invariant: the mutable state is split in two. `pending`, `state`,
/// `stopRequested` and `rejectedJobs` are only touched with `lock` held; `thread` and `joined` only
/// with `shutdownLock` held. Everything else (`loop`, `wakeup`, the flush handles, `readBuffer`,
/// `draining`, `streamsToFlush`, all libuv handles) is touched only on the loop thread, except
/// in `init` before the thread starts and in `shutdown`/`deinit` after it was joined (`pthread_create`
/// and `pthread_join` order those accesses). `uv_async_send`, the one libuv call made from other
/// threads, is made with `lock` held while `state != .stopped`, so the wakeup handle is still open.
public final class EventLoop: @unchecked Sendable {
    /// A unit of work for the loop thread.
    private enum Job {
        case closure(@Sendable () -> Void)
        case task(UnownedJob)
    }

    private enum State {
        /// Accepting jobs.
        case running
        /// The loop thread is closing handles; jobs are still accepted and run until the last handle
        /// is gone, so work submitted during shutdown is never silently lost.
        case closing
        /// The thread finished; jobs are rejected.
        case stopped
    }

    /// The size of the loop's shared read buffer; libuv reads at most this much per callback.
    static let readBufferSize = 64 * 1024

    /// The name given in `init`, also the thread's name (truncated to 15 bytes by the OS).
    public let name: String

    let loop: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    /// One read buffer for every stream of this loop: libuv calls `alloc_cb` immediately before the
    /// `read_cb` of the same read, on this thread, and streams copy the bytes out inside `read_cb`.
    let readBuffer: UnsafeMutablePointer<CChar>
    /// libuv handles opened through ChorusLoop and not yet closed (their memory not yet freed).
    let openHandles = Atomic<Int>(0)
    /// Run before and after each wait for I/O to hand the turn's coalesced writes to libuv (see
    /// `StreamConnection.write`); together they catch writes made in every phase of a turn.
    private let flushBeforePoll: UnsafeMutablePointer<uv_prepare_t>
    private let flushAfterPoll: UnsafeMutablePointer<uv_check_t>
    /// Connections with writes waiting for the end of the turn (loop thread only).
    private var streamsToFlush: [StreamConnection] = []
    private var flushing: [StreamConnection] = []

    private let lock = PThreadLock()
    private var pending: [Job] = []
    private var state = State.running
    private var stopRequested = false
    private var rejectedJobs = 0
    private var draining: [Job] = []

    private let shutdownLock = PThreadLock()
    private var thread: pthread_t?
    private var joined = false

    /// Creates the loop and starts its thread.
    ///
    /// - Parameter name: used for the thread name and in diagnostics.
    public init(name: String = "chorus-loop") throws(LoopError) {
        _ = Self.ignoreSIGPIPE
        self.name = name
        loop = .allocate(capacity: 1)
        wakeup = .allocate(capacity: 1)
        readBuffer = .allocate(capacity: Self.readBufferSize)
        flushBeforePoll = .allocate(capacity: 1)
        flushAfterPoll = .allocate(capacity: 1)

        let rc = uv_loop_init(loop)
        guard rc == 0 else {
            loop.deallocate()
            wakeup.deallocate()
            readBuffer.deallocate()
            flushBeforePoll.deallocate()
            flushAfterPoll.deallocate()
            throw LoopError.uv(rc, "initialise event loop \(name)")
        }
        // The loop's `data` points back here (unretained: the thread holds the strong reference).
        uv_loop_set_data(loop, Unmanaged.passUnretained(self).toOpaque())
        uv_async_init(loop, wakeup) { handle in
            EventLoop.owning(cuv_handle(handle)).wakeupFired()
        }
        // Owner-less handles: closed and freed by the shutdown walk like any other.
        uv_prepare_init(loop, flushBeforePoll)
        adopt(flushBeforePoll, owner: nil)
        uv_prepare_start(flushBeforePoll) { handle in EventLoop.owning(cuv_handle(handle)).flushWrites() }
        uv_unref(cuv_handle(flushBeforePoll))
        uv_check_init(loop, flushAfterPoll)
        adopt(flushAfterPoll, owner: nil)
        uv_check_start(flushAfterPoll) { handle in EventLoop.owning(cuv_handle(handle)).flushWrites() }
        uv_unref(cuv_handle(flushAfterPoll))

        let retained = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let created = pthread_create(
            &tid, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<EventLoop>.fromOpaque(argument).takeRetainedValue().threadMain()
                return nil
            }, retained.toOpaque())
        guard created == 0 else {
            retained.release()
            uv_close(cuv_handle(wakeup), nil)
            uv_close(cuv_handle(flushBeforePoll), closeHandleCallback)
            uv_close(cuv_handle(flushAfterPoll), closeHandleCallback)
            uv_run(loop, UV_RUN_DEFAULT)
            uv_loop_close(loop)
            joined = true
            throw LoopError(
                .system(name: "pthread_create", number: -created), operation: "start thread for event loop \(name)",
                detail: "the system refused a new thread (error \(created)); check process or memory limits")
        }
        shutdownLock.withLock { thread = tid }
    }

    deinit {
        // Reached only when the thread has exited and released its reference, i.e. after `shutdown()`
        // (or after a failed `init`), when `uv_loop_close` has already run.
        loop.deallocate()
        wakeup.deallocate()
        readBuffer.deallocate()
    }

    /// SIGPIPE's default action kills the process when a peer resets a connection mid-write; libuv does
    /// not guard against it on Linux, so the first loop in the process ignores it.
    private static let ignoreSIGPIPE: Void = cuv_ignore_sigpipe()

    // MARK: - Thread identity

    /// Whether the caller runs on this loop's thread (the only place libuv handles may be used).
    public var isInLoopThread: Bool {
        pthread_getspecific(currentLoopKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Traps unless called on this loop's thread: catches use of a loop-confined object from elsewhere.
    public func preconditionInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(isInLoopThread, "must be called on the thread of EventLoop \"\(name)\"", file: file, line: line)
    }

    // MARK: - Cross-thread entry

    /// Runs `job` on the loop thread, after the jobs submitted before it (FIFO). Thread-safe; this and
    /// the executor are the only ways into the loop from another thread. Called on the loop thread, it
    /// still defers the job to a later callback instead of running it inline.
    ///
    /// - Returns: false if the loop has shut down; the job is then dropped without running.
    @discardableResult
    public func execute(_ job: @escaping @Sendable () -> Void) -> Bool {
        submit(.closure(job))
    }

    /// Jobs refused because the loop had already shut down (for diagnostics).
    public var rejectedJobCount: Int {
        lock.withLock { rejectedJobs }
    }

    /// Queues an actor job (see `EventLoop+SerialExecutor.swift`).
    func enqueue(task: UnownedJob) {
        submit(.task(task))
    }

    @discardableResult
    private func submit(_ job: Job) -> Bool {
        lock.withLock {
            guard state != .stopped else {
                rejectedJobs += 1
                return false
            }
            // A non-empty queue means a wakeup is already pending and its callback has not yet taken
            // the queue, so only the first job after each drain needs to wake the loop.
            let wasEmpty = pending.isEmpty
            pending.append(job)
            if wasEmpty { uv_async_send(wakeup) }
            return true
        }
    }

    /// The wakeup callback: libuv merges several `uv_async_send` calls into one, so this drains the
    /// whole queue, then honours a stop request.
    private func wakeupFired() {
        runPendingJobs()
        if lock.withLock({ stopRequested }) {
            uv_stop(loop)
        }
    }

    private func runPendingJobs() {
        lock.withLock { swap(&pending, &draining) }
        for job in draining {
            switch job {
            case let .closure(body): body()
            case let .task(task): task.runSynchronously(on: asUnownedSerialExecutor())
            }
        }
        draining.removeAll(keepingCapacity: true)
    }

    // MARK: - Coalesced writes

    /// Asks for `connection.flush()` at the end of this loop turn.
    func scheduleFlush(_ connection: StreamConnection) {
        streamsToFlush.append(connection)
    }

    private func flushWrites() {
        guard !streamsToFlush.isEmpty else { return }
        // A flush may trigger callbacks that write again: those go to the next round.
        swap(&streamsToFlush, &flushing)
        for connection in flushing { connection.flush() }
        flushing.removeAll(keepingCapacity: true)
    }

    // MARK: - Thread body and shutdown

    private func threadMain() {
        pthread_setspecific(currentLoopKey, Unmanaged.passUnretained(self).toOpaque())
        cuv_set_current_thread_name(name)
        uv_run(loop, UV_RUN_DEFAULT)  // returns once `wakeupFired` saw the stop request
        closeEverything()
        pthread_setspecific(currentLoopKey, nil)
    }

    /// Closes every handle and keeps running jobs and close callbacks until nothing is left. A close
    /// callback may open new handles (a reconnect timer, say): the next round closes those too.
    private func closeEverything() {
        lock.withLock { state = .closing }
        while true {
            runPendingJobs()
            if closeAllHandles() == 0 {
                let finished = lock.withLock {
                    guard pending.isEmpty else { return false }
                    state = .stopped
                    return true
                }
                if finished { break }
                continue
            }
            uv_run(loop, UV_RUN_NOWAIT)
        }
        // Every connection has closed (failing its unsent writes), so pending flushes are moot.
        streamsToFlush.removeAll()
        uv_close(cuv_handle(wakeup), nil)
        uv_run(loop, UV_RUN_DEFAULT)
    }

    /// Starts closing every handle but the wakeup; returns how many such handles still exist
    /// (including ones whose close callback has not run yet).
    private func closeAllHandles() -> Int {
        var walk = WalkState(wakeup: cuv_handle(wakeup))
        withUnsafeMutablePointer(to: &walk) { walkPointer in
            uv_walk(
                loop,
                { handle, argument in
                    guard let handle, let argument else { return }
                    let walk = argument.assumingMemoryBound(to: WalkState.self)
                    guard handle != walk.pointee.wakeup else { return }
                    walk.pointee.remaining += 1
                    guard uv_is_closing(handle) == 0 else { return }
                    if let owner = handleOwner(handle) {
                        owner.closeForShutdown()
                    } else {
                        uv_close(handle, closeHandleCallback)
                    }
                }, walkPointer)
        }
        return walk.remaining
    }

    private struct WalkState {
        let wakeup: UnsafeMutablePointer<uv_handle_t>
        var remaining = 0
    }

    /// Closes every handle (listeners, connections, timers: their owners see `.loopShutdown`), runs
    /// jobs submitted meanwhile, stops and joins the loop thread, then closes the libuv loop.
    ///
    /// Idempotent and thread-safe: later and concurrent calls wait for the first to finish. Jobs and
    /// actor jobs submitted after it finished are rejected, so an actor bound to this loop must not be
    /// used afterwards (its calls would never complete). Calling it on the loop thread itself traps:
    /// the thread cannot wait for itself; hop off the loop first (for example from a detached task).
    public func shutdown() {
        precondition(
            !isInLoopThread,
            "EventLoop.shutdown() called on the thread of loop \"\(name)\"; it would wait for itself")
        shutdownLock.withLock {
            guard !joined, let thread else { return }
            lock.withLock {
                stopRequested = true
                uv_async_send(wakeup)
            }
            pthread_join(thread, nil)
            let rc = uv_loop_close(loop)
            precondition(
                rc == 0, "uv_loop_close failed after every handle was closed: \(LoopError.uv(rc, "close loop"))")
            joined = true
        }
    }
}

/// The thread-local slot holding the `EventLoop` whose thread is running (nil on other threads).
private let currentLoopKey: pthread_key_t = {
    var key = pthread_key_t()
    let rc = pthread_key_create(&key, nil)
    precondition(rc == 0, "pthread_key_create failed with \(rc)")
    return key
}()
