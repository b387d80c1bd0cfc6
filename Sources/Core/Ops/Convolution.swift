// 2-D convolution as im2col + one sgemm per group, for the whole batch at once: the image
// patches of every sample become the columns of one matrix, so a batch of small images is
// one large product rather than many tiny ones. Backward is two more products per group and
// a col2im; no Swift loop runs per multiply-add.

extension Tensor {
    /// 2-D convolution (PyTorch's `conv2d`, really cross-correlation) of `[N, C, H, W]` with
    /// `weight` `[O, C/groups, kH, kW]` and optional `bias` `[O]`:
    ///
    ///     out[n, o, y, x] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] ·
    ///                       in[n, g·C/groups + c, y·sH − padTop + i·dH, x·sW − padLeft + j·dW]
    ///
    /// where `g` is the group of `o` and positions outside the image read zero. The result is
    /// `[N, O, H′, W′]` with `H′ = ⌊(H + padTop + padBottom − dH·(kH − 1) − 1) / sH⌋ + 1`.
    public func conv2d(
        weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) -> Tensor {
        require(weight.rank == 4, "conv2d: weight must be [out, in/groups, kH, kW], got \(describe(weight.shape))")
        let window = SlidingWindow(
            size: (weight.shape[2], weight.shape[3]), stride: stride, dilation: dilation,
            padding: (padding.0, padding.1, padding.0, padding.1))
        return conv2d(weight: weight, bias: bias, window: window, groups: groups)
    }

