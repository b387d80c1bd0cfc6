import CBLAS

// Depthwise convolution (groups == channels: MobileNet, EfficientNet, ConvNeXt) computed
// directly: each output channel is a few taps of one input channel, so im2col + sgemm would
// copy every input element kH·kW times to do a product with one row. Forward runs in C
// (Sources/CBLAS/depthwise.c: a zero-padded copy of each input plane, its rows split into even
// and odd columns at stride 2, sixteen outputs of a row in a register across all taps, the
// activation applied before the store; planes narrower than a vector sixteen at a time, one
// in each vector lane, Sources/CBLAS/depthwise_lanes.h). In the backward passes every tap is one pass over an
// output row — `out[y, x] += w · in[y·s − p + i·d, x·s − p + j·d]` — contiguous in x at
// stride 1, which the compiler vectorises. Forward, the input's gradient (the same
// taps read the other way) and the weight's (a dot product per tap) run in a fixed order, so
// results do not depend on the machine's threads.

extension Kernels {
    /// The output columns `x` of a tap at column offset `offset` whose input column
    /// `x·stride + offset` lies in `0..<width`.
    @inline(__always)
    static func validColumns(offset: Int, stride: Int, width: Int, outWidth: Int) -> Range<Int> {
        // Smallest x with x·stride + offset ≥ 0, largest with x·stride + offset ≤ width − 1.
        let low = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let highLimit = width - 1 - offset
        let high = highLimit < 0 ? -1 : Swift.min(outWidth - 1, highLimit / stride)
        return low <= high ? low..<(high + 1) : 0..<0
    }

    /// Calls `body(n, o, c, y, inputRow, tap, columns, offset)` for every sample `n` of
    /// `samples`, output channel `o` of `chosen` (of input channel `c = o / multiplier`), output
    /// row `y` and tap (its flat
    /// index in the `kH × kW` kernel) whose input row `inputRow` is inside the image, with the
    /// output columns it reaches and its column offset.
    @inline(__always)
    static func forEachDepthwiseTap(
        samples: Range<Int>, chosen: Range<Int>, channels: Int, height: Int, width: Int, outputs: Int, outHeight: Int, outWidth: Int,
        window: SlidingWindow, _ body: (_ n: Int, _ o: Int, _ c: Int, _ y: Int, _ inputRow: Int, _ tap: Int, _ columns: Range<Int>, _ offset: Int) -> Void
    ) {
        let (kH, kW, multiplier) = (window.size(0), window.size(1), outputs / channels)
        for n in samples {
            for o in chosen {
                for y in 0..<outHeight {
                    for i in 0..<kH {
                        let row = y * window.stride(0) - window.padBefore(0) + i * window.dilation(0)
                        guard row >= 0 && row < height else { continue }
                        for j in 0..<kW {
                            let offset = j * window.dilation(1) - window.padBefore(1)
                            let columns = validColumns(offset: offset, stride: window.stride(1), width: width, outWidth: outWidth)
                            body(n, o, o / multiplier, y, row, i * kW + j, columns, offset)
                        }
                    }
                }
            }
        }
    }

