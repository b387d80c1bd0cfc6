/// Tight loops over raw buffers, shared by forward and backward code.
enum Kernels {
    /// Σᵢ term(i) for i in 0..<count: `vector` gives the terms of eight lanes from index i,
    /// `scalar` one term for the last count mod 8. Float sums do not vectorise on their own
    /// (the compiler keeps the sequential order), so the lanes are summed explicitly.
    @inline(__always)
    static func sum(_ count: Int, vector: (Int) -> SIMD8<Float>, scalar: (Int) -> Float) -> Float {
        var total = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            total += vector(i)
            i += 8
        }
        var sum = total.sum()
        while i < count {
            sum += scalar(i)
            i += 1
        }
        return sum
    }

    /// The eight floats at `p + i`.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// `target[i] += source[i]`.
    /// Output rows that start as their bias, for a product that adds to them (sgemm's beta 1):
    /// row `o` of `rows`, `stride` floats apart, gets `count` copies of `bias[o]`.
    static func fillRows(_ target: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, count: Int, stride: Int) {
        for o in 0..<rows { (target + o * stride).update(repeating: bias[o], count: count) }
    }

    static func addInPlace(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { target[i] += source[i] }
    }

    /// Views a tensor of `shape` as `[outer, n, inner]` around dimension `dim`; a scalar is
    /// `[1, 1, 1]` (ONNX lets axis 0 name a scalar's one element).
    static func split(_ shape: [Int], around dim: Int) -> (outer: Int, n: Int, inner: Int) {
        guard !shape.isEmpty else { return (1, 1, 1) }
        let outer = shape[..<dim].reduce(1, *)
        let inner = shape[(dim + 1)...].reduce(1, *)
        return (outer, shape[dim], inner)
    }

    /// `destination[o, k, i] = scale · source[o, i]` for `k` in `0..<n`: a tensor repeated
    /// along a middle dimension.
    static func spread(
        _ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
        outer: Int, n: Int, inner: Int, scale: Float
    ) {
        for o in 0..<outer {
            let s = source + o * inner
            for k in 0..<n {
                let d = destination + (o * n + k) * inner
                if scale == 1 {
                    d.update(from: s, count: inner)
                } else {
                    for i in 0..<inner { d[i] = scale * s[i] }
                }
            }
        }
    }

    /// `destination[o, i] = scale · Σₖ source[o, k, i]`: a middle dimension summed away.
    static func reduceMiddle(
        _ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
        outer: Int, n: Int, inner: Int, scale: Float
    ) {
        parallelChunks(outer, grain: channelGrain(n * inner)) { chosen in
            for o in chosen {
                let d = destination + o * inner
                if inner == 1 {
                    // A contiguous row (the last dim, a global average pool's planes): eight
                    // running sums in a vector, added lane by lane at the end, then the tail.
                    let row = source + o * n
                    var sums = SIMD8<Float>()
                    var k = 0
                    while k + 8 <= n {
                        sums += UnsafeRawPointer(row + k).loadUnaligned(as: SIMD8<Float>.self)
                        k += 8
                    }
                    var total: Float = 0
                    for lane in 0..<8 { total += sums[lane] }
                    while k < n {
                        total += row[k]
                        k += 1
                    }
                    d[0] = scale != 1 ? total * scale : total
                    continue
                }
                d.update(repeating: 0, count: inner)
                for k in 0..<n {
                    let s = source + (o * n + k) * inner
                    for i in 0..<inner { d[i] += s[i] }
                }
                if scale != 1 {
                    for i in 0..<inner { d[i] *= scale }
                }
            }
        }
    }
}
