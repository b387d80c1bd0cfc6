/// The sizes of one convolution and how its batch is cut into chunks whose image patches
/// (im2col) stay within a memory budget: a batch of small images is one chunk, one product per
/// group; large images go a few samples at a time instead of allocating gigabytes of patches.
package struct ConvolutionPlan {
    let batch, channels, height, width, outputs, outHeight, outWidth, groups: Int
    let window: SlidingWindow
    /// Floats of patches per chunk (64 MiB) unless one sample alone needs more; tests lower it
    /// for a scope to run the chunked path on small inputs.
    @TaskLocal package static var patchBudget = 1 << 24

    init(input: [Int], weight: [Int], window: SlidingWindow, groups: Int) {
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        outputs = weight[0]
        outHeight = window.outputSize(0, input: height)!
        outWidth = window.outputSize(1, input: width)!
        (self.window, self.groups) = (window, groups)
    }

    var plane: Int { outHeight * outWidth }
    var rowsPerGroup: Int { channels / groups * window.size(0) * window.size(1) }
    var rows: Int { rowsPerGroup * groups }
    var outputsPerGroup: Int { outputs / groups }
    /// One input channel per group (`groups == channels`, more than one): the direct kernel
    /// (`Kernels.depthwiseConvolution`) instead of im2col + sgemm.
    var isDepthwise: Bool { groups > 1 && groups == channels }
    /// A 1×1 kernel, stride 1, no padding, one group: a product per sample on the NCHW data.
    var isPointwise: Bool {
        window.size(0) == 1 && window.size(1) == 1 && window.stride(0) == 1 && window.stride(1) == 1 && groups == 1
            && window.padBefore(0) == 0 && window.padBefore(1) == 0 && window.padAfter(0) == 0 && window.padAfter(1) == 0
    }

    /// Calls `body(n)` for every sample, several samples per task of the pool when one
    /// sample's product is small (a large one splits into blocks itself).
    func forEachSample(_ body: (Int) -> Void) {
        let work = Double(outputs) * Double(channels) * Double(plane)
        Kernels.parallelChunks(batch, grain: Kernels.productsPerTask(work: work)) { samples in
            for n in samples { body(n) }
        }
    }

    /// When 3×3 stride-1 convolutions run as Winograd F(2×2, 3×3): `nil` chooses by size
    /// (`WinogradPlan.pays`); tests set `true` or `false` for a scope to compare the two.
    @TaskLocal package static var forcesWinograd: Bool? = nil

    /// The F(2×2, 3×3) plan when this convolution runs that way (`WinogradPlan.applies`).
    var winograd: WinogradPlan? {
        guard Self.forcesWinograd != false, WinogradPlan.applies(channels: channels, outputs: outputs, window: window, groups: groups) else { return nil }
        let plan = WinogradPlan(batch: batch, channels: channels, height: height, width: width, outputs: outputs, outHeight: outHeight,
                                outWidth: outWidth, padTop: window.padBefore(0), padLeft: window.padBefore(1))
        return Self.forcesWinograd == true || plan.pays(weightKept: PreparedWeights.keepsForms) ? plan : nil
    }

    /// The samples of each chunk, in order.
    var chunks: [Range<Int>] {
        let size = Swift.max(1, Swift.min(batch, Self.patchBudget / Swift.max(rows * plane, 1)))
        return stride(from: 0, to: batch, by: size).map { $0..<Swift.min($0 + size, batch) }
    }

    func im2col(_ input: UnsafePointer<Float>, samples: Range<Int>, into cols: UnsafeMutablePointer<Float>) {
        Kernels.im2col(
            input + samples.lowerBound * channels * height * width, batch: samples.count, channels: channels, height: height,
            width: width, window: window, outHeight: outHeight, outWidth: outWidth, into: cols)
    }

    func col2im(_ cols: UnsafePointer<Float>, samples: Range<Int>, into input: UnsafeMutablePointer<Float>) {
        Kernels.col2im(
            cols, batch: samples.count, channels: channels, height: height, width: width, window: window,
            outHeight: outHeight, outWidth: outWidth, into: input + samples.lowerBound * channels * height * width)
    }
}
