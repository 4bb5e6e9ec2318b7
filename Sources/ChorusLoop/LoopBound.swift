/// A box that lets loop-confined state travel through `@Sendable` closures while staying usable only
/// on its loop's thread (like NIO's `NIOLoopBound`): for example a connection created in one
/// `execute` job and used by a later one.
///
/// `@unchecked Sendable` invariant: `storage` is read and written only on `loop`'s thread; `init` and
/// every access check it with `preconditionInLoop()`, so the box can be passed around freely but its
/// contents cannot be reached from another thread.
public final class LoopBound<Value>: @unchecked Sendable {
    /// The loop that owns the value.
    public let loop: EventLoop
    private var storage: Value

    /// Must be called on `loop`'s thread.
    public init(_ value: Value, loop: EventLoop) {
        loop.preconditionInLoop()
        self.loop = loop
        self.storage = value
    }

    /// The value; reading or writing it off the loop thread traps.
    public var value: Value {
        get {
            loop.preconditionInLoop()
            return storage
        }
        set {
            loop.preconditionInLoop()
            storage = newValue
        }
    }
}
