/// Why a connection closed, as reported to its `onClose` callback.
public enum CloseReason: Sendable, Hashable, CustomStringConvertible {
    /// This side called `close` or `closeAfterFlushing`; the text says why (for logs).
    case requested(String)
    /// The peer closed its side of the connection (end of stream).
    case peerClosed
    /// A read or write failed (connection reset, broken pipe, ...).
    case failed(LoopError)
    /// The event loop shut down while the connection was open.
    case loopShutdown

    public var description: String {
        switch self {
        case let .requested(why): return "closed locally: \(why)"
        case .peerClosed: return "closed by the peer"
        case let .failed(error): return "failed: \(error)"
        case .loopShutdown: return "event loop shut down"
        }
    }
}
