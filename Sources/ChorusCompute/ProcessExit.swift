#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends the process without running C library destructors.
///
/// Why: OpenBLAS (0.3.21, Debian 12) joins its worker threads in a destructor at exit
/// (`gotoblas_quit` → `blas_thread_shutdown_`), and that join can deadlock once the threads have
/// run work (seen as a `chorusd` that stopped cleanly but never exited after PoC jobs). The
/// executables have closed their stores and sockets before they get here, so nothing is lost by
/// skipping destructors; stdio buffers are flushed first.
///
/// It lives with the engine because the engine is what links OpenBLAS: a process that does not
/// link ChorusCompute has no such destructor and can exit normally.
public enum ProcessExit {
    public static func now(_ status: Int32) -> Never {
        fflush(nil)
        _exit(status)
    }
}
