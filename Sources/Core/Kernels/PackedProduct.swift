import CBLAS

extension Kernels {
    /// The right operand B (`k × n`) of many products `C = A·B + beta·C`, packed once into
    /// the layout of Synapse's own small-matrix kernel (Sources/CBLAS/packed_gemm.c).
    ///
    /// OpenBLAS repacks both operands on every call. A recurrent layer multiplies its
    /// `[batch, H]` state by the same `[H, G·H]` weight at every time step, and for a batch of
    /// 32 that repacking costs about as much as the arithmetic; packed once per sequence, each
    /// step only streams the state's rows against the weight's panels. Every element of C is
    /// one chain of fused multiply-adds in a fixed order, so the bits do not depend on how the
    /// panels are spread over threads.
    final class PackedOperand {
        let columns: Int
        let depth: Int
        private let packed: UnsafeMutablePointer<Float>

        /// Whether products with `rows` rows run faster packed than through OpenBLAS: on x86-64
        /// with AVX2 + FMA or AVX-512, for up to 256 rows (beyond, OpenBLAS' cache blocking of
        /// A wins and its packing is a small part of the work).
        static func pays(rows: Int) -> Bool {
            rows <= 256 && synapse_cpu_level() > 0
        }

        /// Packs B of `depth` rows and `columns` columns whose element (kk, j) is
        /// `b[j · strideColumns + kk · strideDepth]`: a weight `W` `[n, k]` used as `Wᵀ` has
        /// strides (k, 1), a matrix `[k, n]` used as it is (1, n).
        init(columns: Int, depth: Int, b: UnsafePointer<Float>, strideColumns: Int, strideDepth: Int) {
            precondition(columns > 0 && depth > 0, "a packed operand needs rows and columns")
            self.columns = columns
            self.depth = depth
            let floats = synapse_packed_floats(Int32(columns), Int32(depth))
            packed = UnsafeMutableRawPointer.allocate(byteCount: floats * MemoryLayout<Float>.stride, alignment: 64)
                .bindMemory(to: Float.self, capacity: floats)
            synapse_pack_b(Int32(columns), Int32(depth), b, strideColumns, strideDepth, packed)
        }

        deinit { packed.deallocate() }

        /// The packed floats, for calling a kernel directly (tests of each kernel).
        func withPanels<Result>(_ body: (UnsafePointer<Float>) throws -> Result) rethrows -> Result {
            try withExtendedLifetime(self) { try body(packed) }
        }

        /// `C = A·B + beta·C` for A `[rows, depth]` (leading dimension `lda`) and C
        /// `[rows, columns]` (leading dimension `ldc`); beta 0 only writes C. Large products
        /// run as groups of panels on the pool, the groups fixed by the sizes.
        func multiply(rows: Int, a: UnsafePointer<Float>, lda: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
            withExtendedLifetime(self) {
                Kernels.packedProduct(panels: packed, columns: columns, depth: depth, rows: rows, a: a, lda: lda, transposedA: false,
                                      beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// `C = A·B + beta·C` with B `depth × columns` packed by `synapse_pack_b` into `panels`,
    /// A `[rows, depth]` (or, `transposedA`, stored as `[depth, rows]`) with leading dimension
    /// `lda`, C `[rows, columns]` with `ldc`; beta 0 only writes C. Large products run as
    /// groups of panels on the pool, the groups fixed by the sizes.
    static func packedProduct(
        panels: UnsafePointer<Float>, columns: Int, depth: Int, rows: Int, a: UnsafePointer<Float>, lda: Int, transposedA: Bool,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard rows > 0 else { return }
        let width = Int(SYNAPSE_PANEL_WIDTH)
        let count = (columns + width - 1) / width
        let perTask = Kernels.productsPerTask(work: Double(rows) * Double(width) * Double(depth))
        let tasks = (count + perTask - 1) / perTask
        let (m, n, k) = (Int32(rows), Int32(columns), Int32(depth))
        Kernels.parallelFor(tasks) { task in
            let first = task * perTask
            let (start, taken) = (Int32(first), Int32(Swift.min(perTask, count - first)))
            if transposedA {
                synapse_packed_gemm_transposed_a(m, n, k, a, Int32(lda), panels, beta, c, Int32(ldc), start, taken)
            } else {
                synapse_packed_gemm(m, n, k, a, Int32(lda), panels, beta, c, Int32(ldc), start, taken)
            }
        }
    }
}
