// The fast path of 2×2, stride-2 max pooling without padding (the common CNN case).

extension Kernels {
    /// Max pooling with 2×2 windows and stride 2, the common case, without per-window bounds:
    /// the first maximum (row-major) wins, NaN propagates, as in the general loop.
    static func maxPool2x2(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ positions: UnsafeMutablePointer<Float>,
        planes: Int, height: Int, width: Int, outHeight: Int, outWidth: Int
    ) {
        for plane in 0..<planes {
            let image = x + plane * height * width
            let out = y + plane * outHeight * outWidth
            let at = positions + plane * outHeight * outWidth
            for oy in 0..<outHeight {
                let top = 2 * oy * width
                for ox in 0..<outWidth {
                    let first = top + 2 * ox
                    let candidates = (first, first + 1, first + width, first + width + 1)
                    let values = (image[candidates.0], image[candidates.1], image[candidates.2], image[candidates.3])
                    // Branch-free: the data decide the comparisons, so branches would mispredict.
                    var best = values.0
                    var index = candidates.0
                    let b1 = values.1 > best
                    best = b1 ? values.1 : best
                    index = b1 ? candidates.1 : index
                    let b2 = values.2 > best
                    best = b2 ? values.2 : best
                    index = b2 ? candidates.2 : index
                    let b3 = values.3 > best
                    best = b3 ? values.3 : best
                    index = b3 ? candidates.3 : index
                    if (values.0 + values.1 + values.2 + values.3).isNaN {
                        // A NaN (or +∞ with −∞): the first NaN wins, as in the general loop.
                        for (value, candidate) in [(values.0, candidates.0), (values.1, candidates.1), (values.2, candidates.2), (values.3, candidates.3)]
                        where value.isNaN {
                            (best, index) = (value, candidate)
                            break
                        }
                    }
                    out[oy * outWidth + ox] = best
                    at[oy * outWidth + ox] = Float(index)
                }
            }
        }
    }
}
