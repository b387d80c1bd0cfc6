#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Tensor {
    /// log softmax along `dim`: yᵢ = xᵢ − m − log Σⱼ e^(xⱼ − m) with m = maxⱼ xⱼ, which
    /// stays finite for logits of any size.
    public func logSoftmax(dim: Int) -> Tensor {
        let dim = checkedDim(dim, op: "logSoftmax")
        let result = Tensor.uninitialized(shape)
        let (outer, n, inner) = Kernels.split(shape, around: dim)
        let x = storage.pointer
        let y = result.storage.pointer
        if inner == 1 {
            // Rows are contiguous: vectorised exponentials, with y as scratch.
            for o in 0..<outer {
                let row = x + o * n
                let out = y + o * n
                let shift = VectorMath.logSumExp(row, count: n, scratch: out)
                for k in 0..<n { out[k] = row[k] - shift }
            }
            return result.recorded(.logSoftmax(dim: dim), [self])
        }
        for o in 0..<outer {
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
        return result.recorded(.logSoftmax(dim: dim), [self])
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
            for o in 0..<outer {
                let row = o * n
                var total: Float = 0
                for k in 0..<n { total += g[row + k] }
                for k in 0..<n { out[row + k] = g[row + k] - out[row + k] * total }
            }
            return result
        }
        for o in 0..<outer {
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
        return result
    }
}
