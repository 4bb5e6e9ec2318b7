import ChorusWorkerAPI
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock Unix seconds, as the protocol reports times.
enum WallClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// Runs blocking compute (forward passes, model loads) on a thread of its own (`DedicatedThread`)
/// instead of Swift concurrency's cooperative pool, whose few threads must stay free for I/O.
enum BlockingWork {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(WorkerError) -> T) async throws(WorkerError) -> T {
        let result: Result<T, WorkerError> = await withCheckedContinuation { continuation in
            DedicatedThread.start {
                continuation.resume(returning: Result { () throws(WorkerError) in try body() })
            }
        }
        return try result.get()
    }

    /// Where work goes when no thread can be created.
    static func fallback(_ body: @escaping @Sendable () -> Void) {
        DispatchQueue.global().async(execute: body)
    }
}
