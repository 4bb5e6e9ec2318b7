internal import CLibUV

/// A listening Unix-domain socket, reachable only by the owner of the process (mode 0600).
///
/// A socket file left behind by a dead process is removed at start; a live one, or a path that is not
/// a socket, is an error. The file is removed again on `close()` if it is still the one this listener
/// created.
public final class UnixListener: StreamListener {
    /// The socket path.
    public let path: String
    private var onAccept: ((UnixConnection) -> Void)?
    private var fileIdentity: (device: UInt64, inode: UInt64)?

    /// Creates the socket file at `path` with mode 0600 and listens on it.
    ///
    /// - Parameters:
    ///   - backlog: the kernel's queue of connections not yet accepted.
    ///   - onAccept: receives each new connection, open but not yet reading; runs on the loop thread.
    /// - Throws: `LoopError` `.invalidSocketPath` (too long, in use, not a socket) or `.system`.
    /// Must be called on the loop thread.
    public init(
        path: String, on loop: EventLoop, backlog: Int32 = 128, onAccept: @escaping (UnixConnection) -> Void
    ) throws(LoopError) {
        loop.preconditionInLoop()
        let operation = "listen on Unix socket \(path)"
        if let invalid = UnixSocketPath.validate(path, operation: operation)
            ?? UnixSocketPath.removeStale(path, operation: operation)
        {
            throw invalid
        }
        let pipe = loop.allocateHandle(uv_pipe_t.self)
        uv_pipe_init(loop.loop, pipe, 0)  // cannot fail: it only initialises the struct
        self.path = path
        self.onAccept = onAccept
        super.init(loop: loop, handle: UnsafeMutableRawPointer(pipe))

        var failure: LoopError?
        let rc = uv_pipe_bind(pipe, path)
        if rc != 0 {
            failure = .uv(rc, "bind Unix socket \(path)")
        } else {
            var device: UInt64 = 0
            var inode: UInt64 = 0
            if cuv_file_identity(path, &device, &inode) == 0 { fileIdentity = (device, inode) }
            // Restrict before listening, so no other user can connect in between.
            let chmod = cuv_chmod(path, 0o600)
            failure = chmod != 0 ? .uv(chmod, "restrict Unix socket \(path) to mode 0600") : listen(backlog: backlog)
        }
        if let failure {
            close()
            throw failure
        }
    }

    override var endpointDescription: String { "Unix socket \(path)" }

    override func acceptPending() {
        let connection = UnixConnection(loop: loop, state: .open, path: path)
        if accept(into: connection) {
            onAccept?(connection)
        }
    }

    override func willClose() {
        // Remove the file only while it is still ours: another listener may have replaced it.
        guard let fileIdentity else { return }
        var device: UInt64 = 0
        var inode: UInt64 = 0
        if cuv_file_identity(path, &device, &inode) == 0, device == fileIdentity.device, inode == fileIdentity.inode {
            _ = cuv_unlink(path)
        }
    }

    override func didClose() {
        onAccept = nil
    }
}
