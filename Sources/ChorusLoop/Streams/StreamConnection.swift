internal import CLibUV

/// A byte-stream connection on the loop: the read, write, backpressure and close logic shared by
/// `TCPConnection` and `UnixConnection` (a libuv `uv_stream_t`).
///
/// Loop-confined: every member must be used on the loop thread. All callbacks run there too.
///
/// Lifecycle: a connection comes from a listener's accept callback or a successful `connect`, already
/// open. It is *not* reading yet: set `onRead`, then call `startReading()`. It stays open (and alive,
/// even without other references) until `close`, `closeAfterFlushing`, end of stream, an I/O error or
/// loop shutdown; then `onClose` runs exactly once, after which every callback is released (which breaks
/// any reference cycle through them).
///
/// Backpressure: writes are never refused for being too many; instead `isWritable` turns false when
/// more than `writeWatermarks.high` bytes wait in the kernel-facing queue, and `onWritabilityChanged`
/// tells the owner to stop producing until the queue drains to `writeWatermarks.low`. On the read side,
/// `stopReading()` stops pulling bytes from the socket, so a slow consumer pushes back on the sender
/// through TCP flow control instead of buffering without bound.
public class StreamConnection: HandleOwner {
    enum State {
        /// `connect` is in progress (the object is not yet handed to anyone).
        case connecting
        case open
        /// `closeAfterFlushing` waits for queued writes before closing.
        case flushing(CloseReason)
        case closing(CloseReason)
        case closed(CloseReason)
    }

    /// The loop the connection belongs to.
    public let loop: EventLoop
    /// The `uv_tcp_t`/`uv_pipe_t`; nil once its close callback ran and the memory is freed.
    var handle: UnsafeMutableRawPointer?
    private(set) var state: State

    /// Receives each chunk of bytes read, in order. Chunk boundaries carry no meaning (a stream).
    public var onRead: (([UInt8]) -> Void)?
    /// Called once when the connection has closed, with the first reason that closed it.
    public var onClose: ((CloseReason) -> Void)?
    /// Called with the new value whenever `isWritable` changes.
    public var onWritabilityChanged: ((Bool) -> Void)?
    /// The thresholds for `isWritable`; changing them re-evaluates it at once.
    public var writeWatermarks = WriteWatermarks.default {
        didSet { updateWritability() }
    }
    /// False while more than `writeWatermarks.high` bytes are queued, until they drain to `low`.
    public private(set) var isWritable = true
    /// Whether `startReading()` is in effect.
    public private(set) var isReading = false

    private var connectCompletion: ((Result<Void, LoopError>) -> Void)?
    private var connectTimer: LoopTimer?
    private var connectError: LoopError?

    init(loop: EventLoop, handle: UnsafeMutableRawPointer, state: State) {
        self.loop = loop
        self.handle = handle
        self.state = state
        loop.adopt(handle, owner: self)
    }

    /// Names the remote end in error messages (the peer address or socket path).
    var endpointDescription: String { "stream" }

    // MARK: - Reading

    /// Starts delivering bytes to `onRead` (which must be set). Harmless if already reading or closed.
    public func startReading() {
        loop.preconditionInLoop()
        precondition(onRead != nil, "set onRead before calling startReading()")
        guard case .open = state, let handle, !isReading else { return }
        let rc = uv_read_start(
            cuv_stream(handle),
            { handle, _, buffer in
                // Every stream of the loop reads into the loop's one buffer (see EventLoop.readBuffer).
                let loop = EventLoop.owning(handle)
                buffer?.pointee = cuv_buf(loop.readBuffer, EventLoop.readBufferSize)
            },
            { stream, count, buffer in
                handleOwner(stream, as: StreamConnection.self)?.didRead(count: count, buffer: buffer)
            })
        guard rc == 0 else {
            close(.failed(.uv(rc, "start reading from \(endpointDescription)")))
            return
        }
        isReading = true
    }

    /// Stops reading from the socket until `startReading()`; the kernel then applies TCP flow control to
    /// the peer. May be called from inside `onRead`.
    public func stopReading() {
        loop.preconditionInLoop()
        guard isReading, let handle else { return }
        uv_read_stop(cuv_stream(handle))
        isReading = false
    }

