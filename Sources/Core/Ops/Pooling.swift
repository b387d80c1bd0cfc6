// Max and average pooling over `[N, C, H, W]`. Max pooling keeps the position of each
// window's maximum for the backward (the gradient goes to the first maximum, as PyTorch's
// CPU kernel picks it); average pooling spreads the gradient evenly over its window.

extension Tensor {
    /// The largest value in each window (PyTorch's `max_pool2d`) of `[N, C, H, W]`; padding
    /// never wins. `ceilMode` keeps a last partial window (see `SlidingWindow.outputSize`).
    public func maxPool2d(window: SlidingWindow, ceilMode: Bool = false) -> Tensor {
        let (n, channels, outHeight, outWidth) = poolingShape(window, ceilMode: ceilMode, op: "maxPool2d")
        let (height, width) = (shape[2], shape[3])
        let result = Tensor.uninitialized([n, channels, outHeight, outWidth])
        let x = storage.pointer
        let y = result.storage.pointer
        let (dy, dx) = (window.dilation(0), window.dilation(1))
        let plain2x2 = window.isPlainTiling(height: height, width: width, outHeight: outHeight, outWidth: outWidth)
            && window.size(0) == 2 && window.size(1) == 2
        if !plain2x2 && !(GradientMode.isRecording && requiresGrad) {
            Kernels.maxPoolValues(x, y, planes: n * channels, height: height, width: width, outHeight: outHeight, outWidth: outWidth, window: window)
            return result
        }
        let positions = Tensor.uninitialized(result.shape)
        let where_ = positions.storage.pointer
        if plain2x2 {
            Kernels.maxPool2x2(x, y, where_, planes: n * channels, height: height, width: width, outHeight: outHeight, outWidth: outWidth)
            let recorded = result.recorded(.maxPool(window), [self])
            if recorded.requiresGrad { recorded.savedForBackward = positions }
            return recorded
        }
        let columnTaps = (0..<outWidth).map { window.validTaps(1, output: $0, input: width) }
        Kernels.parallelChunks(n * channels, grain: Kernels.channelGrain(outHeight * outWidth * window.size(0) * window.size(1))) { planes in
            for plane in planes {
                let image = x + plane * height * width
                let out = y + plane * outHeight * outWidth
                let at = where_ + plane * outHeight * outWidth
                for oy in 0..<outHeight {
                    let rows = window.validTaps(0, output: oy, input: height)
                    for ox in 0..<outWidth {
                        let columns = columnTaps[ox]
                        var best = -Float.infinity
                        var position = -1
                        for i in rows.start..<rows.end {
                            let row = (rows.origin + i * dy) * width
                            for j in columns.start..<columns.end {
                                let index = row + columns.origin + j * dx
                                let value = image[index]
                                if value > best || value.isNaN || position < 0 {
                                    best = value
                                    position = index
                                    if value.isNaN { break }
                                }
                            }
                        }
                        out[oy * outWidth + ox] = best
                        at[oy * outWidth + ox] = Float(position)
                    }
                }
            }
        }
        let recorded = result.recorded(.maxPool(window), [self])
        if recorded.requiresGrad { recorded.savedForBackward = positions }
        return recorded
    }

    /// `maxPool2d` with a square or rectangular kernel; `stride` defaults to the kernel size.
    public func maxPool2d(
        kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
        ceilMode: Bool = false
    ) -> Tensor {
        maxPool2d(window: SlidingWindow(size: kernelSize, stride: stride ?? kernelSize, dilation: dilation,
                                        padding: (padding.0, padding.1, padding.0, padding.1)), ceilMode: ceilMode)
    }

