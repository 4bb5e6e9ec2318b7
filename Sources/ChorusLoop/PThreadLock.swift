#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A plain `pthread_mutex_t` lock.
///
/// Why not `Synchronization.Mutex`: on Linux it is futex-based and invisible to ThreadSanitizer, which
/// then reports false races on the data it protects. A pthread mutex is intercepted by TSan, so the
/// sanitizer run stays clean and meaningful.
///
/// `@unchecked Sendable` invariant: the mutex lives in its own heap allocation (never moved), is only
/// touched through `pthread_mutex_*`, which are thread-safe, and is destroyed in `deinit` when no
/// thread can hold a reference any more.
final class PThreadLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed with \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held. Never call back into code that may take the same lock.
    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
