/// Tight loops over raw buffers, shared by forward and backward code.
enum Kernels {
    /// `target[i] += source[i]`.
    static func addInPlace(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { target[i] += source[i] }
    }

    /// Views a tensor of `shape` as `[outer, n, inner]` around dimension `dim`.
    static func split(_ shape: [Int], around dim: Int) -> (outer: Int, n: Int, inner: Int) {
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
        for o in 0..<outer {
            let d = destination + o * inner
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