    /// The mean of each window (PyTorch's `avg_pool2d`) of `[N, C, H, W]`. With
    /// `countIncludePad` the divisor counts the padding inside the window (but not the part of
    /// a `ceilMode` window past the padding), as PyTorch does; otherwise only input positions.
    public func avgPool2d(window: SlidingWindow, ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
        let (n, channels, outHeight, outWidth) = poolingShape(window, ceilMode: ceilMode, op: "avgPool2d")
        let (height, width) = (shape[2], shape[3])
        let result = Tensor.uninitialized([n, channels, outHeight, outWidth])
        let x = storage.pointer
        let y = result.storage.pointer
        let divisors = averageDivisors(window, outHeight: outHeight, outWidth: outWidth, countIncludePad: countIncludePad)
        let (dy, dx) = (window.dilation(0), window.dilation(1))
        for plane in 0..<(n * channels) {
            let image = x + plane * height * width
            let out = y + plane * outHeight * outWidth
            for oy in 0..<outHeight {
                let rows = window.validTaps(0, output: oy, input: height)
                for ox in 0..<outWidth {
                    let columns = window.validTaps(1, output: ox, input: width)
                    var total: Float = 0
                    for i in rows.start..<rows.end {
                        let row = image + (rows.origin + i * dy) * width + columns.origin
                        for j in columns.start..<columns.end { total += row[j * dx] }
                    }
                    out[oy * outWidth + ox] = total / divisors[oy * outWidth + ox]
                }
            }
        }
        return result.recorded(.averagePool(window, countIncludePad: countIncludePad), [self])
    }

    /// `avgPool2d` with a square or rectangular kernel; `stride` defaults to the kernel size.
    public func avgPool2d(
        kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), ceilMode: Bool = false,
        countIncludePad: Bool = true
    ) -> Tensor {
        avgPool2d(window: SlidingWindow(size: kernelSize, stride: stride ?? kernelSize, padding: (padding.0, padding.1, padding.0, padding.1)),
                  ceilMode: ceilMode, countIncludePad: countIncludePad)
    }

    /// `[N, C, H′, W′]` for pooling this tensor, after checking it.
    private func poolingShape(_ window: SlidingWindow, ceilMode: Bool, op: String) -> (Int, Int, Int, Int) {
        require(rank == 4, "\(op): input must be [N, C, H, W], got \(describe(shape))")
        guard let outHeight = window.outputSize(0, input: shape[2], ceilMode: ceilMode),
              let outWidth = window.outputSize(1, input: shape[3], ceilMode: ceilMode)
        else { misuse("\(op): the \(window.extent(0))×\(window.extent(1)) window does not fit in the padded input \(describe(shape))") }
        require(
            window.padBefore(0) < window.extent(0) && window.padBefore(1) < window.extent(1)
                && window.padAfter(0) < window.extent(0) && window.padAfter(1) < window.extent(1),
            "\(op): padding must be smaller than the window (a window of padding alone has no value)")
        return (shape[0], shape[1], outHeight, outWidth)
    }

    /// Each output position's divisor for average pooling of this tensor.
    private func averageDivisors(_ window: SlidingWindow, outHeight: Int, outWidth: Int, countIncludePad: Bool) -> [Float] {
        let input = [shape[2], shape[3]]
        func counts(_ axis: Int, _ outputs: Int) -> [Int] {
            (0..<outputs).map { o in
                if countIncludePad {
                    // Window positions inside [−padBefore, input + padAfter), PyTorch's rule.
                    let origin = o * window.stride(axis) - window.padBefore(axis)
                    let limit = input[axis] + window.padAfter(axis)
                    return (0..<window.size(axis)).filter { origin + $0 * window.dilation(axis) < limit }.count
                }
                let taps = window.validTaps(axis, output: o, input: input[axis])
                return taps.end - taps.start
            }
        }
        let rows = counts(0, outHeight)
        let columns = counts(1, outWidth)
        return rows.flatMap { r in columns.map { Float(Swift.max(r * $0, 1)) } }
    }

    /// Each output's gradient to the position of its window's maximum.
    func maxPoolBackward(_ gradient: Tensor) -> Tensor {
        let input = creators[0]
        let result = Tensor(shape: input.shape, repeating: 0)
        let planeIn = input.shape[2] * input.shape[3]
        let planeOut = shape[2] * shape[3]
        let g = gradient.storage.pointer
        let at = savedForBackward!.storage.pointer
        let dx = result.storage.pointer
        for plane in 0..<(shape[0] * shape[1]) {
            let target = dx + plane * planeIn
            for k in 0..<planeOut {
                let position = Int(at[plane * planeOut + k])
                if position >= 0 { target[position] += g[plane * planeOut + k] }
            }
        }
        return result
    }

    /// Each output's gradient divided by its divisor, added to every input of its window.
    func averagePoolBackward(_ gradient: Tensor, window: SlidingWindow, countIncludePad: Bool) -> Tensor {
        let input = creators[0]
        let (height, width) = (input.shape[2], input.shape[3])
        let (outHeight, outWidth) = (shape[2], shape[3])
        let result = Tensor(shape: input.shape, repeating: 0)
        let divisors = input.averageDivisors(window, outHeight: outHeight, outWidth: outWidth, countIncludePad: countIncludePad)
        let g = gradient.storage.pointer
        let dx = result.storage.pointer
        let (dy, dxStep) = (window.dilation(0), window.dilation(1))
        for plane in 0..<(shape[0] * shape[1]) {
            let image = dx + plane * height * width
            let upstream = g + plane * outHeight * outWidth
            for oy in 0..<outHeight {
                let rows = window.validTaps(0, output: oy, input: height)
                for ox in 0..<outWidth {
                    let columns = window.validTaps(1, output: ox, input: width)
                    let share = upstream[oy * outWidth + ox] / divisors[oy * outWidth + ox]
                    for i in rows.start..<rows.end {
                        let row = image + (rows.origin + i * dy) * width + columns.origin
                        for j in columns.start..<columns.end { row[j * dxStep] += share }
                    }
                }
            }
        }
        return result
    }
}

