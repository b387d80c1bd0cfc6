// ONNX's ConvTranspose (1-D and 2-D) as the convolution it is the gradient of: the input
// spread out by the stride (zeros between its elements) and padded by dilation·(k − 1) − pad
// (a negative pad crops), then convolved with the kernel flipped and its channel axes swapped
// per group. The spread-and-pad is one `ElementMap` pick, so the whole node trains through
// Synapse's convolution.

extension Tensor {
    static let convTransposeImporters: [ImporterDeclaration] = [
        ImporterDeclaration("ConvTranspose", opsets: 11...Int.max, reads: [
            "auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides",
        ]) { node in
            let (x0, w0) = (try node.tensor(0), try node.tensor(1))
            let bias = node.has(2) ? try node.tensor(2) : nil
            guard x0.rank == 3 || x0.rank == 4, w0.rank == x0.rank else {
                throw node.fail("Synapse runs 1-D and 2-D ConvTranspose: input \(describe(x0.shape)), weight \(describe(w0.shape))")
            }
            let oneDimensional = x0.rank == 3
            let (x, w) = oneDimensional ? (x0.unsqueezed(dim: 2), w0.unsqueezed(dim: 2)) : (x0, w0)
            let spatial = oneDimensional ? 1 : 2
            func perAxis(_ name: String, _ fallback: Int) throws -> [Int] {
                let values = node.ints(name) ?? Array(repeating: fallback, count: spatial)
                guard values.count == spatial else { throw node.fail("\(name) must give \(spatial) values, got \(values)") }
                return oneDimensional ? [fallback == 1 ? 1 : 0] + values : values
            }
            let groups = node.int("group", default: 1)
            let (n, channels, cout) = (x.shape[0], x.shape[1], w.shape[1] * groups)
            guard groups >= 1, channels == w.shape[0], channels % groups == 0 else {
                throw node.fail("weight \(describe(w0.shape)) needs [C, M/group, k…] for an input of \(channels) channels in \(groups) groups")
            }
            let kernel = Array(w.shape[2...])
            let (strides, dilations, outputPadding) = (try perAxis("strides", 1), try perAxis("dilations", 1), try perAxis("output_padding", 0))
            guard (strides + dilations).allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }), outputPadding.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else {
                throw node.fail("strides and dilations must be positive and output_padding not negative")
            }
            let input = Array(x.shape[2...])
            // Pads: given, or (auto_pad SAME_*, or output_shape) worked out from the wanted size.
            var pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
            guard pads.count == 2 * spatial, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else { throw node.fail("pads must give \(2 * spatial) values, not negative") }
            if oneDimensional { pads = [0, pads[0], 0, pads[1]] }
            let full: [Int] = (0..<2).map { axis -> Int in
                let spreadInput: Int = (input[axis] - 1) * strides[axis]
                return spreadInput + dilations[axis] * (kernel[axis] - 1) + 1 + outputPadding[axis]
            }
            let autoPad = node.string("auto_pad", default: "NOTSET")
            var wanted: [Int]?
            if var shape = node.ints("output_shape") {
                if shape.count == spatial + 2 { shape = Array(shape.dropFirst(2)) }
                guard shape.count == spatial else { throw node.fail("output_shape must give \(spatial) sizes") }
                wanted = oneDimensional ? [1] + shape : shape
            } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                wanted = (0..<2).map { input[$0] * strides[$0] }
            } else if autoPad != "NOTSET" && autoPad != "VALID" {
                throw node.fail("auto_pad \"\(autoPad)\" (NOTSET, SAME_UPPER, SAME_LOWER or VALID)")
            }
            if let wanted {
                for axis in 0..<2 {
                    // Negative when the wanted size is larger: the extra positions past the end read zeros.
                    let total = full[axis] - wanted[axis]
                    let (small, large) = (total / 2, total - total / 2)
                    (pads[axis], pads[axis + 2]) = autoPad == "SAME_LOWER" ? (large, small) : (small, large)
                }
            }
            let output = (0..<2).map { full[$0] - pads[$0] - pads[$0 + 2] }
            guard output.allSatisfy({ $0 > 0 && $0 < 1 << 24 }) else { throw node.fail("the output size \(output) is empty or too large") }
            // The spread, padded input: position p along an axis reads input (p − before) / stride
            // where that divides exactly, zero elsewhere.
            let before = (0..<2).map { dilations[$0] * (kernel[$0] - 1) - pads[$0] }
            let spreadShape: [Int] = [n, channels] + (0..<2).map { axis -> Int in output[axis] + dilations[axis] * (kernel[axis] - 1) }
            try node.checkMadeSize(spreadShape, "spread input")
            let inputStrides = rowMajorStrides(x.shape)
            let spread = try node.remapped([.tensor(x)], into: spreadShape) { index in
                var position = index[0] * inputStrides[0] + index[1] * inputStrides[1]
                for axis in 0..<2 {
                    let offset = index[axis + 2] - before[axis]
                    guard offset >= 0, offset % strides[axis] == 0, offset / strides[axis] < input[axis] else { return nil }
                    position += offset / strides[axis] * inputStrides[axis + 2]
                }
                return position
            }.asTensor
            // The kernel flipped, [C, M/g, kH, kW] → [M, C/g, kH, kW] group by group.
            let (inPerGroup, outPerGroup) = (channels / groups, cout / groups)
            let flippedShape = [cout, inPerGroup] + kernel
            let weightStrides = rowMajorStrides(w.shape)
            let flipped = try node.remapped([.tensor(w)], into: flippedShape) { index in
                let (group, m) = (index[0] / outPerGroup, index[0] % outPerGroup)
                let c = group * inPerGroup + index[1]
                let channelOffset: Int = c * weightStrides[0] + m * weightStrides[1]
                return channelOffset + (kernel[0] - 1 - index[2]) * weightStrides[2] + (kernel[1] - 1 - index[3]) * weightStrides[3]
            }.asTensor
            let window = SlidingWindow(size: (kernel[0], kernel[1]), dilation: (dilations[0], dilations[1]))
            if let problem = convolutionProblem(input: spread.shape, weight: flipped.shape, bias: bias?.shape, window: window, groups: groups) {
                throw node.fail(problem)
            }
            let y = spread.conv2d(weight: flipped, bias: bias, window: window, groups: groups)
            return [.tensor(oneDimensional ? y.squeezed(dim: 2) : y)]
        },
    ]
}
