internal import COpenBLAS

/// The only door to OpenBLAS. Row-major single-precision GEMM plus the thread-count knobs.
enum BLAS {
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Threads OpenBLAS uses for one call (it defaults to the number of cores).
    static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// OpenBLAS's build description (version, kernel, threading) for benchmark reports.
    static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }
}