extension SlidingWindow {
    /// Whether windows tile the image without padding, dilation or a partial window: stride
    /// equal to the size, so each input position belongs to at most one window.
    func isPlainTiling(height: Int, width: Int, outHeight: Int, outWidth: Int) -> Bool {
        stride(0) == size(0) && stride(1) == size(1) && dilation(0) == 1 && dilation(1) == 1
            && padBefore(0) == 0 && padBefore(1) == 0 && outHeight * size(0) <= height && outWidth * size(1) <= width
    }
}

// MARK: Export and import

extension Tensor {
    /// `MaxPool` or `AveragePool` with the window's attributes (`ceil_mode` when the traced
    /// output is larger than the floor rule gives); a mean over the whole unpadded image is
    /// `GlobalAveragePool`.
    static func exportPooling(_ opType: String, window: SlidingWindow, countIncludePad: Bool?, _ site: ExportSite) -> [ExportNode] {
        let input = site.shapes[0]
        let a = window.onnxAttributes
        if opType == "AveragePool", a.kernel == [input[2], input[3]], a.pads.allSatisfy({ $0 == 0 }), site.outputShape[2...] == [1, 1] {
            return [ExportNode("GlobalAveragePool", site.inputs, [site.output])]
        }
        let floor = (0..<2).map { window.outputSize($0, input: input[2 + $0])! }
        var attributes: [String: ExportAttribute] = [
            "kernel_shape": .ints(a.kernel), "strides": .ints(a.strides), "pads": .ints(a.pads),
            "ceil_mode": .int(Array(site.outputShape[2...]) == floor ? 0 : 1),
        ]
        if let countIncludePad {
            attributes["count_include_pad"] = .int(countIncludePad ? 1 : 0)
            if a.dilations != [1, 1] { attributes["dilations"] = .ints(a.dilations) }
        } else {
            attributes["dilations"] = .ints(a.dilations)
        }
        return [ExportNode(opType, site.inputs, [site.output], attributes)]
    }

