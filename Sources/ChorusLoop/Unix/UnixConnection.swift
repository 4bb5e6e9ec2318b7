internal import CLibUV

/// A Unix-domain stream socket connection (a libuv pipe), for local clients such as the control
/// socket of the `chorus` CLI.
///
/// Everything about reading, writing, backpressure and closing is in `StreamConnection`.
public final class UnixConnection: StreamConnection {
    /// The socket path: the one connected to, or the listener's path for accepted connections.
    public let path: String

    init(loop: EventLoop, state: State, path: String) {
        let pipe = loop.allocateHandle(uv_pipe_t.self)
        uv_pipe_init(loop.loop, pipe, 0)  // cannot fail: it only initialises the struct
        self.path = path
        super.init(loop: loop, handle: UnsafeMutableRawPointer(pipe), state: state)
    }

    /// Connects to the socket at `path` and reports the open connection (not yet reading) or the error.
    ///
    /// `completion` runs exactly once, on the loop thread, never before this call returns. Errors:
    /// `.system` (`ENOENT`: no socket there, `ECONNREFUSED`: nobody listening), `.invalidSocketPath`,
    /// `.timedOut`, `.loopShutDown`. Must be called on the loop thread.
    public static func connect(
        path: String, on loop: EventLoop, timeout: Duration = .seconds(5),
        _ completion: @escaping (Result<UnixConnection, LoopError>) -> Void
    ) {
        loop.preconditionInLoop()
        let connection = UnixConnection(loop: loop, state: .connecting, path: path)
        let operation = "connect to Unix socket \(path)"
        connection.connect(
            timeout: timeout, operation: operation,
            start: { request, handle in
                if let invalid = UnixSocketPath.validate(path, operation: operation) { return invalid }
                uv_pipe_connect(
                    request, handle.assumingMemoryBound(to: uv_pipe_t.self), path, StreamConnection.connectCallback)
                return nil  // libuv reports every pipe connect error through the callback
            },
            completion: { result in completion(result.map { connection }) })
    }

    /// Connects to the socket at `path`; the async form of `connect(path:on:timeout:_:)` for actors
    /// bound to `loop`. It runs on the caller's executor (`nonisolated(nonsending)`), which must be the
    /// loop; elsewhere it traps.
    nonisolated(nonsending)
    public static func connect(
        path: String, on loop: EventLoop, timeout: Duration = .seconds(5)
    ) async throws(LoopError) -> UnixConnection {
        let outcome = await withCheckedContinuation { continuation in
            connect(path: path, on: loop, timeout: timeout) {
                continuation.resume(returning: LoopBound($0, loop: loop))
            }
        }
        return try outcome.value.get()
    }

    override var endpointDescription: String { "Unix socket \(path)" }
}