    /// 2-D convolution with any `window` (asymmetric padding, as ONNX allows); the window's
    /// size must be the weight's kernel size. See `conv2d(weight:bias:stride:padding:dilation:groups:)`.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, window: SlidingWindow, groups: Int = 1) -> Tensor {
        let problem = Tensor.convolutionProblem(input: shape, weight: weight.shape, bias: bias?.shape, window: window, groups: groups)
        require(problem == nil, "conv2d: \(problem ?? "")")
        let plan = ConvolutionPlan(input: shape, weight: weight.shape, window: window, groups: groups)
        let result = Tensor.uninitialized([plan.batch, plan.outputs, plan.outHeight, plan.outWidth])
        let b = bias?.storage.pointer
        var lastCols: Tensor?
        for samples in plan.chunks {
            let columns = samples.count * plan.plane
            let cols = Tensor.uninitialized([plan.rows, columns])
            plan.im2col(storage.pointer, samples: samples, into: cols.storage.pointer)
            let product = Tensor.uninitialized([plan.outputs, columns])
            for group in 0..<groups {
                Kernels.gemm(
                    transposeA: false, transposeB: false, m: plan.outputsPerGroup, n: columns, k: plan.rowsPerGroup, alpha: 1,
                    a: weight.storage.pointer + group * plan.outputsPerGroup * plan.rowsPerGroup, lda: plan.rowsPerGroup,
                    b: cols.storage.pointer + group * plan.rowsPerGroup * columns, ldb: columns,
                    beta: 0, c: product.storage.pointer + group * plan.outputsPerGroup * columns, ldc: columns)
            }
            // [O, n·P] → [n, O, P], adding the bias on the way.
            for (offset, sample) in samples.enumerated() {
                for o in 0..<plan.outputs {
                    let from = product.storage.pointer + o * columns + offset * plan.plane
                    let to = result.storage.pointer + (sample * plan.outputs + o) * plan.plane
                    if let b {
                        let shift = b[o]
                        for p in 0..<plan.plane { to[p] = from[p] + shift }
                    } else {
                        to.update(from: from, count: plan.plane)
                    }
                }
            }
            lastCols = cols
        }
        let creators = bias.map { [self, weight, $0] } ?? [self, weight]
        let recorded = result.recorded(.convolution(window, groups: groups), creators)
        // One chunk: keep its patches for the weight gradient; several: recompute them then.
        if recorded.requiresGrad && weight.requiresGrad && plan.chunks.count == 1 { recorded.savedForBackward = lastCols }
        return recorded
    }

    /// Why `input`, `weight`, `bias`, `window` and `groups` do not make a convolution, or
    /// `nil` when they do: checked before any arithmetic, by `conv2d` and by the importer.
    static func convolutionProblem(input: [Int], weight: [Int], bias: [Int]?, window: SlidingWindow, groups: Int) -> String? {
        guard input.count == 4 else { return "input must be [N, C, H, W], got \(describe(input))" }
        guard weight.count == 4 else { return "weight must be [out, in/groups, kH, kW], got \(describe(weight))" }
        guard groups > 0, input[1] % groups == 0, weight[0] % groups == 0 else {
            return "groups \(groups) must divide the input channels \(input[1]) and the output channels \(weight[0])"
        }
        guard weight[1] * groups == input[1] else {
            return "weight \(describe(weight)) expects \(weight[1] * groups) input channels with groups \(groups), "
                + "the input \(describe(input)) has \(input[1])"
        }
        guard weight[2] == window.size(0), weight[3] == window.size(1) else {
            return "kernel \(weight[2])×\(weight[3]) of the weight differs from the window's \(window.size(0))×\(window.size(1))"
        }
        if let bias, bias != [weight[0]] { return "bias must be [\(weight[0])], got \(describe(bias))" }
        guard window.outputSize(0, input: input[2]) != nil, window.outputSize(1, input: input[3]) != nil else {
            return "the \(window.extent(0))×\(window.extent(1)) window does not fit in the padded input \(describe(input))"
        }
        guard elementCount(weight) != nil, elementCount(input) != nil,
              weight[1].multipliedReportingOverflow(by: window.size(0) * window.size(1)).partialValue < 1 << 31
        else { return "sizes are too large" }
        return nil
    }

    /// d input = col2im(Wᵀ · dY), d weight = dY · colsᵀ, d bias = Σ dY over samples and positions.
    func convolutionBackward(_ gradient: Tensor, window: SlidingWindow, groups: Int) -> [Tensor?] {
        let (input, weight) = (creators[0], creators[1])
        let plan = ConvolutionPlan(input: input.shape, weight: weight.shape, window: window, groups: groups)
        let hasBias = creators.count == 3
        let db = hasBias && creators[2].requiresGrad ? Tensor(shape: [plan.outputs], repeating: 0) : nil
        let dw = weight.requiresGrad ? Tensor(shape: weight.shape, repeating: 0) : nil
        let dx = input.requiresGrad ? Tensor(shape: input.shape, repeating: 0) : nil
        let g = gradient.storage.pointer
        for samples in plan.chunks {
            let columns = samples.count * plan.plane
            // dY of these samples as [O, n·P], the layout of the forward product.
            let upstream = Tensor.uninitialized([plan.outputs, columns])
            let u = upstream.storage.pointer
            for (offset, sample) in samples.enumerated() {
                for o in 0..<plan.outputs {
                    (u + o * columns + offset * plan.plane).update(from: g + (sample * plan.outputs + o) * plan.plane, count: plan.plane)
                }
            }
            if let db {
                let total = db.storage.pointer
                for o in 0..<plan.outputs {
                    let row = u + o * columns
                    var sum: Float = 0
                    for p in 0..<columns { sum += row[p] }
                    total[o] += sum
                }
            }
            if let dw {
                let cols: Tensor
                if let saved = savedForBackward {
                    cols = saved
                } else {
                    cols = Tensor.uninitialized([plan.rows, columns])
                    plan.im2col(input.storage.pointer, samples: samples, into: cols.storage.pointer)
                }
                for group in 0..<groups {
                    Kernels.gemm(
                        transposeA: false, transposeB: true, m: plan.outputsPerGroup, n: plan.rowsPerGroup, k: columns, alpha: 1,
                        a: u + group * plan.outputsPerGroup * columns, lda: columns,
                        b: cols.storage.pointer + group * plan.rowsPerGroup * columns, ldb: columns,
                        beta: 1, c: dw.storage.pointer + group * plan.outputsPerGroup * plan.rowsPerGroup, ldc: plan.rowsPerGroup)
                }
            }
            if let dx {
                let dcols = Tensor.uninitialized([plan.rows, columns])
                for group in 0..<groups {
                    Kernels.gemm(
                        transposeA: true, transposeB: false, m: plan.rowsPerGroup, n: columns, k: plan.outputsPerGroup, alpha: 1,
                        a: weight.storage.pointer + group * plan.outputsPerGroup * plan.rowsPerGroup, lda: plan.rowsPerGroup,
                        b: u + group * plan.outputsPerGroup * columns, ldb: columns,
                        beta: 0, c: dcols.storage.pointer + group * plan.rowsPerGroup * columns, ldc: columns)
                }
                plan.col2im(dcols.storage.pointer, samples: samples, into: dx.storage.pointer)
            }
        }
        return [dx, dw] + (hasBias ? [db] : [])
    }
}

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

