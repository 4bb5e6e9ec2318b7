import Synchronization

/// Set once the client of a streamed response has gone away, so the producer (a generation on
/// the worker) stops at its next step instead of computing tokens nobody reads.
public final class DisconnectFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func set() { flag.store(true, ordering: .relaxed) }
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}
