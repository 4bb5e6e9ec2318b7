import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits element-wise work (norms, RoPE, activations, attention heads) across the cores, so the
/// parts of the forward pass outside OpenBLAS do not run on one core while the others idle.
enum Parallel {
    /// The cores this process may run on, at least 1: on Linux its CPU affinity (`taskset -c 0`,
    /// a cpuset), so a process pinned to one core does not fork its work into tasks that only take
    /// turns on that core (OpenBLAS sizes its own thread pool the same way); otherwise the online
    /// cores.
    static let cores: Int = Swift.max(1, affinityCores ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// The number of CPUs in this process's affinity mask (Linux `sched_getaffinity`, looked up
    /// with `dlsym` because Glibc's Swift module does not export it); nil where unavailable.
    private static var affinityCores: Int? {
        #if os(Linux)
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
        let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
        var mask = [UInt8](repeating: 0, count: 128)  // cpu_set_t: 1024 CPUs
        let result = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
        guard result == 0 else { return nil }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return count > 0 ? count : nil
        #else
        return nil
        #endif
    }

    /// Calls `body` on disjoint subranges covering `0..<count`, in parallel when there is enough
    /// work (`minimumChunk` items per task at least). Returns after every call has finished.
    ///
    /// `body` must only touch state that is disjoint per subrange (each caller writes distinct rows).
    static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let tasks = Swift.min(cores, Swift.max(1, count / Swift.max(1, minimumChunk)))
        if tasks == 1 {
            body(0..<count)
            return
        }
        let chunk = (count + tasks - 1) / tasks
        // The closure is synchronous: concurrentPerform returns only after every iteration ran, so
        // non-Sendable captures (raw pointers into buffers the caller owns) cannot outlive the call.
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: tasks) { t in
                let lower = t * chunk
                let upper = Swift.min(count, lower + chunk)
                if lower < upper { box.value(lower..<upper) }
            }
        }
    }
}

/// Carries a value into a `@Sendable` closure whose execution the caller fully brackets (see
/// `Parallel.forEachChunk`). Invariant: only used where concurrent access is to disjoint data.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