extension Kernels {
    /// Image patches as columns: row `(c, i, j)` (channel, tap row, tap column), column
    /// `(n, y, x)` holds `input[n, c, y·sH − padTop + i·dH, x·sW − padLeft + j·dW]`, or 0 in
    /// the padding.
    static func im2col(
        _ input: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, window: SlidingWindow,
        outHeight: Int, outWidth: Int, into cols: UnsafeMutablePointer<Float>
    ) {
        let step = window.stride(1)
        forEachPatchBlock(batch: batch, channels: channels, height: height, width: width, window: window,
                          outHeight: outHeight, outWidth: outWidth) { block, image, rows, columns, offset in
            // Lines of padding above and below, then the lines that read the image.
            var line = cols + block
            for _ in 0..<rows.lowerBound { zero(line, outWidth); line += outWidth }
            for y in rows {
                let source = input + image + y.row
                for x in 0..<columns.lowerBound { line[x] = 0 }
                if step == 1 {
                    let shifted = source + offset
                    for x in columns { line[x] = shifted[x] }
                } else {
                    for x in columns { line[x] = source[x &* step &+ offset] }
                }
                for x in columns.upperBound..<outWidth { line[x] = 0 }
                line += outWidth
            }
            for _ in rows.upperBound..<outHeight { zero(line, outWidth); line += outWidth }
        }
    }

    /// The adjoint of `im2col`: each column entry is added back to the input position it was
    /// read from (`input` must start zeroed).
    static func col2im(
        _ cols: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, window: SlidingWindow,
        outHeight: Int, outWidth: Int, into input: UnsafeMutablePointer<Float>
    ) {
        let step = window.stride(1)
        forEachPatchBlock(batch: batch, channels: channels, height: height, width: width, window: window,
                          outHeight: outHeight, outWidth: outWidth) { block, image, rows, columns, offset in
            var line = cols + block + rows.lowerBound * outWidth
            for y in rows {
                let target = input + image + y.row
                if step == 1 {
                    let shifted = target + offset
                    for x in columns { shifted[x] += line[x] }
                } else {
                    for x in columns { target[x &* step &+ offset] += line[x] }
                }
                line += outWidth
            }
        }
    }

    @inline(__always)
    private static func zero(_ line: UnsafeMutablePointer<Float>, _ count: Int) {
        for x in 0..<count { line[x] = 0 }
    }

    /// A run of output lines `y` with the offset of the input row each reads.
    struct PatchLines: Sequence, IteratorProtocol {
        var y: Int
        let end: Int
        var inputRow: Int
        let rowStep: Int
        let lowerBound: Int
        var upperBound: Int { end }

        mutating func next() -> (y: Int, row: Int)? {
            guard y < end else { return nil }
            defer { y += 1; inputRow &+= rowStep }
            return (y, inputRow)
        }
    }

