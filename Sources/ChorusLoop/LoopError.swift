internal import CLibUV

/// Everything that can go wrong in ChorusLoop.
///
/// A struct with a `Code` (the kind of failure, for matching) plus `operation` (what was being attempted,
/// with its address or path) so that one message says what failed, why, and where.
public struct LoopError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Hashable {
        /// libuv or the kernel reported an error. `name` is libuv's symbolic name (`"ECONNREFUSED"`,
        /// `"EADDRINUSE"`, ...) from `uv_err_name`; `number` is the negative libuv code.
        case system(name: String, number: Int32)
        /// The operation did not finish within its time limit (for example a connect timeout).
        case timedOut
        /// A textual socket address could not be parsed.
        case invalidAddress
        /// A Unix socket path is unusable (too long, occupied by a non-socket, or in use by a live process).
        case invalidSocketPath
        /// The handle was already closed when the operation was requested, or closed before it completed.
        case closed
        /// The event loop shut down (or is shutting down) before the operation could run or complete.
        case loopShutDown
    }

    /// The kind of failure.
    public let code: Code
    /// What was being attempted, e.g. `"connect to 127.0.0.1:7000"`.
    public let operation: String
    /// A human-readable explanation (libuv's `uv_strerror` text for system errors) and, where one
    /// exists, what to do about it.
    public let detail: String

    public init(_ code: Code, operation: String, detail: String) {
        self.code = code
        self.operation = operation
        self.detail = detail
    }

    /// libuv's symbolic error name for `.system` errors (`"ECONNREFUSED"`), nil otherwise.
    public var systemErrorName: String? {
        if case let .system(name, _) = code { return name }
        return nil
    }

    public var description: String {
        let what: String
        switch code {
        case let .system(name, _): what = name
        case .timedOut: what = "timed out"
        case .invalidAddress: what = "invalid address"
        case .invalidSocketPath: what = "unusable socket path"
        case .closed: what = "closed"
        case .loopShutDown: what = "event loop shut down"
        }
        return detail.isEmpty ? "\(operation): \(what)" : "\(operation): \(what) (\(detail))"
    }
}

extension LoopError {
    /// Wraps a negative libuv status code (libuv uses `-errno` on Unix).
    static func uv(_ status: Int32, _ operation: String) -> LoopError {
        let name = String(cString: uv_err_name(status))
        var detail = String(cString: uv_strerror(status))
        if let hint = hints[name] { detail += "; " + hint }
        return LoopError(.system(name: name, number: status), operation: operation, detail: detail)
    }

    /// Same as `uv(_:_:)` for the `Int` statuses that read callbacks receive.
    static func uv(_ status: Int, _ operation: String) -> LoopError {
        uv(Int32(truncatingIfNeeded: status), operation)
    }

    static func shutDown(_ operation: String) -> LoopError {
        LoopError(.loopShutDown, operation: operation, detail: "the event loop was shut down")
    }

    static func closed(_ operation: String) -> LoopError {
        LoopError(.closed, operation: operation, detail: "the handle is closed or closing")
    }

    /// What an operator can do about the most common failures.
    private static let hints: [String: String] = [
        "EADDRINUSE": "another socket is bound to this address; choose another port or stop the other process",
        "EADDRNOTAVAIL": "this address is not assigned to any local interface",
        "EACCES": "permission denied; ports below 1024 and some paths need privileges",
        "ECONNREFUSED": "nothing is listening there; check the address and that the peer is running",
        "EMFILE": "the process is out of file descriptors; raise `ulimit -n` or lower connection budgets",
    ]
}