    /// MaxPool's Indices output: where each window's largest element is (the first of equal
    /// ones, padding never chosen), as a flat position in `input` `[N, C, H, W]` — row-major,
    /// or with H and W swapped (`storage_order` 1).
    static func maxPoolIndices(_ input: Tensor, window: SlidingWindow, outputHeight: Int, outputWidth: Int, columnMajor: Bool) -> [Int] {
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let x = input.scalars
        var result = [Int](repeating: 0, count: planes * outputHeight * outputWidth)
        for plane in 0..<planes {
            let base = plane * height * width
            for oh in 0..<outputHeight {
                for ow in 0..<outputWidth {
                    var best: (value: Float, h: Int, w: Int)?
                    for kh in 0..<window.size(0) {
                        let h = oh * window.stride(0) - window.padBefore(0) + kh * window.dilation(0)
                        guard h >= 0 && h < height else { continue }
                        for kw in 0..<window.size(1) {
                            let w = ow * window.stride(1) - window.padBefore(1) + kw * window.dilation(1)
                            guard w >= 0 && w < width else { continue }
                            if best == nil || x[base + h * width + w] > best!.value { best = (x[base + h * width + w], h, w) }
                        }
                    }
                    let (h, w) = best.map { ($0.h, $0.w) } ?? (0, 0)
                    result[(plane * outputHeight + oh) * outputWidth + ow] = base + (columnMajor ? h + w * height : h * width + w)
                }
            }
        }
        return result
    }

