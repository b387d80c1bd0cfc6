// Matrix products (batched, broadcasting) and permutations of dimensions.

extension Tensor {
    // MARK: matmul

    /// The product `op(self) · op(other)` through `cblas_sgemm`, as `torch.matmul`: two
    /// matrices, or stacks of them batched over leading dimensions that broadcast (a vector
    /// operand is read as a one-row or one-column matrix and that dimension is dropped).
    /// `op` swaps the last two dimensions when its flag is set, without copying.
    ///
    /// `x.matmul(w, transposeB: true)` is `x · wᵀ`, the product a `Linear` layer needs.
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        require(rank >= 1 && other.rank >= 1, "matmul: needs tensors of rank 1 or more, got \(describe(shape)) and \(describe(other.shape))")
        if rank == 1 || other.rank == 1 {
            let a = rank == 1 ? reshaped([1, shape[0]]) : self
            let b = other.rank == 1 ? other.reshaped([other.shape[0], 1]) : other
            let product = a.matmul(b, transposeA: rank == 1 ? false : transposeA, transposeB: other.rank == 1 ? false : transposeB)
            var resultShape = product.shape
            if other.rank == 1 { resultShape.removeLast() }
            if rank == 1 { resultShape.remove(at: resultShape.count - (other.rank == 1 ? 1 : 2)) }
            return product.reshaped(resultShape)
        }
        return Tensor.rawMatmul(self, other, transposeA: transposeA, transposeB: transposeB)
            .recorded(.matmul(transposeA: transposeA, transposeB: transposeB), [self, other])
    }

    /// `op(a) · op(b) + beta · bias` in one product for matrices, when no graph is recorded and
    /// `bias` is a row of the result's width (`[n]`, `[1, n]`) or the whole `[m, n]`: the
    /// output starts as the bias and the product adds to it (sgemm's beta = 1), instead of a
    /// product, then a broadcast addition into a third buffer. `nil` where that does not apply.
    static func productAddingBias(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, bias: Tensor, beta: Float) -> Tensor? {
        guard a.rank == 2, b.rank == 2, !(GradientMode.isRecording && (a.requiresGrad || b.requiresGrad || bias.requiresGrad)) else { return nil }
        let (m, k) = matrixSize(a, transposed: transposeA)
        let (k2, n) = matrixSize(b, transposed: transposeB)
        guard k == k2, k > 0, bias.shape == [n] || bias.shape == [1, n] || bias.shape == [m, n] else { return nil }
        let result = Tensor.uninitialized([m, n])
        let (c, source) = (result.storage.pointer, bias.storage.pointer)
        for row in 0..<m {
            let from = bias.count == n ? source : source + row * n
            if beta == 1 { (c + row * n).update(from: from, count: n) } else { for j in 0..<n { c[row * n + j] = beta * from[j] } }
        }
        Kernels.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a: a.storage.pointer, lda: a.shape[1],
            b: b.storage.pointer, ldb: b.shape[1], beta: 1, c: c, ldc: n)
        return result
    }

    /// The rows and columns of `op(x)` for a tensor of rank ≥ 2.
    private static func matrixSize(_ x: Tensor, transposed: Bool) -> (rows: Int, columns: Int) {
        let (r, c) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        return transposed ? (c, r) : (r, c)
    }

    static func rawMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        require(
            a.rank >= 2 && b.rank >= 2,
            "matmul: needs matrices or stacks of them, got shapes \(describe(a.shape)) and \(describe(b.shape))")
        let (m, k) = matrixSize(a, transposed: transposeA)
        let (k2, n) = matrixSize(b, transposed: transposeB)
        require(
            k == k2,
            "matmul: inner sizes differ: \(describe(a.shape))\(transposeA ? "ᵀ" : "") · "
                + "\(describe(b.shape))\(transposeB ? "ᵀ" : "") (\(k) vs \(k2))")
        let (lda, ldb) = (a.shape[a.rank - 1], b.shape[b.rank - 1])
        if a.rank == 2 && b.rank == 2 {
            let result = Tensor.uninitialized([m, n])
            Kernels.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a: a.storage.pointer, lda: lda,
                b: b.storage.pointer, ldb: ldb, beta: 0, c: result.storage.pointer, ldc: n)
            return result
        }
        // A stack times one matrix is one product of all the stacked rows.
        if b.rank == 2 && !transposeA {
            let rows = a.shape.dropLast().reduce(1, *)
            let result = Tensor.uninitialized(Array(a.shape.dropLast()) + [n])
            Kernels.gemm(
                transposeA: false, transposeB: transposeB, m: rows, n: n, k: k, alpha: 1, a: a.storage.pointer, lda: lda,
                b: b.storage.pointer, ldb: ldb, beta: 0, c: result.storage.pointer, ldc: n)
            return result
        }
        let batchA = Array(a.shape.dropLast(2))
        let batchB = Array(b.shape.dropLast(2))
        guard let batch = broadcastShapeIfPossible(batchA, batchB) else {
            misuse("matmul: batch dimensions \(describe(batchA)) and \(describe(batchB)) cannot broadcast")
        }
        let result = Tensor.uninitialized(batch + [m, n])
        let stridesA = broadcastStrides(of: batchA, to: batch)
        let stridesB = broadcastStrides(of: batchB, to: batch)
        let (sizeA, sizeB) = (a.shape.suffix(2).reduce(1, *), b.shape.suffix(2).reduce(1, *))
        // Several products per task when each is small (attention's per-head products); a
        // product that splits into blocks itself runs them on the task's thread.
        let items = batch.reduce(1, *)
        let work: Double = Double(m) * Double(n) * Double(k)
        let grain = Kernels.productsPerTask(work: work)
        Kernels.parallelChunks(items, grain: grain) { chosen in
            for item in chosen {
                var (offsetA, offsetB, rest) = (0, 0, item)
                for d in (0..<batch.count).reversed() {
                    let index = rest % batch[d]
                    rest /= batch[d]
                    offsetA += index * stridesA[d]
                    offsetB += index * stridesB[d]
                }
                Kernels.gemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                    a: a.storage.pointer + offsetA * sizeA, lda: lda, b: b.storage.pointer + offsetB * sizeB, ldb: ldb,
                    beta: 0, c: result.storage.pointer + item * m * n, ldc: n)
            }
        }
        return result
    }

    /// For `C = op(A) · op(B)` with upstream gradient `G`:
    /// dA = G · op(B)ᵀ (or its transpose when A was read transposed) and
    /// dB = op(A)ᵀ · G (likewise), each one sgemm with transpose flags per matrix, summed over
    /// the batch dimensions an operand was broadcast along.
    func matmulBackward(_ gradient: Tensor, transposeA: Bool, transposeB: Bool) -> [Tensor?] {
        let (a, b) = (creators[0], creators[1])
        var gradientA: Tensor?
        var gradientB: Tensor?
        if b.rank == 2 && !transposeA {
            // The stacked form: A's rows are one matrix.
            let k = a.shape[a.rank - 1]
            let rows = a.rank == 2 ? a : Tensor(storage: a.storage, shape: [a.count / Swift.max(k, 1), k])
            let g = a.rank == 2 ? gradient : Tensor(storage: gradient.storage, shape: [rows.shape[0], gradient.shape[gradient.rank - 1]])
            if a.requiresGrad {
                let product = Tensor.rawMatmul(g, b, transposeA: false, transposeB: !transposeB)
                gradientA = a.rank == 2 ? product : Tensor(storage: product.storage, shape: a.shape)
            }
            if b.requiresGrad {
                gradientB = transposeB
                    ? Tensor.rawMatmul(g, rows, transposeA: true, transposeB: false)
                    : Tensor.rawMatmul(rows, g, transposeA: true, transposeB: false)
            }
            return [gradientA, gradientB]
        }
        if a.requiresGrad {
            let full = transposeA
                ? Tensor.rawMatmul(b, gradient, transposeA: transposeB, transposeB: true)
                : Tensor.rawMatmul(gradient, b, transposeA: false, transposeB: !transposeB)
            gradientA = Tensor.reduced(full, to: a.shape)
        }
        if b.requiresGrad {
            let full = transposeB
                ? Tensor.rawMatmul(gradient, a, transposeA: true, transposeB: transposeA)
                : Tensor.rawMatmul(a, gradient, transposeA: !transposeA, transposeB: false)
            gradientB = Tensor.reduced(full, to: b.shape)
        }
        return [gradientA, gradientB]
    }

    // MARK: permute

    /// The dimensions reordered (a copy): dimension `i` of the result is dimension
    /// `permutation[i]` of this tensor; negative entries count from the end.
    public func permuted(_ permutation: [Int]) -> Tensor {
        let resolved = permutation.map { resolvedDim($0, rank: rank) ?? -1 }
        // Each dimension once: a bit per dimension (ranks stay far below 64), not a Set.
        var seen: UInt64 = 0
        for dim in resolved where dim >= 0 && dim < 64 { seen |= 1 << UInt64(dim) }
        require(
            resolved.count == rank && rank <= 64 && seen.nonzeroBitCount == rank && !resolved.contains(-1),
            "permute: \(permutation) is not a permutation of the dimensions of shape \(describe(shape))")
        return rawPermuted(resolved).recorded(.permute(Permutation(resolved)), [self])
    }

    /// Dimensions `first` and `second` swapped (negative values count from the end).
    public func transposed(_ first: Int, _ second: Int) -> Tensor {
        guard let a = resolvedDim(first, rank: rank), let b = resolvedDim(second, rank: rank) else {
            misuse("transpose: dims \(first) and \(second) are out of range for shape \(describe(shape))")
        }
        var permutation = Array(0..<rank)
        permutation.swapAt(a, b)
        return permuted(permutation)
    }

    /// The transpose of a matrix (a copy; `matmul`'s flags avoid it where they can).
    public func transposed() -> Tensor {
        require(rank == 2, "transpose: needs a matrix, got shape \(describe(shape)); use transposed(_:_:) or permuted(_:)")
        return permuted([1, 0])
    }

    func rawPermuted(_ permutation: [Int]) -> Tensor {
        let newShape = permutation.map { shape[$0] }
        let result = Tensor.uninitialized(newShape)
        guard count > 0 else { return result }
        var inputStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { inputStrides[d] = inputStrides[d + 1] * shape[d + 1] }
        let strides = permutation.map { inputStrides[$0] }
        let x = storage.pointer
        let y = result.storage.pointer
        if rank == 2 {
            let (rows, columns) = (newShape[0], newShape[1])
            Kernels.parallelChunks(rows, grain: Kernels.channelGrain(columns)) { chosen in
                for r in chosen {
                    for c in 0..<columns { y[r * columns + c] = x[r * strides[0] + c * strides[1]] }
                }
            }
            return result
        }
        // Output rows (the last dimension) in pieces; each piece finds its first row's input
        // offset and walks on from there.
        let inner = newShape[rank - 1]
        let innerStride = strides[rank - 1]
        Kernels.parallelChunks(count / inner, grain: Kernels.channelGrain(inner)) { rows in
            var index = [Int](repeating: 0, count: rank)
            var (offset, rest) = (0, rows.lowerBound)
            for d in stride(from: rank - 2, through: 0, by: -1) {
                index[d] = rest % newShape[d]
                rest /= newShape[d]
                offset += index[d] * strides[d]
            }
            var written = rows.lowerBound * inner
            for _ in rows {
                for j in 0..<inner { y[written + j] = x[offset + j * innerStride] }
                written += inner
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    offset += strides[d]
                    if index[d] < newShape[d] { break }
                    offset -= strides[d] * newShape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return result
    }

    /// The gradient permuted back by the inverse permutation.
    func permuteBackward(_ gradient: Tensor, permutation: [Int]) -> Tensor {
        var inverse = [Int](repeating: 0, count: permutation.count)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return gradient.rawPermuted(inverse)
    }
}

// MARK: Export and import

extension Tensor {
    /// Two matrices: `Gemm` with its transpose flags. Stacks: `Transpose` of the last two
    /// dimensions where a flag is set, then `MatMul`.
    static func exportMatmul(_ transposeA: Bool, _ transposeB: Bool, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let (shapeA, shapeB) = (site.shapes[0], site.shapes[1])
        if shapeA.count == 2 && shapeB.count == 2 {
            return [ExportNode("Gemm", site.inputs, [site.output], ["transA": .int(transposeA ? 1 : 0), "transB": .int(transposeB ? 1 : 0)])]
        }
        var nodes: [ExportNode] = []
        var operands = site.inputs
        for (index, (flag, shape)) in [(transposeA, shapeA), (transposeB, shapeB)].enumerated() where flag {
            var permutation = Array(0..<shape.count)
            permutation.swapAt(shape.count - 1, shape.count - 2)
            let swapped = context.freshName("swapped")
            nodes.append(ExportNode("Transpose", [operands[index]], [swapped], ["perm": .ints(permutation)]))
            operands[index] = swapped
        }
        return nodes + [ExportNode("MatMul", operands, [site.output])]
    }

    static let matrixImporters: [ImporterDeclaration] = [
        ImporterDeclaration("MatMul") { node in
            let (a, b) = (try node.tensor(0), try node.tensor(1))
            guard a.rank >= 1, b.rank >= 1, a.shape.last == (b.rank == 1 ? b.shape[0] : b.shape[b.rank - 2]),
                  broadcastable(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) else {
                throw node.fail("shapes \(describe(a.shape)) and \(describe(b.shape)) do not multiply")
            }
            return [.tensor(a.matmul(b))]
        },
        ImporterDeclaration("Gemm", reads: ["alpha", "beta", "transA", "transB"]) { node in
            let (a, b) = (try node.tensor(0), try node.tensor(1))
            let (transposeA, transposeB) = (node.int("transA", default: 0) != 0, node.int("transB", default: 0) != 0)
            guard a.rank == 2, b.rank == 2 else { throw node.fail("needs matrices, got shapes \(describe(a.shape)) and \(describe(b.shape))") }
            let k = transposeA ? a.shape[0] : a.shape[1]
            let k2 = transposeB ? b.shape[1] : b.shape[0]
            guard k == k2 else {
                throw node.fail("inner sizes differ: \(describe(a.shape)) and \(describe(b.shape)) with transA \(transposeA), transB \(transposeB)")
            }
            let alpha = node.float("alpha", default: 1)
            if alpha == 1, node.has(2), case .tensor(let c) = try node.value(2),
               let fused = Tensor.productAddingBias(a, b, transposeA: transposeA, transposeB: transposeB, bias: c, beta: node.float("beta", default: 1)) {
                return [.tensor(fused)]
            }
            var result = a.matmul(b, transposeA: transposeA, transposeB: transposeB)
            if alpha != 1 { result = result * alpha }
            if node.has(2) {
                let c = try node.tensor(2)
                guard broadcastable(result.shape, c.shape) else {
                    throw node.fail("C of shape \(describe(c.shape)) does not broadcast to \(describe(result.shape))")
                }
                let beta = node.float("beta", default: 1)
                result = result + (beta == 1 ? c : c * beta)
            }
            return [.tensor(result)]
        },
        ImporterDeclaration("Transpose", reads: ["perm"]) { node in
            let x = try node.value(0)
            let rank = x.shape.count
            let permutation = node.ints("perm") ?? Array((0..<rank).reversed())
            guard permutation.count == rank, Set(permutation) == Set(0..<rank) else {
                throw node.fail("perm \(permutation) is not a permutation of \(rank) dimensions")
            }
            if permutation == Array(0..<rank) { return [x] }
            return try node.numeric { $0[0].permuted(permutation) }
        },
    ]
}
