import NIOCore
import Synchronization

/// At most `limit` connections open at once on one listener: each connection's pipeline holds a
/// `ConnectionLimitHandler`, and one over the limit is closed as soon as it is set up (before any
/// request is read). A server that a local process could flood with idle connections would
/// otherwise spend the descriptors its process shares with other listeners (the admin listener
/// shares `chorusd`'s with the node's peer sessions).
public final class ConnectionLimit: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Connections open now.
    public var count: Int { open.load(ordering: .relaxed) }

    func handler() -> ConnectionLimitHandler { ConnectionLimitHandler(limit: self) }

    fileprivate func enter() -> Bool {
        guard open.add(1, ordering: .relaxed).newValue <= limit else {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    fileprivate func leave() {
        open.subtract(1, ordering: .relaxed)
    }
}

/// Counts its connection in while it is in the pipeline; passes everything through.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let limit: ConnectionLimit
    private var counted = false

    init(limit: ConnectionLimit) {
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = limit.enter()
        if !counted { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted { limit.leave() }
        counted = false
    }
}
