import CBLAS

// Convolutions through im2col whose output plane is large (a stem at 224×224, ResNet's strided
// 3×3 layers, SqueezeNet's 3×3 expansions) run one block of output lines of one sample at a
// time: that block's patches are built, multiplied and consumed while they are still in L2, and
// the product lands straight in the result with its bias and activation. The whole-plane patch
// matrix (7.4 MB for a 7×7 stem at 224×224) outgrows every cache: building it, OpenBLAS's
// packing of it and the [O, P] → [N, O, P] relayout after the product took 40 % of such a
// convolution (perf, SqueezeNet's stem). 1×1 convolutions on large planes (MobileNet's and
// EfficientNet's expansions at 112×112 and 56×56) build no patches but gain the same way: the
// bias fill, the product adding to it and the activation each went over an output beyond L2
// (4.8 MB for 16 → 96 at 112×112). Blocks depend on the shape alone, so the bits do not
// depend on the thread count.

extension ConvolutionPlan {
    /// Floats of patches one block builds: 96 Ki (384 KiB, which leaves room in a 1–2 MiB L2
    /// for OpenBLAS's packed copy of them and the output block).
    static let patchBlockFloats = 98_304

    /// Blocks of output lines per sample: as many as keep each block's patches within
    /// `patchBlockFloats`, but none narrower than 128 columns (each product repacks the
    /// weight, about 1/128 of its arithmetic then).
    /// A 1×1 convolution builds no patches: its block reads the input's lines in place, and
    /// the block's input and output lines are what must stay in cache.
    var patchBlocks: Int {
        let floatsPerLine = (isPointwise ? rows + outputs : rows) * outWidth
        let linesByCache = Swift.max(1, Self.patchBlockFloats / Swift.max(floatsPerLine, 1))
        return Swift.max(1, Swift.min((outHeight + linesByCache - 1) / linesByCache, plane / 128, outHeight))
    }

    /// Output lines per block: `outHeight` shared evenly among `patchBlocks` blocks, the last
    /// one shorter.
    var linesPerPatchBlock: Int { (outHeight + patchBlocks - 1) / patchBlocks }

    /// Whether the output plane spans several blocks of patches (`Kernels.convolutionInPatchBlocks`
    /// pays); a smaller plane is one product for the whole chunk of samples. Groups of fewer than
    /// 32 outputs (RegNet's, ResNeXt's) stay whole: their products are so small that each call's
    /// own cost dominates, and blocks would multiply the calls.
    var spansPatchBlocks: Bool { patchBlocks > 1 && (groups == 1 || outputsPerGroup >= 32) }
}

extension Kernels {
    /// `result = activation(conv(input, weight) + bias)` for a plan that `spansPatchBlocks`,
    /// one task of the pool per block of output lines of one sample: im2col of the block (a
    /// 1×1 convolution reads the input's lines where they are), one single-threaded product
    /// per group into the result (bias filled first, so the product adds to it), then the
    /// activation on the block's rows while they are in cache.
    static func convolutionInPatchBlocks(
        _ input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        into result: UnsafeMutablePointer<Float>, plan: ConvolutionPlan, activation: FusedActivation?
    ) {
        let lines = plan.linesPerPatchBlock
        // ReLU, Clip, Sigmoid and SiLU in one call for the block's rows; the others row by row.
        let (kind, low, high, after) = FusedActivation.inKernel(activation)
        let blocks = (plan.outHeight + lines - 1) / lines
        let capacity = plan.rows * lines * plan.outWidth
        let (plane, image) = (plan.plane, plan.channels * plan.height * plan.width)
        parallelFor(plan.batch * blocks) { task in
            let (n, block) = task.quotientAndRemainder(dividingBy: blocks)
            let chosen = block * lines..<Swift.min((block + 1) * lines, plan.outHeight)
            let columns = chosen.count * plan.outWidth
            let cols = plan.isPointwise ? nil : BufferPool.allocate(capacity)
            defer { if let cols { BufferPool.release(cols, count: capacity) } }
            if let cols {
                im2col(input + n * image, batch: 1, channels: plan.channels, height: plan.height, width: plan.width, window: plan.window,
                       outHeight: plan.outHeight, outWidth: plan.outWidth, lines: chosen, into: cols)
            }
            // The block's patches: [rows, columns] built, or the input's own lines (row stride `plane`).
            let (patches, stride) = cols.map { (UnsafePointer($0), columns) } ?? (input + n * image + chosen.lowerBound * plan.outWidth, plane)
            let output = result + n * plan.outputs * plane + chosen.lowerBound * plan.outWidth
            if let bias { fillRows(output, bias: bias, rows: plan.outputs, count: columns, stride: plane) }
            for group in 0..<plan.groups {
                synapse_sgemm(
                    0, 0, Int32(plan.outputsPerGroup), Int32(columns), Int32(plan.rowsPerGroup), 1,
                    weight + group * plan.outputsPerGroup * plan.rowsPerGroup, Int32(plan.rowsPerGroup),
                    patches + group * plan.rowsPerGroup * stride, Int32(stride),
                    bias == nil ? 0 : 1, output + group * plan.outputsPerGroup * plane, Int32(plane))
            }
            if kind != Int32(SYNAPSE_ACTIVATION_NONE) {
                synapse_activate_rows(output, plan.outputs, columns, plane, kind, low, high)
            }
            if let after {
                for o in 0..<plan.outputs { after.apply(output + o * plane, count: columns) }
            }
        }
    }
}
