// Max pooling over any window (3×3 stride 2 with ceil mode in SqueezeNet, ResNet's padded
// 3×3) when no gradient will be asked for: values only, no argmax positions. Each output
// takes the running maximum over the window's taps, tap by tap, sixteen interior outputs of
// a row at a time with a fixed stride; the outputs whose window hangs over the border take
// their valid taps one by one. The taps are visited in the order of the positions path
// (rows, then columns), ties keep the first and NaN wins as it does there, so both give the
// same values.

import CBLAS

extension Kernels {
    /// `y[p, oy, ox] = max` over the valid taps of `window` at `(oy, ox)` of plane `p` of `x`
    /// (`-∞` when none; NaN when any tap is NaN), for `planes` planes, on the pool. The kernel
    /// is C (Sources/CBLAS/max_pool.c), sixteen interior outputs to a register.
    static func maxPoolValues(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, window: SlidingWindow
    ) {
        let kernelWidth = window.size(1)
        // The outputs whose every column tap lies inside the row: one contiguous range.
        let interior = (0..<outWidth).filter {
            let taps = window.validTaps(1, output: $0, input: width)
            return taps.start == 0 && taps.end == kernelWidth
        }
        let (first, last) = (interior.first ?? 0, (interior.last ?? -1) + 1)
        let taps = window.size(0) * kernelWidth
        parallelChunks(planes, grain: channelGrain(outHeight * outWidth * taps)) { chosen in
            synapse_max_pool_values(
                x, y, Int32(height), Int32(width), Int32(outHeight), Int32(outWidth), Int32(window.size(0)), Int32(kernelWidth),
                Int32(window.stride(0)), Int32(window.stride(1)), Int32(window.padBefore(0)), Int32(window.padBefore(1)),
                Int32(window.dilation(0)), Int32(window.dilation(1)), Int32(first), Int32(last), chosen.lowerBound, chosen.count)
        }
    }
}
