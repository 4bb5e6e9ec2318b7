#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking compute on an OS thread of its own. Dispatch's global queues are no place for
/// it: on Linux they share their few threads (one per core) with Swift concurrency, so a few
/// long PoC jobs there starve every task in the process (a node's worker calls, its timers' awaits).
enum DedicatedThread {
    /// Carries the body through `pthread_create`'s `void *` argument.
    private final class Start {
        let body: @Sendable () -> Void
        init(body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a detached thread running `body`; if no thread can be created, runs it on a global
    /// Dispatch queue instead (slower to share, but the work still gets done).
    static func start(_ body: @escaping @Sendable () -> Void) {
        // Ownership: one +1 reference travels to the new thread, which takes it back; if the thread
        // cannot be created, it is released here.
        let argument = Unmanaged.passRetained(Start(body: body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let start = Unmanaged<Start>.fromOpaque(raw).takeRetainedValue()
            start.body()
            return nil
        }, argument)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(argument).release()
            BlockingWork.fallback(body)
            return
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        if let thread { pthread_detach(thread) }
        #endif
    }
}
