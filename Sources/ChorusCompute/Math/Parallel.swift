import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits element-wise work (norms, RoPE, activations, attention heads) across the cores, so the
/// parts of the forward pass outside OpenBLAS do not run on one core while the others idle.
enum Parallel {
    /// Online cores, at least 1.
    static let cores: Int = Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

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
