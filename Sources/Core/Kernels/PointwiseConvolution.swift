import CBLAS

// 1×1 convolutions of up to 192 input channels on large planes (MobileNet v2's and
// EfficientNet's expansions, 16 → 96 at 112×112 and 24 → 144 at 56×56, and their projections,
// 144 → 24) computed directly (Sources/CBLAS/pointwise.c): through sgemm, a product of depth 16
// or 24 is mostly packing — OpenBLAS packs the input's lines and the weight on every call and
// adds to a bias filled first — and the output goes through cache three times (bias, product,
// activation) instead of once.

extension ConvolutionPlan {
    /// Input channels up to which a 1×1 convolution on a large plane runs the direct kernel:
    /// beyond, sgemm's packing is a small part of its work (one thread, Zen 4: 1.2–1.6× sgemm's
    /// speed from 16 to 192 channels, 144 → 24 at 56×56 0.28 → 0.21 ms; from 240 to 512 even or
    /// slower, 0.85–0.9× at 256 → 128 on 56×56).
    static let pointwiseChannelLimit = 192

    /// Positions of one sample a task of the direct 1×1 kernel takes: fixed, so tasks depend
    /// on the sizes alone (every output is computed the same way in any task).
    static let pointwisePositionsPerTask = 1024

    /// Whether this 1×1 convolution runs the direct kernel: at most `pointwiseChannelLimit`
    /// input channels, a plane beyond `packedRows` positions (smaller ones are the packed
    /// weight's), on a CPU with AVX2 or AVX-512. Nothing is kept for backward either way.
    var usesPointwiseKernel: Bool {
        isPointwise && plane > Self.packedRows && channels <= Self.pointwiseChannelLimit && synapse_cpu_level() > 0
    }
}

extension Kernels {
    /// `result = activation(conv(input, weight) + bias)` for a plan that `usesPointwiseKernel`,
    /// one task of the pool per `pointwisePositionsPerTask` positions of one sample (the last
    /// piece of a plane takes the rest, so that every piece has at least 64).
    static func pointwiseConvolution(
        _ input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        into result: UnsafeMutablePointer<Float>, plan: ConvolutionPlan, activation: FusedActivation?
    ) {
        let (kind, low, high, after) = FusedActivation.inKernel(activation)
        let (channels, outputs, plane) = (plan.channels, plan.outputs, plan.plane)
        let piece = ConvolutionPlan.pointwisePositionsPerTask
        let pieces = Swift.max(1, plane / piece)
        parallelFor(plan.batch * pieces) { task in
            let (n, index) = task.quotientAndRemainder(dividingBy: pieces)
            let first = index * piece
            let count = index == pieces - 1 ? plane - first : piece
            let output = result + n * outputs * plane
            synapse_pointwise_forward(input + n * channels * plane, Int32(channels), plane, weight, bias, output, Int32(outputs),
                                      first, count, kind, low, high)
            if let after { for o in 0..<outputs { after.apply(output + o * plane + first, count: count) } }
        }
    }
}
