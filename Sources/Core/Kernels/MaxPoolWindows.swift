// Max pooling over any window (3×3 stride 2 with ceil mode in SqueezeNet, ResNet's padded
// 3×3) when no gradient will be asked for: values only, no argmax positions. Each output row
// takes the running maximum over the window's taps, tap by tap, so the inner loop runs along
// the row's interior outputs with a fixed stride and vectorises; the outputs whose window
// hangs over the border take their valid taps one by one. The taps are visited in the order
// of the positions path (rows, then columns), ties keep the first and NaN wins as it does
// there, so both give the same values.

extension Kernels {
    /// `y[p, oy, ox] = max` over the valid taps of `window` at `(oy, ox)` of plane `p` of `x`
    /// (`-∞` when none; NaN when any tap is NaN), for `planes` planes, on the pool.
    static func maxPoolValues(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, window: SlidingWindow
    ) {
        let (dy, dx, sx) = (window.dilation(0), window.dilation(1), window.stride(1))
        let kernelWidth = window.size(1)
        let columnTaps = (0..<outWidth).map { window.validTaps(1, output: $0, input: width) }
        // The outputs whose every column tap lies inside the row: one contiguous range.
        let interior = (0..<outWidth).filter { columnTaps[$0].start == 0 && columnTaps[$0].end == kernelWidth }
        let (first, last) = (interior.first ?? 0, (interior.last ?? -1) + 1)
        let taps = window.size(0) * kernelWidth
        parallelChunks(planes, grain: channelGrain(outHeight * outWidth * taps)) { chosen in
            for plane in chosen {
                let image = x + plane * height * width
                for oy in 0..<outHeight {
                    let rows = window.validTaps(0, output: oy, input: height)
                    let out = y + (plane * outHeight + oy) * outWidth
                    out.update(repeating: -.infinity, count: outWidth)
                    for i in rows.start..<rows.end {
                        let row = image + (rows.origin + i * dy) * width
                        // Eight interior outputs at a time in a vector; the rest one by one.
                        var ox = first
                        while ox + 8 <= last {
                            var best = UnsafeRawPointer(out + ox).loadUnaligned(as: SIMD8<Float>.self)
                            for j in 0..<kernelWidth {
                                let column = ox * sx - window.padBefore(1) + j * dx
                                let values = Self.strided8(row + column, stride: sx, readable: width - column)
                                best = best.replacing(with: values, where: (values .> best) .| (values .!= values))
                            }
                            UnsafeMutableRawPointer(out + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                            ox += 8
                        }
                        for ox in ox..<last {
                            for j in 0..<kernelWidth {
                                let value = row[ox * sx - window.padBefore(1) + j * dx]
                                out[ox] = value > out[ox] || value != value ? value : out[ox]
                            }
                        }
                        for ox in 0..<outWidth where ox < first || ox >= last {
                            let columns = columnTaps[ox]
                            for j in columns.start..<columns.end {
                                let value = row[columns.origin + j * dx]
                                out[ox] = value > out[ox] || value != value ? value : out[ox]
                            }
                        }
                    }
                }
            }
        }
    }

    /// `source[0], source[stride], …, source[7·stride]`, where `readable` floats from `source`
    /// may be read: one load (stride 1), the even lanes of one 16-float load (stride 2, when
    /// those 16 are readable) or eight.
    @inline(__always)
    static func strided8(_ source: UnsafePointer<Float>, stride: Int, readable: Int) -> SIMD8<Float> {
        if stride == 1 { return UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self) }
        if stride == 2 && readable >= 16 { return UnsafeRawPointer(source).loadUnaligned(as: SIMD16<Float>.self).evenHalf }
        var values = SIMD8<Float>()
        for lane in 0..<8 { values[lane] = source[lane * stride] }
        return values
    }
}
