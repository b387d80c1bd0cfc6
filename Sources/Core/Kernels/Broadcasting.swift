/// NumPy's broadcasting rule: shapes are aligned on the right, and each pair of sizes must
/// be equal or contain a 1. `nil` when they cannot combine. The one rule Core's ops and the
/// importer share.
package func broadcastShapeIfPossible(_ a: [Int], _ b: [Int]) -> [Int]? {
    if a == b { return a }
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for d in 0..<rank {
        let sa = d - (rank - a.count) >= 0 ? a[d - (rank - a.count)] : 1
        let sb = d - (rank - b.count) >= 0 ? b[d - (rank - b.count)] : 1
        guard sa == sb || sa == 1 || sb == 1 else { return nil }
        result[d] = sa == 1 ? sb : sa
    }
    return result
}

/// Whether two shapes combine under NumPy's broadcasting rule.
package func broadcastable(_ a: [Int], _ b: [Int]) -> Bool { broadcastShapeIfPossible(a, b) != nil }

/// The broadcast shape of `a` and `b`; stops with a message naming `op` and both shapes when
/// they cannot combine.
func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    guard let shape = broadcastShapeIfPossible(a, b) else {
        misuse("\(op): shapes \(describe(a)) and \(describe(b)) cannot broadcast")
    }
    return shape
}

/// The element strides with which a contiguous tensor of `shape` is read as `target`
/// (its broadcast shape): 0 along every dimension it is repeated in.
func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: target.count)
    var elementStride = 1
    let offset = target.count - shape.count
    for d in (0..<shape.count).reversed() {
        if shape[d] != 1 { strides[d + offset] = elementStride }
        elementStride *= shape[d]
    }
    return strides
}

/// Visits every row (innermost dimension) of `shape` in row-major order, passing the row's
/// flat start and the matching offsets into two broadcast operands.
///
/// The inner loop lives in `body`, so the per-element work stays a tight loop.
@inline(__always)
func forEachBroadcastRow(
    shape: [Int], stridesA: [Int], stridesB: [Int],
    _ body: (_ rowStart: Int, _ offsetA: Int, _ offsetB: Int) -> Void
) {
    let rank = shape.count
    guard rank > 0 else { return body(0, 0, 0) }
    let inner = shape[rank - 1]
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    var index = [Int](repeating: 0, count: rank)
    var offsetA = 0
    var offsetB = 0
    var rowStart = 0
    while rowStart < count {
        body(rowStart, offsetA, offsetB)
        rowStart += inner
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            offsetA += stridesA[d]
            offsetB += stridesB[d]
            if index[d] < shape[d] { break }
            offsetA -= stridesA[d] * shape[d]
            offsetB -= stridesB[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}

/// A scalar function of two arguments, as a type so that loops over it specialise and
/// vectorise (no closure call per element).
protocol BinaryFunction {
    static func apply(_ a: Float, _ b: Float) -> Float
}

enum Add: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b }
}

enum Subtract: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b }
}

enum Multiply: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b }
}

enum Divide: BinaryFunction {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b }
}

