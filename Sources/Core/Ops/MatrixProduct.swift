// Matrix product and transpose.

extension Tensor {
    // MARK: matmul

    /// The matrix product `op(self) · op(other)` of two 2-D tensors, through `cblas_sgemm`;
    /// `op` reads a matrix as its transpose when its flag is set, without copying it.
    ///
    /// `x.matmul(w, transposeB: true)` is `x · wᵀ`, the product a `Linear` layer needs.
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        Tensor.rawMatmul(self, other, transposeA: transposeA, transposeB: transposeB)
            .recorded(.matmul(transposeA: transposeA, transposeB: transposeB), [self, other])
    }

    static func rawMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        require(
            a.rank == 2 && b.rank == 2,
            "matmul: needs two matrices, got shapes \(describe(a.shape)) and \(describe(b.shape))")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        require(
            k == k2,
            "matmul: inner sizes differ: \(describe(a.shape))\(transposeA ? "ᵀ" : "") · "
                + "\(describe(b.shape))\(transposeB ? "ᵀ" : "") (\(k) vs \(k2))")
        let result = Tensor.uninitialized([m, n])
        Kernels.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: 1, a: a.storage.pointer, lda: a.shape[1],
            b: b.storage.pointer, ldb: b.shape[1],
            beta: 0, c: result.storage.pointer, ldc: n)
        return result
    }

    /// For `C = op(A) · op(B)` with upstream gradient `G`:
    /// dA = G · op(B)ᵀ (or its transpose when A was read transposed) and
    /// dB = op(A)ᵀ · G (likewise), each one sgemm with transpose flags.
    func matmulBackward(_ gradient: Tensor, transposeA: Bool, transposeB: Bool) -> [Tensor?] {
        let (a, b) = (creators[0], creators[1])
        var gradientA: Tensor?
        var gradientB: Tensor?
        if a.requiresGrad {
            gradientA = transposeA
                ? Tensor.rawMatmul(b, gradient, transposeA: transposeB, transposeB: true)
                : Tensor.rawMatmul(gradient, b, transposeA: false, transposeB: !transposeB)
        }
        if b.requiresGrad {
            gradientB = transposeB
                ? Tensor.rawMatmul(gradient, a, transposeA: true, transposeB: transposeA)
                : Tensor.rawMatmul(a, gradient, transposeA: !transposeA, transposeB: false)
        }
        return [gradientA, gradientB]
    }

    // MARK: transpose

    /// The transpose of a matrix (a copy; `matmul`'s flags avoid it where they can).
    public func transposed() -> Tensor {
        rawTransposed().recorded(.transpose, [self])
    }

    /// The backward of a transpose is the transpose of the gradient.
    func rawTransposed() -> Tensor {
        require(rank == 2, "transpose: needs a matrix, got shape \(describe(shape))")
        let (rows, columns) = (shape[0], shape[1])
        let result = Tensor.uninitialized([columns, rows])
        let x = storage.pointer
        let y = result.storage.pointer
        for r in 0..<rows {
            for c in 0..<columns { y[c * rows + r] = x[r * columns + c] }
        }
        return result
    }
}
