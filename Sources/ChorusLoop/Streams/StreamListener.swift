internal import CLibUV

/// A listening stream socket: the listen/accept logic shared by `TCPListener` and `UnixListener`.
///
/// Loop-confined. A listener stays open (and alive, even without other references) until `close()` or
/// loop shutdown. Each accepted connection is handed to the subclass's accept callback, open but not
/// yet reading.
public class StreamListener: HandleOwner {
    /// The loop the listener belongs to.
    public let loop: EventLoop
    /// The `uv_tcp_t`/`uv_pipe_t`; nil once its close callback ran and the memory is freed.
    var handle: UnsafeMutableRawPointer?
    /// Called when accepting a pending connection failed (for example the process ran out of file
    /// descriptors). The listener keeps listening.
    public var onAcceptError: ((LoopError) -> Void)?

    init(loop: EventLoop, handle: UnsafeMutableRawPointer) {
        self.loop = loop
        self.handle = handle
        loop.adopt(handle, owner: self)
    }

    /// Names the listening address in error messages.
    var endpointDescription: String { "listener" }

    /// Starts listening; on failure the caller closes the listener and throws.
    func listen(backlog: Int32) -> LoopError? {
        guard let handle else { return .closed("listen on \(endpointDescription)") }
        let rc = uv_listen(cuv_stream(handle), backlog) { server, status in
            handleOwner(server, as: StreamListener.self)?.connectionPending(status: status)
        }
        return rc == 0 ? nil : .uv(rc, "listen on \(endpointDescription)")
    }

    private func connectionPending(status: Int32) {
        guard status == 0 else {
            onAcceptError?(.uv(status, "accept on \(endpointDescription)"))
            return
        }
        acceptPending()
    }

    /// Subclass hook: create a connection of the right kind, `accept(into:)`, hand it to the owner.
    func acceptPending() {}

    /// Accepts the pending connection into `connection`'s handle. On failure the connection is closed
    /// (it was never handed out) and the error reported through `onAcceptError`.
    func accept(into connection: StreamConnection) -> Bool {
        guard let handle, let client = connection.handle else { return false }
        let rc = uv_accept(cuv_stream(handle), cuv_stream(client))
        guard rc == 0 else {
            connection.close(.failed(.uv(rc, "accept on \(endpointDescription)")))
            onAcceptError?(.uv(rc, "accept on \(endpointDescription)"))
            return false
        }
        connection.didConnect()
        return true
    }

    /// Stops listening and closes the socket; connections already accepted stay open. Idempotent.
    public func close() {
        loop.preconditionInLoop()
        guard let handle, uv_is_closing(cuv_handle(handle)) == 0 else { return }
        willClose()
        uv_close(cuv_handle(handle), closeHandleCallback)
    }

    /// Whether `close()` was called (or the loop shut down).
    public var isClosed: Bool {
        loop.preconditionInLoop()
        guard let handle else { return true }
        return uv_is_closing(cuv_handle(handle)) != 0
    }

    /// Subclass hook run once when closing starts.
    func willClose() {}

    /// Subclass hook run from the close callback.
    func didClose() {}

    func closeForShutdown() { close() }

    func handleDidClose() {
        handle = nil
        onAcceptError = nil
        didClose()
    }
}

@available(*, unavailable, message: "listeners are confined to their loop's thread")
extension StreamListener: Sendable {}
