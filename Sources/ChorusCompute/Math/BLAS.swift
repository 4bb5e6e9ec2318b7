internal import COpenBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The only door to OpenBLAS. Row-major single-precision GEMM plus the thread-count knobs.
enum BLAS {
    /// Process-wide: one batch of BLAS work (a forward pass, a benchmark GEMM) at a time. Each
    /// already uses every core, the attention step changes OpenBLAS's global thread count while it
    /// runs, and concurrent passes would only slow each other down.
    private static let exclusive = Mutex(())

    /// Runs `body` while holding the process-wide BLAS lock.
    static func serialized<R>(_ body: () -> R) -> R {
        exclusive.withLock { _ in body() }
    }

    /// C[m×n] = alpha · A[m×k] · op(B) + beta · C, all row-major. With `transposeB` the operand B is
    /// stored as [n×k] (the layout of a GGUF weight matrix: one row per output feature), otherwise
    /// as [k×n]. `lda`/`ldb`/`ldc` are row strides in elements, so sub-blocks of wider buffers can
    /// be used in place.
    ///
    /// Pointer invariant: the caller guarantees each operand addresses at least
    /// (rows − 1)·ld + cols valid floats; OpenBLAS reads A and B and writes only C.
    @inline(__always)
    static func gemm(m: Int, n: Int, k: Int,
                     a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                     c: UnsafeMutablePointer<Float>, ldc: Int,
                     alpha: Float = 1, beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        precondition(k > 0, "callers never multiply over an empty inner dimension")
        _ = kernelsSelected
        if m == 1 {
            // A single row (a decode step): GEMV streams B once; OpenBLAS's GEMM would first pack
            // all of B (for the vocabulary projection, a 100 MB copy per token).
            if transposeB {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(n), blasint(k), alpha, b, blasint(ldb), a, 1, beta, c, 1)
            } else {
                cblas_sgemv(CblasRowMajor, CblasTrans, blasint(k), blasint(n), alpha, b, blasint(ldb), a, 1, beta, c, 1)
            }
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Threads OpenBLAS uses for one call (it defaults to the number of cores).
    static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// OpenBLAS's build description and the kernel family in use.
    static var configuration: String {
        _ = kernelsSelected
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config) core=\(core)"
    }

    /// Runs once, before the first GEMM. A DYNAMIC_ARCH OpenBLAS picks its kernels from the CPU
    /// model at load time, and releases older than the CPU (Debian bookworm's 0.3.21 on Sapphire/
    /// Emerald Rapids, for example) fall back to generic "Prescott" SSE3 kernels — about 4× slower
    /// than the AVX-512 ones the CPU can run. When that fallback is in use, `OPENBLAS_CORETYPE` is
    /// not set by the user, and /proc/cpuinfo shows AVX-512 (→ SkylakeX) or AVX2+FMA (→ Haswell),
    /// the kernel table is re-selected through OpenBLAS's own `gotoblas_dynamic_quit/init` with
    /// `OPENBLAS_CORETYPE` set (the documented override, applied late). The functions are looked
    /// up at run time, so a non-DYNAMIC_ARCH OpenBLAS is simply left alone.
    static let kernelsSelected: Void = {
        #if os(Linux)
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let core = openblas_get_corename().map({ String(cString: $0) }), core == "Prescott",
              let target = preferredCoreType(cpuFlags: cpuFlags()),
              let quit = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit"),
              let initialise = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init") else { return }
        typealias Hook = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", target, 1)
        unsafeBitCast(quit, to: Hook.self)()
        unsafeBitCast(initialise, to: Hook.self)()
        #endif
    }()

    /// The OpenBLAS core type for a CPU with these /proc/cpuinfo flags, if better than generic.
    static func preferredCoreType(cpuFlags flags: Set<String>) -> String? {
        if flags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The `flags` of the first processor in /proc/cpuinfo (empty where there is none).
    static func cpuFlags() -> Set<String> {
        guard let f = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, f) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            if text.hasPrefix("flags") {
                let value = text.split(separator: ":", maxSplits: 1).last ?? ""
                return Set(value.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
            }
        }
        return []
    }
}
