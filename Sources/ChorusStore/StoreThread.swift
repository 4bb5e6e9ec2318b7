#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts dedicated OS threads (the storage thread must be one fixed thread: an LMDB write
/// transaction has to end on the thread that began it).
enum StoreThread {
    struct StartFailure: Error { let code: Int32 }

    /// Carries the thread body through `pthread_create`'s `void *` argument.
    private final class Start {
        let body: @Sendable () -> Void
        init(body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a joinable thread running `body`.
    static func start(_ body: @escaping @Sendable () -> Void) throws(StartFailure) -> pthread_t {
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
            throw StartFailure(code: rc)
        }
        #if canImport(Glibc)
        return thread
        #else
        guard let thread else { throw StartFailure(code: EAGAIN) }
        return thread
        #endif
    }
}
