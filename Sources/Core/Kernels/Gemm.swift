import CBLAS

extension Kernels {
    /// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices, through OpenBLAS'
    /// `cblas_sgemm`. `op(A)` is `m × k`, `op(B)` is `k × n`; a set flag reads the stored
    /// matrix as its transpose, so no transpose is ever materialised.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // An empty sum: BLAS rejects the leading dimensions of empty operands.
            for row in 0..<m {
                for column in 0..<n { c[row * ldc + column] = beta == 0 ? 0 : beta * c[row * ldc + column] }
            }
            return
        }
        synapse_sgemm(
            transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)), beta, c, Int32(max(ldc, 1)))
    }
}

/// The BLAS library behind matrix products: OpenBLAS, loaded on first use with the fastest
/// kernel this CPU supports (unless `OPENBLAS_CORETYPE` is set, which always wins).
public enum BLAS {
    /// OpenBLAS' description of itself and the kernel it runs, e.g.
    /// `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64 (core Zen, chosen by Synapse)`.
    public static var configuration: String {
        let chosen = String(cString: synapse_blas_chosen_coretype())
        let origin = chosen.isEmpty ? "chosen by OpenBLAS or OPENBLAS_CORETYPE" : "chosen by Synapse"
        return "\(String(cString: synapse_blas_config())) (core \(String(cString: synapse_blas_core())), \(origin))"
    }

    /// The kernel OpenBLAS runs (`Haswell`, `SkylakeX`, `Zen`, …).
    public static var core: String { String(cString: synapse_blas_core()) }

    /// The threads OpenBLAS may use for one large product.
    public static var threads: Int {
        get { Int(synapse_blas_threads()) }
        set { synapse_blas_set_threads(Int32(max(newValue, 1))) }
    }
}
