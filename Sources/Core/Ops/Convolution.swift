// 2-D convolution as im2col + one sgemm per group, for the whole batch at once: the image
// patches of every sample become the columns of one matrix, so a batch of small images is
// one large product rather than many tiny ones. Backward is two more products per group and
// a col2im. Depthwise convolutions (groups == channels) run a direct kernel instead
// (Kernels/DepthwiseConvolution.swift), and 3×3 stride-1 ones Winograd's F(2×2, 3×3)
// (Kernels/Winograd.swift) for the output and the input's gradient.

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
        conv2d(weight: weight, bias: bias, window: window, groups: groups, activation: nil)
    }

    /// `conv2d` followed by `activation`, applied by the kernels to each piece of the output
    /// while it is still in cache (for inference graphs: nothing may record gradients).
    package func conv2d(weight: Tensor, bias: Tensor?, window: SlidingWindow, groups: Int, activation: FusedActivation?) -> Tensor {
        let problem = Tensor.convolutionProblem(input: shape, weight: weight.shape, bias: bias?.shape, window: window, groups: groups)
        require(problem == nil, "conv2d: \(problem ?? "")")
        let plan = ConvolutionPlan(input: shape, weight: weight.shape, window: window, groups: groups)
        let result = Tensor.uninitialized([plan.batch, plan.outputs, plan.outHeight, plan.outWidth])
        let b = bias?.storage.pointer
        let creators = bias.map { [self, weight, $0] } ?? [self, weight]
        require(activation == nil || !(GradientMode.isRecording && creators.contains(where: \.requiresGrad)),
                "conv2d: a fused activation is for inference only (nothing may record gradients)")
        if plan.isDepthwise {
            Kernels.depthwiseConvolution(storage.pointer, weight: weight.storage.pointer, bias: b, into: result.storage.pointer, batch: plan.batch,
                                         channels: plan.channels, height: plan.height, width: plan.width, outputs: plan.outputs,
                                         outHeight: plan.outHeight, outWidth: plan.outWidth, window: window, activation: activation)
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        let keepsPatches = GradientMode.isRecording && weight.requiresGrad
        if plan.usesDirectKernel(keepsPatches: keepsPatches) {
            Kernels.directConvolution(storage.pointer, weight: weight.storage.pointer, bias: b, into: result.storage.pointer, plan: plan, activation: activation)
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        if plan.usesPackedWeight(keepsPatches: keepsPatches) {
            Kernels.convolutionWithPackedWeight(storage.pointer, weight: weight, bias: b, into: result.storage.pointer, plan: plan, activation: activation)
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        if plan.usesPointwiseKernel {
            // Nothing to keep for backward: the kernel serves training too.
            Kernels.pointwiseConvolution(storage.pointer, weight: weight.storage.pointer, bias: b, into: result.storage.pointer,
                                         plan: plan, activation: activation)
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        if plan.isPointwise && plan.spansPatchBlocks {
            // Nothing to keep for backward: the blocks serve training too.
            Kernels.convolutionInPatchBlocks(storage.pointer, weight: weight.storage.pointer, bias: b, into: result.storage.pointer,
                                             plan: plan, activation: activation)
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        if plan.isPointwise {
            // 1×1, stride 1, no padding: out[n] = W · x[n] on the NCHW data, no patches.
            if let b {
                Kernels.parallelChunks(plan.batch * plan.outputs, grain: Kernels.channelGrain(plan.plane)) { planes in
                    for index in planes { (result.storage.pointer + index * plan.plane).update(repeating: b[index % plan.outputs], count: plan.plane) }
                }
            }
            plan.forEachSample { n in
                Kernels.gemm(transposeA: false, transposeB: false, m: plan.outputs, n: plan.plane, k: plan.channels, alpha: 1,
                             a: weight.storage.pointer, lda: plan.channels, b: storage.pointer + n * plan.channels * plan.plane, ldb: plan.plane,
                             beta: b == nil ? 0 : 1, c: result.storage.pointer + n * plan.outputs * plan.plane, ldc: plan.plane)
                activation?.apply(result.storage.pointer + n * plan.outputs * plan.plane, count: plan.outputs * plan.plane)
            }
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        if let winograd = plan.winograd {
            let transformed = PreparedWeights.form(of: weight, .winogradForward(outputs: plan.outputs, channels: plan.channels)) {
                let transformed = Tensor.uninitialized([16, plan.outputs, plan.channels])
                Kernels.winogradWeights(weight.storage.pointer, outputs: plan.outputs, channels: plan.channels, flipped: false, into: transformed.storage.pointer)
                return transformed
            }
            // ReLU in the output transform; other activations after it.
            Kernels.winogradConvolution(storage.pointer, transformedWeight: transformed.storage.pointer, bias: b, into: result.storage.pointer,
                                        plan: winograd, rectifies: activation == .relu)
            if let activation, activation != .relu { activation.apply(result.storage.pointer, count: result.count) }
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        if plan.spansPatchBlocks && !keepsPatches {
            Kernels.convolutionInPatchBlocks(storage.pointer, weight: weight.storage.pointer, bias: b, into: result.storage.pointer,
                                             plan: plan, activation: activation)
            return result.recorded(.convolution(window, groups: groups), creators)
        }
        var lastCols: Tensor?
        for samples in plan.chunks {
            let columns = samples.count * plan.plane
            let cols = Tensor.uninitialized([plan.rows, columns])
            plan.im2col(storage.pointer, samples: samples, into: cols.storage.pointer)
            // One sample: its [O, P] product is its part of the result, bias filled first.
            let product = samples.count == 1 ? nil : Tensor.uninitialized([plan.outputs, columns])
            let target = product?.storage.pointer ?? result.storage.pointer + samples.lowerBound * plan.outputs * plan.plane
            if product == nil, let b { Kernels.fillRows(target, bias: b, rows: plan.outputs, count: plan.plane, stride: plan.plane) }
            for group in 0..<groups {
                Kernels.gemm(
                    transposeA: false, transposeB: false, m: plan.outputsPerGroup, n: columns, k: plan.rowsPerGroup, alpha: 1,
                    a: weight.storage.pointer + group * plan.outputsPerGroup * plan.rowsPerGroup, lda: plan.rowsPerGroup,
                    b: cols.storage.pointer + group * plan.rowsPerGroup * columns, ldb: columns,
                    beta: product == nil && b != nil ? 1 : 0, c: target + group * plan.outputsPerGroup * columns, ldc: columns)
            }
            if let product {
                // [O, n·P] → [n, O, P], adding the bias on the way.
                let (from, to) = (product.storage.pointer, result.storage.pointer)
                Kernels.parallelChunks(samples.count * plan.outputs, grain: Kernels.channelGrain(plan.plane)) { planes in
                    for index in planes {
                        let (offset, o) = index.quotientAndRemainder(dividingBy: plan.outputs)
                        let source = from + o * columns + offset * plan.plane
                        let target = to + ((samples.lowerBound + offset) * plan.outputs + o) * plan.plane
                        if let b {
                            let shift = b[o]
                            for p in 0..<plan.plane { target[p] = source[p] + shift }
                        } else {
                            target.update(from: source, count: plan.plane)
                        }
                        activation?.apply(target, count: plan.plane)
                    }
                }
            } else {
                activation?.apply(target, count: plan.outputs * plan.plane)
            }
            lastCols = cols
        }
        let recorded = result.recorded(.convolution(window, groups: groups), creators)
        // One chunk: keep its patches for the weight gradient; several: recompute them then.
        if recorded.requiresGrad && weight.requiresGrad && plan.chunks.count == 1 { recorded.savedForBackward = lastCols }
        return recorded
    }

    /// `total[o] += Σₙ Σₚ gradient[n, o, p]` (a bias's gradient), each channel summed plane by
    /// plane in sample order on one thread.
    static func sumPlanes(_ gradient: UnsafePointer<Float>, batch: Int, outputs: Int, plane: Int, into total: UnsafeMutablePointer<Float>) {
        Kernels.parallelChunks(outputs, grain: Kernels.channelGrain(batch * plane)) { chosen in
            for o in chosen {
                for n in 0..<batch {
                    let row = gradient + (n * outputs + o) * plane
                    var sum: Float = 0
                    for p in 0..<plane { sum += row[p] }
                    total[o] += sum
                }
            }
        }
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
        if plan.isDepthwise {
            if let dx {
                Kernels.depthwiseInputGradient(g, weight: weight.storage.pointer, into: dx.storage.pointer, batch: plan.batch, channels: plan.channels,
                                               height: plan.height, width: plan.width, outputs: plan.outputs, outHeight: plan.outHeight,
                                               outWidth: plan.outWidth, window: window)
            }
            if let dw {
                Kernels.depthwiseWeightGradient(g, input: input.storage.pointer, into: dw.storage.pointer, batch: plan.batch, channels: plan.channels,
                                                height: plan.height, width: plan.width, outputs: plan.outputs, outHeight: plan.outHeight,
                                                outWidth: plan.outWidth, window: window)
            }
            if let db { Tensor.sumPlanes(g, batch: plan.batch, outputs: plan.outputs, plane: plan.plane, into: db.storage.pointer) }
            return [dx, dw] + (hasBias ? [db] : [])
        }
        if plan.isPointwise {
            // dx[n] = Wᵀ · dY[n]; dW = Σₙ dY[n] · x[n]ᵀ, added in sample order; db = Σ dY.
            if let dx {
                plan.forEachSample { n in
                    Kernels.gemm(transposeA: true, transposeB: false, m: plan.channels, n: plan.plane, k: plan.outputs, alpha: 1,
                                 a: weight.storage.pointer, lda: plan.channels, b: g + n * plan.outputs * plan.plane, ldb: plan.plane,
                                 beta: 0, c: dx.storage.pointer + n * plan.channels * plan.plane, ldc: plan.plane)
                }
            }
            if let dw {
                for n in 0..<plan.batch {
                    Kernels.gemm(transposeA: false, transposeB: true, m: plan.outputs, n: plan.channels, k: plan.plane, alpha: 1,
                                 a: g + n * plan.outputs * plan.plane, lda: plan.plane, b: input.storage.pointer + n * plan.channels * plan.plane,
                                 ldb: plan.plane, beta: 1, c: dw.storage.pointer, ldc: plan.channels)
                }
            }
            if let db { Tensor.sumPlanes(g, batch: plan.batch, outputs: plan.outputs, plane: plan.plane, into: db.storage.pointer) }
            return [dx, dw] + (hasBias ? [db] : [])
        }
        // F(2×2, 3×3) for the input's gradient too: a convolution of dY with the flipped,
        // transposed kernel and pads 2 − p. The weight's gradient stays im2col + sgemm.
        let winograd = plan.winograd
        if let winograd, let dx {
            let flipped = WinogradPlan(
                batch: plan.batch, channels: plan.outputs, height: plan.outHeight, width: plan.outWidth, outputs: plan.channels,
                outHeight: plan.height, outWidth: plan.width, padTop: 2 - winograd.padTop, padLeft: 2 - winograd.padLeft)
            let transformed = Tensor.uninitialized([16, plan.channels, plan.outputs])
            Kernels.winogradWeights(weight.storage.pointer, outputs: plan.outputs, channels: plan.channels, flipped: true, into: transformed.storage.pointer)
            Kernels.winogradConvolution(g, transformedWeight: transformed.storage.pointer, bias: nil, into: dx.storage.pointer, plan: flipped)
        }
        guard dw != nil || db != nil || (dx != nil && winograd == nil) else { return [dx, dw] + (hasBias ? [db] : []) }
        for samples in plan.chunks {
            let columns = samples.count * plan.plane
            // dY of these samples as [O, n·P], the layout of the forward product.
            let upstream = Tensor.uninitialized([plan.outputs, columns])
            let u = upstream.storage.pointer
            Kernels.parallelChunks(samples.count * plan.outputs, grain: Kernels.channelGrain(plan.plane)) { planes in
                for index in planes {
                    let (offset, o) = index.quotientAndRemainder(dividingBy: plan.outputs)
                    (u + o * columns + offset * plan.plane).update(from: g + ((samples.lowerBound + offset) * plan.outputs + o) * plan.plane, count: plan.plane)
                }
            }
            if let db {
                let total = db.storage.pointer
                Kernels.parallelChunks(plan.outputs, grain: Kernels.channelGrain(columns)) { outputs in
                    for o in outputs {
                        let row = u + o * columns
                        var sum: Float = 0
                        for p in 0..<columns { sum += row[p] }
                        total[o] += sum
                    }
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
            if let dx, winograd == nil {
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

    /// A 3-D `Conv` node, checked (the 2-D checks on the planes, the depth's and the sizes made).
    private static func convolution3D(_ node: ImportNode, _ x: Tensor, _ w: Tensor, _ bias: Tensor?) throws -> Tensor {
        let kernel = Array(w.shape[2...])
        if let declared = node.ints("kernel_shape"), declared != kernel { throw node.fail("kernel_shape \(declared) differs from the weight's \(kernel)") }
        let (planes, depth) = try node.slidingWindows3D(kernel: kernel, input: Array(x.shape[2...]), ceilMode: false)
        let groups = node.int("group", default: 1)
        let planeInput = [x.shape[0], x.shape[1], x.shape[3], x.shape[4]]
        if let problem = convolutionProblem(input: planeInput, weight: [w.shape[0], w.shape[1], w.shape[3], w.shape[4]], bias: bias?.shape, window: planes, groups: groups) {
            throw node.fail(problem)
        }
        let outputs = [depth.outputSize(0, input: x.shape[2])!, planes.outputSize(0, input: x.shape[3])!, planes.outputSize(1, input: x.shape[4])!]
        try node.checkMadeSize([x.shape[0], w.shape[0]] + outputs, "output")
        try node.checkMadeSize([x.shape[0], x.shape[1], outputs[0], x.shape[3], x.shape[4]], "input positions one kernel depth reads")
        try node.checkMadeSize([w.shape[1] * groups, w.shape[3], w.shape[4], outputs[0] * outputs[1] * outputs[2]], "image patches of one sample")
        return x.conv3d(weight: w, bias: bias, depth: depth, planes: planes, groups: groups)
    }

    /// `Conv` on `[N, C, L]` (1-D, run as 2-D with a height of 1), `[N, C, H, W]` or
    /// `[N, C, D, H, W]` (`conv3d`), with `pads`, `auto_pad`, `strides`, `dilations` and `group`.
    static let convolutionImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Conv", reads: ["kernel_shape", "group", "pads", "strides", "dilations", "auto_pad"]) { node in
            let x = try node.tensor(0)
            let w = try node.tensor(1)
            let bias = node.has(2) ? try node.tensor(2) : nil
            guard (3...5).contains(x.rank), w.rank == x.rank else {
                throw node.fail("Synapse convolves 1-D, 2-D and 3-D inputs: input \(describe(x.shape)), weight \(describe(w.shape))")
            }
            if x.rank == 5 {
                let y = try convolution3D(node, x, w, bias)
                return [.tensor(node.fusedActivation.map(y.activatedInPlaceIfUnshared) ?? y)]
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
            let y = input.conv2d(weight: weight, bias: bias, window: window, groups: groups, activation: node.fusedActivation)
            return [.tensor(oneDimensional ? y.squeezed(dim: 2) : y)]
        }.applyingFusedActivation(),
    ]
}
