import CBLAS
extension Tensor {
    /// log softmax along `dim` (negative counts from the end): yᵢ = xᵢ − m − log Σⱼ e^(xⱼ − m) with m = maxⱼ xⱼ, which
    /// stays finite for logits of any size.
    public func logSoftmax(dim: Int) -> Tensor {
        let dim = checkedDim(dim, op: "logSoftmax")
        return rawLogSoftmax(dim: dim).recorded(.logSoftmax(dim: dim), [self])
    }

    func rawLogSoftmax(dim: Int) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        let x = storage.pointer
        let y = result.storage.pointer
        if inner == 1 {
            // Rows are contiguous: vectorised exponentials, with y as scratch.
            Kernels.parallelChunks(outer, grain: Kernels.channelGrain(n * inner)) { rows in
                for o in rows {
                    let row = x + o * n
                    let out = y + o * n
                    let shift = VectorMath.logSumExp(row, count: n, scratch: out)
                    for k in 0..<n { out[k] = row[k] - shift }
                }
            }
            return result
        }
        Kernels.parallelChunks(outer, grain: Kernels.channelGrain(n * inner)) { rows in
            for o in rows {
                for i in 0..<inner {
                    let base = o * n * inner + i
                    var maximum = -Float.infinity
                    for k in 0..<n { maximum = Swift.max(maximum, x[base + k * inner]) }
                    var total: Float = 0
                    for k in 0..<n { total += expf(x[base + k * inner] - maximum) }
                    let shift = maximum + logf(total)
                    for k in 0..<n { y[base + k * inner] = x[base + k * inner] - shift }
                }
            }
        }
        return result
    }

    /// dxᵢ = gᵢ − softmaxᵢ · Σⱼ gⱼ, with softmax = e^y.
    func logSoftmaxBackward(_ gradient: Tensor, dim: Int) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        let g = gradient.storage.pointer
        let y = storage.pointer
        let out = result.storage.pointer
        if inner == 1 {
            VectorMath.map(y, out, count: count, VectorExp.self)
            Kernels.parallelChunks(outer, grain: Kernels.channelGrain(n * inner)) { rows in
                for o in rows {
                    let row = o * n
                    var total: Float = 0
                    for k in 0..<n { total += g[row + k] }
                    for k in 0..<n { out[row + k] = g[row + k] - out[row + k] * total }
                }
            }
            return result
        }
        Kernels.parallelChunks(outer, grain: Kernels.channelGrain(n * inner)) { rows in
            for o in rows {
                for i in 0..<inner {
                    let base = o * n * inner + i
                    var total: Float = 0
                    for k in 0..<n { total += g[base + k * inner] }
                    for k in 0..<n {
                        let at = base + k * inner
                        out[at] = g[at] - expf(y[at]) * total
                    }
                }
            }
        }
        return result
    }
}

// MARK: softmax

extension Tensor {
    /// softmax along `dim` (negative counts from the end): e^(xᵢ − m) / Σⱼ e^(xⱼ − m) with
    /// m = maxⱼ xⱼ, so it stays finite for logits of any size.
    public func softmax(dim: Int) -> Tensor {
        let dim = checkedDim(dim, op: "softmax")
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        guard inner == 1 else {
            let result = rawLogSoftmax(dim: dim)
            VectorMath.map(result.storage.pointer, result.storage.pointer, count: count, VectorExp.self)
            return result.recorded(.softmax(dim: dim), [self])
        }
        // Contiguous rows (attention's last dimension): one exponential per element, each row
        // in C vectors (Sources/CBLAS/vector_math.c).
        let result = Tensor.uninitialized(shape)
        let (x, y) = (storage.pointer, result.storage.pointer)
        Kernels.parallelChunks(outer, grain: Kernels.channelGrain(n * inner)) { rows in
            synapse_softmax_rows(x + rows.lowerBound * n, y + rows.lowerBound * n, rows.count, n)
        }
        return result.recorded(.softmax(dim: dim), [self])
    }

    /// dxᵢ = yᵢ (gᵢ − Σⱼ gⱼ yⱼ).
    func softmaxBackward(_ gradient: Tensor, dim: Int) -> Tensor {
        let result = Tensor.uninitialized(shape)
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        let g = gradient.storage.pointer
        let y = storage.pointer
        let out = result.storage.pointer
        Kernels.parallelChunks(outer, grain: Kernels.channelGrain(n * inner)) { rows in
            for o in rows {
                for i in 0..<inner {
                    let base = o * n * inner + i
                    var total: Float = 0
                    for k in 0..<n { total += g[base + k * inner] * y[base + k * inner] }
                    for k in 0..<n {
                        let at = base + k * inner
                        out[at] = y[at] * (g[at] - total)
                    }
                }
            }
        }
        return result
    }

    /// `Softmax` and `LogSoftmax` at any axis (opset 13+ semantics: one axis).
    static let softmaxImporters: [ImporterDeclaration] = {
        func importer(_ log: Bool) -> OpImporter {
            { node in
                let x = try node.tensor(0)
                let dim = try node.axis(node.int("axis", default: -1), rank: x.rank)
                return [.tensor(log ? x.logSoftmax(dim: dim) : x.softmax(dim: dim))]
            }
        }
        return [ImporterDeclaration("Softmax", reads: ["axis"], run: importer(false)), ImporterDeclaration("LogSoftmax", reads: ["axis"], run: importer(true))]
    }()
}
