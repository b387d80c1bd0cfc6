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
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(max(lda, 1)), b, blasint(max(ldb, 1)),
            beta, c, blasint(max(ldc, 1)))
    }
}