    private func didRead(count: Int, buffer: UnsafePointer<uv_buf_t>?) {
        if count > 0, let base = buffer?.pointee.base {
            // The shared read buffer is reused by the next read, so the chunk is copied out here.
            let chunk = [UInt8](unsafeUninitializedCapacity: count) { target, initialized in
                let source = UnsafeRawBufferPointer(start: base, count: count)
                UnsafeMutableRawBufferPointer(target).copyMemory(from: source)
                initialized = count
            }
            onRead?(chunk)
        } else if count == Int(UV_EOF.rawValue) {
            close(.peerClosed)
        } else if count < 0 {
            close(.failed(.uv(count, "read from \(endpointDescription)")))
        }
        // count == 0: nothing was available (EAGAIN); there is nothing to free, the buffer is the loop's.
    }

    // MARK: - Writing

    /// Writes made during this loop turn and not yet handed to libuv; nil when there are none.
    private var outgoing: WriteBatch?

    /// Bytes accepted by `write` but not yet handed to the kernel.
    public var writeQueueSize: Int {
        loop.preconditionInLoop()
        return queuedBytes
    }

    private var queuedBytes: Int {
        guard let handle else { return 0 }
        return uv_stream_get_write_queue_size(cuv_stream(handle)) + (outgoing?.count ?? 0)
    }

    /// Queues `bytes` for sending, after everything written before.
    ///
    /// Writes made during one turn of the loop are coalesced and handed to the kernel together when
    /// the turn ends (before the loop waits for I/O again), so a burst of small messages costs one
    /// system call, not one each. The bytes are copied; the caller may reuse its array at once.
    ///
    /// - Parameter completion: called on the loop thread once the bytes were handed to the kernel, or
    ///   with the error that prevented it (`.closed` if the connection is closed or closes first,
    ///   `.loopShutDown` if the loop shuts down first; the connection's own failure otherwise, in which
    ///   case it also closes). Completions run in write order; on an already closed connection the
    ///   completion is called before `write` returns.
    public func write(_ bytes: [UInt8], completion: ((Result<Void, LoopError>) -> Void)? = nil) {
        loop.preconditionInLoop()
        guard case .open = state, handle != nil else {
            completion?(.failure(.closed("write to \(endpointDescription)")))
            return
        }
        let batch: WriteBatch
        if let outgoing {
            batch = outgoing
        } else {
            batch = WriteBatch()
            outgoing = batch
            loop.scheduleFlush(self)
        }
        batch.append(bytes, completion: completion)
        updateWritability()
    }

    /// Hands this turn's writes to libuv as one `uv_write`. Called by the loop when the turn ends, and
    /// before a graceful close. Does nothing once closing: `handleDidClose` fails those writes.
    func flush() {
        guard case .open = state, let handle, let batch = outgoing else { return }
        outgoing = nil
        let rc = batch.send(on: handle) { request, status in
            guard let request else { return }
            let (stream, batch) = WriteBatch.finish(request)
            handleOwner(stream, as: StreamConnection.self)?.writeFinished(status: status, batch: batch)
        }
        if rc == 0 {
            updateWritability()
        } else {
            writeFinished(status: rc, batch: batch)
        }
    }

    private func writeFinished(status: Int32, batch: WriteBatch?) {
        if status == 0 {
            batch?.complete(.success(()))
            updateWritability()
        } else if status == UV_ECANCELED.rawValue {
            // libuv cancels queued writes when the handle closes.
            batch?.complete(.failure(cancelledWriteError()))
        } else {
            let error = LoopError.uv(status, "write to \(endpointDescription)")
            batch?.complete(.failure(error))
            close(.failed(error))
        }
    }

    /// The error for writes dropped because the connection closed before sending them.
    private func cancelledWriteError() -> LoopError {
        let operation = "write to \(endpointDescription)"
        switch state {
        case .closing(.loopShutdown), .closed(.loopShutdown): return .shutDown(operation)
        default: return .closed(operation)
        }
    }

    private func updateWritability() {
        guard case .open = state else { return }
        let queued = queuedBytes
        if isWritable, queued > writeWatermarks.high {
            isWritable = false
            onWritabilityChanged?(false)
        } else if !isWritable, queued <= writeWatermarks.low {
            isWritable = true
            onWritabilityChanged?(true)
        }
    }

    // MARK: - Closing

    /// Closes at once: queued writes are cancelled (their completions get `.closed`), then `onClose`
    /// runs with `reason`. Idempotent; the first reason wins. Allowed inside any callback.
    public func close(_ reason: CloseReason) {
        loop.preconditionInLoop()
        guard let handle else { return }
        switch state {
        case .closing, .closed:
            return
        case let .flushing(flushReason):
            state = .closing(flushReason)
        case .connecting, .open:
            state = .closing(reason)
        }
        isReading = false
        connectTimer?.close()
        uv_close(cuv_handle(handle), closeHandleCallback)
    }

