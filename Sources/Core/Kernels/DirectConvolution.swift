import CBLAS

// Convolutions of inputs with few channels (the stems of ResNet, DenseNet, SqueezeNet: 3 → 64
// or 96, 7×7 stride 2; of MobileNet, EfficientNet, RegNet: 3 → 32, 3×3 stride 2) computed
// directly (Sources/CBLAS/direct_conv.c): im2col + sgemm makes them a product of depth 27 or
// 147 over a patch matrix 9–49 times the input, where sgemm packs more than it multiplies.

extension ConvolutionPlan {
    /// Input channels up to which the direct kernel runs: beyond, the patch matrix's depth
    /// makes sgemm efficient.
    static let directChannelLimit = 4

    /// Whether this convolution runs the direct kernel: one group of at most
    /// `directChannelLimit` input channels, dilation 1, a kernel at most 16 wide, nothing
    /// keeping patches for the weight's gradient, on a CPU with AVX2 or AVX-512.
    func usesDirectKernel(keepsPatches: Bool) -> Bool {
        groups == 1 && channels <= Self.directChannelLimit && window.dilation(0) == 1 && window.dilation(1) == 1
            && window.size(1) <= 16 && !keepsPatches && synapse_cpu_level() > 0
    }
}

extension Kernels {
    /// Output lines per task of the direct convolution: fixed, so tasks depend on the sizes
    /// alone (every output is computed the same way in any task).
    static let directLinesPerTask = 4

    /// `result = activation(conv(input, weight) + bias)` for a plan that `usesDirectKernel`,
    /// tasks of `directLinesPerTask` output lines of one sample, each with its own scratch
    /// for the phase-split input lines.
    static func directConvolution(
        _ input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        into result: UnsafeMutablePointer<Float>, plan: ConvolutionPlan, activation: FusedActivation?
    ) {
        let (kind, low, high, after) = FusedActivation.inKernel(activation)
        let window = plan.window
        let scratch = Int(synapse_direct_convolution_scratch(Int32(plan.channels), Int32(window.size(0)), Int32(window.size(1)),
                                                             Int32(window.stride(0)), Int32(window.stride(1)), Int32(plan.outWidth),
                                                             Int32(Swift.min(directLinesPerTask, plan.outHeight))))
        let tasksPerSample = (plan.outHeight + directLinesPerTask - 1) / directLinesPerTask
        let (image, outputImage) = (plan.channels * plan.height * plan.width, plan.outputs * plan.plane)
        parallelFor(plan.batch * tasksPerSample) { task in
            let (n, piece) = task.quotientAndRemainder(dividingBy: tasksPerSample)
            let lines = piece * directLinesPerTask..<Swift.min((piece + 1) * directLinesPerTask, plan.outHeight)
            let split = BufferPool.allocate(scratch)
            defer { BufferPool.release(split, count: scratch) }
            let output = result + n * outputImage
            synapse_direct_convolution(
                input + n * image, Int32(plan.channels), Int32(plan.height), Int32(plan.width), weight, bias, Int32(plan.outputs),
                Int32(window.size(0)), Int32(window.size(1)), Int32(window.stride(0)), Int32(window.stride(1)),
                Int32(window.padBefore(0)), Int32(window.padBefore(1)), output, Int32(plan.outHeight), Int32(plan.outWidth),
                Int32(lines.lowerBound), Int32(lines.count), kind, low, high, split)
            if let after {
                for o in 0..<plan.outputs { after.apply(output + o * plan.plane + lines.lowerBound * plan.outWidth, count: lines.count * plan.outWidth) }
            }
        }
    }
}