    /// Calls `body` once per patch row `(c, i, j)` and sample: the offsets of the block of
    /// `outHeight · outWidth` columns it fills and of the sample's channel-`c` image, the output lines that read
    /// inside the image (each with the offset of its input row), the output columns that do,
    /// and the input column of output column 0 (`x · stride + offset` is that of `x`).
    @inline(__always)
    private static func forEachPatchBlock(
        batch: Int, channels: Int, height: Int, width: Int, window: SlidingWindow, outHeight: Int, outWidth: Int,
        _ body: (_ block: Int, _ image: Int, _ rows: PatchLines, _ columns: Range<Int>, _ offset: Int) -> Void
    ) {
        let plane = outHeight * outWidth
        let columnsPerRow = batch * plane
        let (taps0, taps1) = (window.size(0), window.size(1))
        let (step0, step1) = (window.stride(0), window.stride(1))
        for c in 0..<channels {
            for i in 0..<taps0 {
                // Output lines y whose input row y·s − pad + i·d lies in 0..<height.
                let rowOffset = i * window.dilation(0) - window.padBefore(0)
                let yLo = Swift.min(outHeight, rowOffset >= 0 ? 0 : (-rowOffset + step0 - 1) / step0)
                let yHi = height - 1 - rowOffset < 0 ? yLo : Swift.max(yLo, Swift.min(outHeight, (height - 1 - rowOffset) / step0 + 1))
                for j in 0..<taps1 {
                    let offset = j * window.dilation(1) - window.padBefore(1)
                    let lo = Swift.min(outWidth, offset >= 0 ? 0 : (-offset + step1 - 1) / step1)
                    let hi = width - 1 - offset < 0 ? lo : Swift.max(lo, Swift.min(outWidth, (width - 1 - offset) / step1 + 1))
                    let rowBase = ((c * taps0 + i) * taps1 + j) * columnsPerRow
                    for sample in 0..<batch {
                        let image = (sample * channels + c) * height * width
                        let lines = PatchLines(y: yLo, end: yHi, inputRow: (yLo * step0 + rowOffset) * width, rowStep: step0 * width, lowerBound: yLo)
                        body(rowBase + sample * plane, image, lines, lo..<hi, offset)
                    }
                }
            }
        }
    }
}

// MARK: Export and import

extension Tensor {
    /// `Conv` with the window's attributes.
    static func exportConvolution(window: SlidingWindow, groups: Int, _ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let a = window.onnxAttributes
        return [ExportNode("Conv", site.inputs, [site.output], [
            "kernel_shape": .ints(a.kernel), "strides": .ints(a.strides), "dilations": .ints(a.dilations),
            "pads": .ints(a.pads), "group": .int(groups),
        ])]
    }

    /// `Conv` on `[N, C, L]` (1-D, run as 2-D with a height of 1) or `[N, C, H, W]`, with
    /// `pads`, `auto_pad`, `strides`, `dilations` and `group`.
    static let convolutionImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Conv", reads: ["kernel_shape", "group", "pads", "strides", "dilations", "auto_pad"]) { node in
            let x = try node.tensor(0)
            let w = try node.tensor(1)
            let bias = node.has(2) ? try node.tensor(2) : nil
            guard x.rank == 3 || x.rank == 4, w.rank == x.rank else {
                throw node.fail("Synapse convolves 1-D and 2-D inputs: input \(describe(x.shape)), weight \(describe(w.shape))")
            }
            let oneDimensional = x.rank == 3
            let kernel = Array(w.shape[2...])
            let window = try node.slidingWindow(kernel: kernel, input: Array(x.shape[2...]), ceilMode: false)
            if let declared = node.ints("kernel_shape"), declared != kernel {
                throw node.fail("kernel_shape \(declared) differs from the weight's \(kernel)")
            }
            let groups = node.int("group", default: 1)
            let input = oneDimensional ? x.unsqueezed(dim: 2) : x
            let weight = oneDimensional ? w.unsqueezed(dim: 2) : w
            if let problem = convolutionProblem(input: input.shape, weight: weight.shape, bias: bias?.shape, window: window, groups: groups) {
                throw node.fail(problem)
            }
            let plane = window.outputSize(0, input: input.shape[2])! * window.outputSize(1, input: input.shape[3])!
            try node.checkMadeSize([input.shape[0], weight.shape[0], plane], "output")
            try node.checkMadeSize([weight.shape[1] * groups, weight.shape[2], weight.shape[3], plane], "image patches of one sample")
            let y = input.conv2d(weight: weight, bias: bias, window: window, groups: groups)
            return [.tensor(oneDimensional ? y.squeezed(dim: 2) : y)]
        },
    ]
}

