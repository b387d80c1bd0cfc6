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
        // Large products run as column (or row) blocks of C, one single-threaded OpenBLAS call
        // each, on the pool. The blocks depend on the shape alone, so the bits do not depend on
        // the thread count. A block is at least 128 wide: each call repacks the whole other
        // operand, which costs about 1/128 of its arithmetic then (at 256, the 1×1
        // convolutions of 14×14 and 7×7 layers, 196 or 49 columns by 160–576 rows, ran on one
        // thread).
        let splitColumns = n >= m
        let blocks = productBlocks(split: splitColumns ? n : m, work: Double(m) * Double(n) * Double(k))
        guard blocks.count > 1 else {
            return synapse_sgemm(
                transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)), beta, c, Int32(max(ldc, 1)))
        }
        parallelFor(blocks.count) { block in
            let start = block * blocks.size
            let size = Swift.min(blocks.size, (splitColumns ? n : m) - start)
            if splitColumns {
                synapse_sgemm(
                    transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(size), Int32(k),
                    alpha, a, Int32(max(lda, 1)), b + (transposeB ? start * ldb : start), Int32(max(ldb, 1)),
                    beta, c + start, Int32(max(ldc, 1)))
            } else {
                synapse_sgemm(
                    transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(size), Int32(n), Int32(k),
                    alpha, a + (transposeA ? start : start * lda), Int32(max(lda, 1)), b, Int32(max(ldb, 1)),
                    beta, c + start * ldc, Int32(max(ldc, 1)))
            }
        }
    }

    /// The multiply-adds one task of a product should do at least: 2²¹, about 40 µs.
    static let productTaskWork: Double = 2_097_152

    /// How many products of `work` multiply-adds each one task takes (at least one).
    static func productsPerTask(work: Double) -> Int {
        Swift.max(1, Int(Swift.min(productTaskWork / Swift.max(work, 1), 1_048_576)))
    }

    /// How a product of `work` multiply-adds splits its `split` rows or columns: blocks of at
    /// least 128 (and a multiple of 16, the kernels' register width) and at least 2²¹
    /// multiply-adds (~40 µs) each, balanced.
    static func productBlocks(split: Int, work: Double) -> (count: Int, size: Int) {
        let byWork = Int(Swift.min(work / productTaskWork, 1_048_576))
        let count = Swift.max(1, Swift.min(split / 128, byWork))
        guard count > 1 else { return (1, split) }
        let size = ((split + count - 1) / count + 15) / 16 * 16
        return ((split + size - 1) / size, size)
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

    /// The threads matrix products use: Synapse's one setting, `Threads.count` (OpenBLAS
    /// itself always runs single-threaded calls from Synapse's pool).
    public static var threads: Int {
        get { Threads.count }
        set { Threads.count = newValue }
    }
}