    /// Stops reading, refuses new writes, sends what is queued, then closes with `reason`. For a last
    /// message before disconnecting. If the peer never reads, this never finishes: pair it with a
    /// timer that calls `close`.
    public func closeAfterFlushing(_ reason: CloseReason) {
        loop.preconditionInLoop()
        guard case .open = state, let handle else { return }
        stopReading()
        flush()
        guard case .open = state else { return }  // the flush itself failed and closed the connection
        // Freed in the shutdown callback, which libuv always calls once started (ECANCELED on close).
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        request.initialize(to: uv_shutdown_t())
        let rc = uv_shutdown(request, cuv_stream(handle)) { request, _ in
            guard let request else { return }
            let stream = request.pointee.handle
            request.deallocate()
            handleOwner(stream, as: StreamConnection.self)?.flushFinished()
        }
        guard rc == 0 else {
            request.deallocate()
            close(reason)
            return
        }
        state = .flushing(reason)
    }

    private func flushFinished() {
        // Not flushing any more means a hard `close` (or a failure) overtook the flush.
        guard case let .flushing(reason) = state else { return }
        close(reason)
    }

    /// Whether the connection is closed or closing.
    public var isClosed: Bool {
        loop.preconditionInLoop()
        switch state {
        case .connecting, .open, .flushing: return false
        case .closing, .closed: return true
        }
    }

    func closeForShutdown() {
        close(.loopShutdown)
    }

    func handleDidClose() {
        let reason: CloseReason
        switch state {
        case let .closing(why), let .closed(why), let .flushing(why): reason = why
        case .connecting, .open: reason = .requested("closed")
        }
        handle = nil
        state = .closed(reason)
        isReading = false
        if let unsent = outgoing {
            // Written during the turn in which the connection closed: never handed to libuv.
            outgoing = nil
            unsent.complete(.failure(cancelledWriteError()))
        }
        if let completion = connectCompletion {
            // The handle closed before the connect callback reported anything (a setup error).
            connectCompletion = nil
            completion(.failure(connectError ?? .closed("connect to \(endpointDescription)")))
        }
        let onClose = self.onClose
        self.onClose = nil
        onRead = nil
        onWritabilityChanged = nil
        onClose?(reason)
    }

    // MARK: - Connecting (used by the subclasses' `connect`)

    /// Runs `start` (the subclass's `uv_*_connect` call, returning its synchronous error) with a
    /// timeout and reports the outcome to `completion` exactly once, always from a later callback (never
    /// inside this call). On failure the handle is closed; `onClose` is not involved because nobody has
    /// seen the connection yet.
    func connect(
        timeout: Duration, operation: String,
        start: (UnsafeMutablePointer<uv_connect_t>, UnsafeMutableRawPointer) -> LoopError?,
        completion: @escaping (Result<Void, LoopError>) -> Void
    ) {
        guard case .connecting = state, let handle else { return }
        connectCompletion = completion
        // Freed in `connectCallback`, which libuv always calls once started (with ECANCELED on close).
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.initialize(to: uv_connect_t())
        if let error = start(request, handle) {
            request.deallocate()
            connectError = error
            close(.failed(error))
            return
        }
        let timer = LoopTimer(on: loop)
        timer.schedule(after: timeout) { [weak self] in
            guard let self else { return }
            let error = LoopError(
                .timedOut, operation: operation,
                detail: "no answer within \(timeout); the peer may be down or unreachable")
            self.connectError = error
            self.close(.failed(error))
        }
        connectTimer = timer
    }

    /// The libuv connect callback, shared by TCP and Unix connections.
    static let connectCallback: uv_connect_cb = { request, status in
        guard let request else { return }
        let stream = request.pointee.handle
        request.deallocate()
        handleOwner(stream, as: StreamConnection.self)?.connectFinished(status: status)
    }

    private func connectFinished(status: Int32) {
        connectTimer?.close()
        connectTimer = nil
        guard let completion = connectCompletion else { return }
        connectCompletion = nil
        if status == 0, case .connecting = state {
            state = .open
            didConnect()
            completion(.success(()))
            return
        }
        let operation = "connect to \(endpointDescription)"
        let error: LoopError
        if let connectError {
            error = connectError
        } else if case .closing(.loopShutdown) = state {
            error = .shutDown(operation)
        } else {
            error = .uv(status == 0 ? UV_ECANCELED.rawValue : status, operation)
        }
        close(.failed(error))
        completion(.failure(error))
    }

    /// Subclass hook run when a connect succeeded or an accept completed (socket options, addresses).
    func didConnect() {}
}

@available(*, unavailable, message: "connections are confined to their loop's thread")
extension StreamConnection: Sendable {}