    /// `output[n, o] = bias[o] + Σ taps` for input `[N, C, H, W]`, weight `[O, 1, kH, kW]`
    /// (`O = C · multiplier`), output `[N, O, H′, W′]`.
    static func depthwiseConvolution(
        _ input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, height: Int, width: Int, outputs: Int, outHeight: Int, outWidth: Int, window: SlidingWindow,
        activation: FusedActivation? = nil
    ) {
        let taps = window.size(0) * window.size(1)
        // ReLU, Clip, Sigmoid and SiLU are applied by the kernel to each output vector before
        // its store (the bits of `FusedActivation.apply`); the others after each task's planes.
        let (inKernel, low, high, after) = FusedActivation.inKernel(activation)
        // Output planes in tasks fixed by the sizes (the planes are disjoint); the kernel is C
        // (Sources/CBLAS/depthwise.c), to run in the CPU's widest vectors. It takes planes
        // narrower than a vector sixteen at a time, one in each lane: whole sixteens a task.
        let grain = Kernels.channelGrain(outHeight * outWidth * taps)
        Kernels.parallelChunks(batch * outputs, grain: outWidth < 16 ? (grain + 15) / 16 * 16 : grain) { planes in
            synapse_depthwise_forward(
                input, weight, bias, output, Int32(channels), Int32(outputs), Int32(height), Int32(width), Int32(outHeight), Int32(outWidth),
                Int32(window.size(0)), Int32(window.size(1)), Int32(window.stride(0)), Int32(window.stride(1)),
                Int32(window.padBefore(0)), Int32(window.padBefore(1)), Int32(window.dilation(0)), Int32(window.dilation(1)),
                Int32(planes.lowerBound), Int32(planes.count), inKernel, low, high)
            after?.apply(output + planes.lowerBound * outHeight * outWidth, count: planes.count * outHeight * outWidth)
        }
    }

    /// The input's gradient, added into `inputGradient`: each tap's weight times the output
    /// gradient, put back where the tap read.
    static func depthwiseInputGradient(
        _ gradient: UnsafePointer<Float>, weight: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, height: Int, width: Int, outputs: Int, outHeight: Int, outWidth: Int, window: SlidingWindow
    ) {
        let (taps, stride) = (window.size(0) * window.size(1), window.stride(1))
        let (plane, outPlane) = (height * width, outHeight * outWidth)
        // One input plane (with the outputs that read it) per task, in the serial order.
        let multiplier = outputs / channels
        Kernels.parallelChunks(batch * channels, grain: Kernels.channelGrain(outPlane * taps * multiplier)) { planes in
            for inputPlane in planes {
                let (n, c) = inputPlane.quotientAndRemainder(dividingBy: channels)
                forEachDepthwiseTap(samples: n..<n + 1, chosen: c * multiplier..<(c + 1) * multiplier, channels: channels, height: height, width: width,
                                    outputs: outputs, outHeight: outHeight, outWidth: outWidth, window: window) { n, o, c, y, row, tap, columns, offset in
                    let w = weight[o * taps + tap]
                    let from = gradient + (n * outputs + o) * outPlane + y * outWidth
                    let to = inputGradient + (n * channels + c) * plane + row * width + offset
                    if stride == 1 {
                        for x in columns { to[x] += w * from[x] }
                    } else {
                        for x in columns { to[x * stride] += w * from[x] }
                    }
                }
            }
        }
    }

    /// The weight's gradient, added into `weightGradient` `[O, 1, kH, kW]`: per tap, the dot
    /// product of the output gradient with the input elements the tap read.
    static func depthwiseWeightGradient(
        _ gradient: UnsafePointer<Float>, input: UnsafePointer<Float>, into weightGradient: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, height: Int, width: Int, outputs: Int, outHeight: Int, outWidth: Int, window: SlidingWindow
    ) {
        let (taps, stride) = (window.size(0) * window.size(1), window.stride(1))
        let (plane, outPlane) = (height * width, outHeight * outWidth)
        // One output channel (all samples, in order) per task.
        Kernels.parallelChunks(outputs, grain: Kernels.channelGrain(batch * outPlane * taps)) { chosen in
            forEachDepthwiseTap(samples: 0..<batch, chosen: chosen, channels: channels, height: height, width: width, outputs: outputs,
                                outHeight: outHeight, outWidth: outWidth, window: window) { n, o, c, y, row, tap, columns, offset in
                let g = gradient + (n * outputs + o) * outPlane + y * outWidth
                let x = input + (n * channels + c) * plane + row * width + offset
                var sum: Float = 0
                if stride == 1 {
                    for k in columns { sum += g[k] * x[k] }
                } else {
                    for k in columns { sum += g[k] * x[k * stride] }
                }
                weightGradient[o * taps + tap] += sum
            }
        }
    }
}
