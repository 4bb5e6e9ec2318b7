internal import CLibUV

/// Checks shared by the Unix socket listener and connection.
enum UnixSocketPath {
    /// Rejects paths that `sockaddr_un` cannot hold (libuv 1.44 would silently truncate them).
    static func validate(_ path: String, operation: String) -> LoopError? {
        let limit = cuv_unix_path_max()
        if path.isEmpty {
            return LoopError(.invalidSocketPath, operation: operation, detail: "the socket path is empty")
        }
        if path.utf8.count > limit {
            return LoopError(
                .invalidSocketPath, operation: operation,
                detail: "the path is \(path.utf8.count) bytes but Unix socket paths hold at most \(limit); "
                    + "use a shorter directory")
        }
        if path.utf8.contains(0) {
            return LoopError(.invalidSocketPath, operation: operation, detail: "the path contains a NUL byte")
        }
        return nil
    }

    /// Makes `path` free for a new listener: removes a socket file left behind by a dead process, and
    /// refuses to touch a live socket or anything that is not a socket.
    static func removeStale(_ path: String, operation: String) -> LoopError? {
        switch cuv_unix_path_state(path) {
        case 0:
            return nil
        case 1:
            switch cuv_unix_path_is_live(path) {
            case 0:
                let rc = cuv_unlink(path)
                return rc == 0 ? nil : .uv(rc, "\(operation): remove stale socket file")
            case 1:
                return LoopError(
                    .invalidSocketPath, operation: operation,
                    detail: "another process is listening on this socket; stop it or choose another path")
            case let rc:
                return .uv(rc, "\(operation): probe existing socket file")
            }
        case 2:
            return LoopError(
                .invalidSocketPath, operation: operation,
                detail: "the path exists and is not a socket; it is left alone, choose another path")
        case let rc:
            return .uv(rc, "\(operation): inspect existing path")
        }
    }
}