    /// `MaxPool`, `AveragePool` (1-D or 2-D, `auto_pad`, asymmetric `pads`, `ceil_mode`,
    /// `count_include_pad`), `GlobalAveragePool` and `GlobalMaxPool`.
    static let poolingImporters: [ImporterDeclaration] = {
        @Sendable func windowed(_ average: Bool) -> OpImporter {
            { node in
                let x = try node.tensor(0)
                guard x.rank >= 3 && x.rank <= 5 else { throw node.fail("Synapse pools 1-D, 2-D and 3-D inputs, got \(describe(x.shape))") }
                guard let kernel = node.ints("kernel_shape"), kernel.count == x.rank - 2 else {
                    throw node.fail("kernel_shape must give \(x.rank - 2) sizes")
                }
                let columnMajor = node.int("storage_order", default: 0) != 0
                guard node.outputCount == 1 || x.rank < 5 else { throw node.fail("the Indices output of a 3-D MaxPool is not implemented") }
                let ceilMode = node.int("ceil_mode", default: 0) != 0
                let countIncludePad = node.int("count_include_pad", default: 0) != 0
                func checkPads(_ window: SlidingWindow) throws {
                    for axis in 0..<2 where window.padBefore(axis) >= window.extent(axis) || window.padAfter(axis) >= window.extent(axis) {
                        throw node.fail("pads must be smaller than the window")
                    }
                }
                func pool(_ input: Tensor, _ window: SlidingWindow) -> Tensor {
                    average ? input.avgPool2d(window: window, ceilMode: ceilMode, countIncludePad: countIncludePad) : input.maxPool2d(window: window, ceilMode: ceilMode)
                }
                if x.rank == 5 {
                    // Separable: over (H, W) for every depth, then over D; the divisor without
                    // padding is the product of each step's count, as the whole window's is.
                    let (n, c, d, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
                    let (planes, depth) = try node.slidingWindows3D(kernel: kernel, input: [d, h, w], ceilMode: ceilMode)
                    try checkPads(planes)
                    try checkPads(depth)
                    let (h2, w2) = (planes.outputSize(0, input: h, ceilMode: ceilMode)!, planes.outputSize(1, input: w, ceilMode: ceilMode)!)
                    let d2 = depth.outputSize(0, input: d, ceilMode: ceilMode)!
                    try node.checkMadeSize([n, c * d, h2, w2], "output")
                    let first = pool(x.reshaped([n, c * d, h, w]), planes)
                    let second = pool(first.reshaped([n, c, d, h2 * w2]), depth)
                    return [.tensor(second.reshaped([n, c, d2, h2, w2]))]
                }
                let window = try node.slidingWindow(kernel: kernel, input: Array(x.shape[2...]), ceilMode: ceilMode)
                try checkPads(window)
                let input = x.rank == 3 ? x.unsqueezed(dim: 2) : x
                try node.checkMadeSize(
                    [input.shape[0], input.shape[1], window.outputSize(0, input: input.shape[2], ceilMode: ceilMode)!,
                     window.outputSize(1, input: input.shape[3], ceilMode: ceilMode)!], "output")
                let y = pool(input, window)
                let pooled = x.rank == 3 ? y.squeezed(dim: 2) : y
                guard node.outputCount == 2 else { return [.tensor(pooled)] }
                let indices = Tensor.maxPoolIndices(input, window: window, outputHeight: y.shape[2], outputWidth: y.shape[3], columnMajor: columnMajor)
                return [.tensor(pooled), .integers(indices, shape: pooled.shape)]
            }
        }
        @Sendable func global(_ average: Bool) -> OpImporter {
            { node in
                let x = try node.tensor(0)
                guard x.rank >= 3, x.shape[2...].allSatisfy({ $0 > 0 }) else {
                    throw node.fail("input must be [N, C, spatial…] with non-empty spatial sizes, got \(describe(x.shape))")
                }
                let spatial = x.shape[2...].reduce(1, *)
                let flat = x.reshaped([x.shape[0], x.shape[1], 1, spatial])
                let pooled = average
                    ? flat.avgPool2d(window: SlidingWindow(size: (1, spatial)))
                    : flat.maxPool2d(window: SlidingWindow(size: (1, spatial)))
                return [.tensor(pooled.reshaped(Array(x.shape[..<2]) + Array(repeating: 1, count: x.rank - 2)))]
            }
        }
        // (Σ |x|ᵖ over the window)^(1/p): the average with padding counted, times the window's size.
        func lp(_ isGlobal: Bool) -> OpImporter {
            { node in
                let x = try node.tensor(0)
                let p = node.int("p", default: 2)
                guard p >= 1 && p <= 16 else { throw node.fail("p must be in 1...16, got \(p)") }
                let powered = p == 1 ? x.absComposed() : p == 2 ? x * x : x.absComposed().pow(Float(p))
                var pooledNode = node
                pooledNode.inputs = [.tensor(powered)]
                let size: Int
                if isGlobal {
                    guard x.rank >= 3 else { throw node.fail("input must be [N, C, spatial…], got \(describe(x.shape))") }
                    size = x.shape[2...].reduce(1, *)
                } else {
                    pooledNode.attributes["count_include_pad"] = .int(1)
                    size = (node.ints("kernel_shape") ?? []).reduce(1, *)
                }
                let summed = try (isGlobal ? global(true) : windowed(true))(pooledNode)[0].asTensor * Float(size)
                return [.tensor(p == 1 ? summed : summed.pow(1 / Float(p)))]
            }
        }
        let window: Set<String> = ["kernel_shape", "ceil_mode", "pads", "strides", "dilations", "auto_pad"]
        return [
            ImporterDeclaration("MaxPool", reads: window.union(["storage_order"]), run: windowed(false)),
            ImporterDeclaration("AveragePool", reads: window.union(["count_include_pad"]), run: windowed(true)),
            ImporterDeclaration("GlobalAveragePool", run: global(true)), ImporterDeclaration("GlobalMaxPool", run: global(false)),
            ImporterDeclaration("LpPool", opsets: 11...Int.max, reads: window.union(["p"]), run: lp(false)),
            ImporterDeclaration("GlobalLpPool", opsets: 2...Int.max, reads: ["p"], run: lp(true)),
        ]
    }()
}