extension ImportNode {
    /// Refuses a result of `shape` larger than `OpImport.largestMadeValue` scalars: the
    /// padding, strides and dilations of a foreign node must not make the reader allocate
    /// without bound.
    public func checkMadeSize(_ shape: [Int], _ what: String) throws {
        guard let count = elementCount(shape), count <= OpImport.largestMadeValue else {
            throw fail("the \(what) would have \(shape.map(String.init).joined(separator: " × ")) scalars, more than \(OpImport.largestMadeValue)")
        }
    }

    /// The window of a `Conv`/`MaxPool`/`AveragePool` node over 1-D or 2-D `input` positions:
    /// `strides`, `dilations`, `pads` (begins then ends) or `auto_pad` (`SAME_UPPER`,
    /// `SAME_LOWER`, `VALID`). A 1-D window is a 2-D one of height 1.
    public func slidingWindow(kernel: [Int], input: [Int], ceilMode: Bool) throws -> SlidingWindow {
        let rank = kernel.count
        guard rank == 1 || rank == 2, input.count == rank else { throw fail("Synapse handles 1-D and 2-D windows, got kernel \(kernel)") }
        let strides = ints("strides") ?? Array(repeating: 1, count: rank)
        let dilations = ints("dilations") ?? Array(repeating: 1, count: rank)
        var pads = ints("pads") ?? Array(repeating: 0, count: 2 * rank)
        guard strides.count == rank, dilations.count == rank, pads.count == 2 * rank else {
            throw fail("strides \(strides), dilations \(dilations) and pads \(pads) do not fit a \(rank)-D kernel")
        }
        let limit = 1 << 20
        guard (kernel + strides + dilations).allSatisfy({ $0 > 0 && $0 <= limit }), pads.allSatisfy({ $0 >= 0 && $0 <= limit }) else {
            throw fail("kernel \(kernel), strides \(strides), dilations \(dilations) and pads \(pads) must be positive (pads not negative) and at most \(limit)")
        }
        switch string("auto_pad", default: "NOTSET") {
        case "NOTSET": break
        case "VALID": pads = Array(repeating: 0, count: 2 * rank)
        case let mode where mode == "SAME_UPPER" || mode == "SAME_LOWER":
            for axis in 0..<rank {
                let outputs = (input[axis] + strides[axis] - 1) / strides[axis]
                let extent = (kernel[axis] - 1) * dilations[axis] + 1
                let total = Swift.max(0, (outputs - 1) * strides[axis] + extent - input[axis])
                let small = total / 2
                pads[axis] = mode == "SAME_UPPER" ? small : total - small
                pads[axis + rank] = total - pads[axis]
            }
        case let mode: throw fail("auto_pad \(mode) is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
        }
        let window = rank == 1
            ? SlidingWindow(size: (1, kernel[0]), stride: (1, strides[0]), dilation: (1, dilations[0]), padding: (0, pads[0], 0, pads[1]))
            : SlidingWindow(size: (kernel[0], kernel[1]), stride: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]),
                            padding: (pads[0], pads[1], pads[2], pads[3]))
        let spatial = rank == 1 ? [1, input[0]] : input
        for axis in 0..<2 where window.outputSize(axis, input: spatial[axis], ceilMode: ceilMode) == nil {
            throw fail("the window (extent \(window.extent(axis))) does not fit in the padded input of size \(spatial[axis])")
        }
        return window
    }
}
