// What convolution and pooling importers share: the window a node's `strides`, `dilations`,
// `pads` and `auto_pad` describe, and the bound on what a foreign node may make the reader
// allocate.

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
        let (strides, dilations, pads) = try windowParameters(kernel: kernel, input: input)
        return try window(kernel: kernel, strides: strides, dilations: dilations, pads: pads, input: input, ceilMode: ceilMode)
    }

    /// A 3-D window as two: over the last two axes, then over the first (with a width of 1) —
    /// pooling is separable, so pooling with the first and then the second is pooling with the whole.
    public func slidingWindows3D(kernel: [Int], input: [Int], ceilMode: Bool) throws -> (planes: SlidingWindow, depth: SlidingWindow) {
        guard kernel.count == 3, input.count == 3 else { throw fail("a 3-D window needs 3 kernel sizes, got \(kernel)") }
        let (strides, dilations, pads) = try windowParameters(kernel: kernel, input: input)
        let planes = try window(kernel: Array(kernel[1...]), strides: Array(strides[1...]), dilations: Array(dilations[1...]),
                                pads: [pads[1], pads[2], pads[4], pads[5]], input: Array(input[1...]), ceilMode: ceilMode)
        let depth = try window(kernel: [kernel[0], 1], strides: [strides[0], 1], dilations: [dilations[0], 1],
                               pads: [pads[0], 0, pads[3], 0], input: [input[0], 1], ceilMode: ceilMode)
        return (planes, depth)
    }

    /// `strides`, `dilations` and `pads` of a window of `kernel` over `input`, checked, with
    /// `auto_pad` applied.
    func windowParameters(kernel: [Int], input: [Int]) throws -> (strides: [Int], dilations: [Int], pads: [Int]) {
        let rank = kernel.count
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
        return (strides, dilations, pads)
    }

    /// The 1-D or 2-D window of those parameters, checked to fit `input`.
    func window(kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], input: [Int], ceilMode: Bool) throws -> SlidingWindow {
        let rank = kernel.count
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