extension Tensor {
    /// `F(a, b)` elementwise with broadcasting, recording no graph.
    static func rawBinary<F: BinaryFunction>(_: F.Type, _ a: Tensor, _ b: Tensor, op: String) -> Tensor {
        let shape = broadcastShape(a.shape, b.shape, op: op)
        let result = Tensor.uninitialized(shape)
        let pa = a.storage.pointer
        let pb = b.storage.pointer
        let out = result.storage.pointer
        if a.shape == b.shape {
            Kernels.parallelChunks(result.count, grain: Kernels.elementGrain) { piece in
                for i in piece { out[i] = F.apply(pa[i], pb[i]) }
            }
        } else if b.count == 1 {
            let scalar = pb[0]
            Kernels.parallelChunks(result.count, grain: Kernels.elementGrain) { piece in
                for i in piece { out[i] = F.apply(pa[i], scalar) }
            }
        } else if a.count == 1 {
            let scalar = pa[0]
            Kernels.parallelChunks(result.count, grain: Kernels.elementGrain) { piece in
                for i in piece { out[i] = F.apply(scalar, pb[i]) }
            }
        } else if a.shape == shape, let block = constantBlock(of: b.shape, in: shape) {
            // b holds one value per block of a (a squeeze-excitation scale [N, C, 1, 1], a
            // layer norm's mean [N, T, 1]): each block against its scalar, in vectors.
            let count = b.count
            Kernels.parallelChunks(result.count / block, grain: Swift.max(1, Kernels.elementGrain / block)) { blocks in
                for index in blocks {
                    let (scalar, base) = (pb[index % count], index * block)
                    for j in base..<base + block { out[j] = F.apply(pa[j], scalar) }
                }
            }
        } else if b.shape == shape, let block = constantBlock(of: a.shape, in: shape) {
            let count = a.count
            Kernels.parallelChunks(result.count / block, grain: Swift.max(1, Kernels.elementGrain / block)) { blocks in
                for index in blocks {
                    let (scalar, base) = (pa[index % count], index * block)
                    for j in base..<base + block { out[j] = F.apply(scalar, pb[j]) }
                }
            }
        } else {
            let stridesA = broadcastStrides(of: a.shape, to: shape)
            let stridesB = broadcastStrides(of: b.shape, to: shape)
            let inner = shape.last!
            let innerA = stridesA.last!
            let innerB = stridesB.last!
            forEachBroadcastRow(shape: shape, stridesA: stridesA, stridesB: stridesB) { row, offA, offB in
                let o = out + row
                let x = pa + offA
                let y = pb + offB
                if innerA == 1 && innerB == 1 {
                    for j in 0..<inner { o[j] = F.apply(x[j], y[j]) }
                } else {
                    for j in 0..<inner { o[j] = F.apply(x[j * innerA], y[j * innerB]) }
                }
            }
        }
        return result
    }

    /// When `small`, aligned on the right against `shape`, is 1 along some trailing axes, the
    /// same as `shape` along the axes before them and 1 (or absent) before those: the size of
    /// the trailing block each of its values covers, when more than one. Element `i` of the
    /// broadcast then reads `small[(i / block) % small.count]`.
    static func constantBlock(of small: [Int], in shape: [Int]) -> Int? {
        guard small.count <= shape.count else { return nil }
        let aligned = [Int](repeating: 1, count: shape.count - small.count) + small
        var end = shape.count
        while end > 0 && aligned[end - 1] == 1 { end -= 1 }
        var start = end
        while start > 0 && aligned[start - 1] == shape[start - 1] { start -= 1 }
        guard aligned[..<start].allSatisfy({ $0 == 1 }) else { return nil }
        let block = shape[end...].reduce(1, *)
        return block > 1 ? block : nil
    }

    /// The gradient `gradient` of a broadcast result, summed back to an operand's `shape`:
    /// every dimension the operand was repeated along is added up.
    static func reduced(_ gradient: Tensor, to shape: [Int]) -> Tensor {
        if gradient.shape == shape { return gradient }
        let result = Tensor.zeros(shape)
        let out = result.storage.pointer
        let g = gradient.storage.pointer
        if result.count == 1 {
            var total: Float = 0
            for i in 0..<gradient.count { total += g[i] }
            out[0] = total
            return result
        }
        let strides = broadcastStrides(of: shape, to: gradient.shape)
        let inner = gradient.shape.last!
        let innerStride = strides.last!
        forEachBroadcastRow(shape: gradient.shape, stridesA: strides, stridesB: strides) { row, offset, _ in
            let source = g + row
            let target = out + offset
            if innerStride == 0 {
                var total: Float = 0
                for j in 0..<inner { total += source[j] }
                target[0] += total
            } else {
                for j in 0..<inner { target[j] += source[j] }
            }
        }
        return result
    }
}
