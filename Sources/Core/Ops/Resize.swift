// ONNX's Resize (and the older Upsample): nearest, linear and cubic interpolation in any
// number of axes, with the coordinate modes PyTorch's exporters write (half_pixel,
// pytorch_half_pixel, align_corners, asymmetric) and half_pixel_symmetric. Interpolation is
// separable, so each output element is a weighted sum of the inputs at the product of each
// axis's taps: one `ElementMap`, whose backward spreads the gradient with the same weights.

/// How one axis is resized: for each output coordinate, the input indices it reads and their weights.
struct ResizeAxis {
    var taps: [[(index: Int, weight: Float)]]

    /// The taps of an axis of `input` elements resized to `output` at `scale`.
    init(input: Int, output: Int, scale: Float, mode: String, coordinates: String, nearest: String, cubicA: Float, excludeOutside: Bool) throws(ResizeError) {
        if input == output && scale == 1 {
            taps = (0..<output).map { [($0, 1)] }
            return
        }
        // ONNX measures the resized length as input · scale, unrounded, when scales are given.
        let resizedLength = Float(input) * scale
        func original(_ x: Int) throws(ResizeError) -> Float {
            let x = Float(x)
            switch coordinates {
            case "half_pixel": return (x + 0.5) / scale - 0.5
            case "pytorch_half_pixel": return resizedLength > 1 ? (x + 0.5) / scale - 0.5 : 0
            case "align_corners": return resizedLength == 1 ? 0 : x * Float(input - 1) / (resizedLength - 1)
            case "asymmetric": return x / scale
            case "half_pixel_symmetric":
                let adjustment = Float(output) / (scale * Float(input))
                return Float(input) / 2 * (1 - adjustment) + (x + 0.5) / scale - 0.5
            default: throw ResizeError("coordinate_transformation_mode \"\(coordinates)\" (half_pixel, pytorch_half_pixel, align_corners, asymmetric or half_pixel_symmetric)")
            }
        }
        func clamped(_ i: Int) -> Int { Swift.min(Swift.max(i, 0), input - 1) }
        var taps: [[(index: Int, weight: Float)]] = []
        for o in 0..<output {
            let x = try original(o)
            switch mode {
            case "nearest":
                let i: Float = switch nearest {
                case "round_prefer_floor": (x - 0.5).rounded(.up)
                case "round_prefer_ceil": (x + 0.5).rounded(.down)
                case "floor": x.rounded(.down)
                case "ceil": x.rounded(.up)
                default: throw ResizeError("nearest_mode \"\(nearest)\" (round_prefer_floor, round_prefer_ceil, floor or ceil)")
                }
                taps.append([(clamped(Int(i)), 1)])
            case "linear":
                let low = x.rounded(.down)
                let t = x - low
                taps.append([(clamped(Int(low)), 1 - t), (clamped(Int(low) + 1), t)])
            case "cubic":
                let low = x.rounded(.down)
                let t = x - low
                let a = cubicA
                let distances = [t + 1, t, 1 - t, 2 - t]
                var weights = distances.map { d -> Float in
                    d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
                }
                let indices = (-1...2).map { Int(low) + $0 }
                if excludeOutside {
                    for k in 0..<4 where indices[k] < 0 || indices[k] >= input { weights[k] = 0 }
                    let total = weights.reduce(0, +)
                    if total != 0 { weights = weights.map { $0 / total } }
                }
                taps.append((0..<4).map { (clamped(indices[$0]), weights[$0]) })
            default:
                throw ResizeError("mode \"\(mode)\" (nearest, linear or cubic)")
            }
        }
        self.taps = taps
    }
}

struct ResizeError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

extension ImportNode {
    /// `x` resized to `sizes` along every axis (`scales` as the coordinate transform uses them).
    func resized(_ x: GraphValue, sizes: [Int], scales: [Float]) throws -> GraphValue {
        let shape = x.shape
        guard let count = elementCount(sizes), count <= OpImport.largestMadeValue else {
            throw fail("a result of shape \(describe(sizes)) is too large")
        }
        let axes: [ResizeAxis]
        do {
            axes = try (0..<shape.count).map { axis throws(ResizeError) in
                try ResizeAxis(
                    input: shape[axis], output: sizes[axis], scale: scales[axis], mode: string("mode", default: "nearest"),
                    coordinates: opType == "Upsample" ? "asymmetric" : string("coordinate_transformation_mode", default: "half_pixel"),
                    nearest: opType == "Upsample" ? "floor" : string("nearest_mode", default: "round_prefer_floor"),
                    cubicA: float("cubic_coeff_a", default: -0.75), excludeOutside: int("exclude_outside", default: 0) != 0)
            }
        } catch {
            throw fail(error.reason)
        }
        let tapCount = axes.reduce(1) { $0 * ($1.taps.first?.count ?? 1) }
        let strides = rowMajorStrides(shape)
        var (sources, weights) = ([Int](), [Float]())
        sources.reserveCapacity(count * tapCount)
        weights.reserveCapacity(count * tapCount)
        forEachIndex(sizes) { index in
            // The product of each axis's taps.
            var partial: [(position: Int, weight: Float)] = [(0, 1)]
            for axis in 0..<index.count {
                let axisTaps = axes[axis].taps[index[axis]]
                partial = partial.flatMap { p in axisTaps.map { (p.position + $0.index * strides[axis], p.weight * $0.weight) } }
            }
            for tap in partial { sources.append(tap.position); weights.append(tap.weight) }
        }
        let input = x.asTensor
        let result = Tensor.apply(ElementMap(shape: sizes, taps: tapCount, sources: sources, weights: weights, fill: 0), [input])
        guard case .integers(_, _, let type) = x else { return .tensor(result) }
        return .integers(result.scalars.map { type.wrap(Int($0.rounded())) }, shape: sizes, type: type)
    }
}

extension Tensor {
    static let resizeImporters: [ImporterDeclaration] = [
        ImporterDeclaration("Resize", opsets: 11...Int.max, reads: [
            "mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "axes", "keep_aspect_ratio_policy",
        ]) { node in
            let x = try node.value(0)
            let rank = x.shape.count
            let axes = try (node.ints("axes") ?? Array(0..<rank)).map { try node.axis($0, rank: rank) }
            var (sizes, scales) = (x.shape, [Float](repeating: 1, count: rank))
            if node.has(3), let given = try node.integers(3), !given.isEmpty {
                guard given.count == axes.count, given.allSatisfy({ $0 > 0 }) else { throw node.fail("sizes must give a positive size for each of \(axes.count) axes") }
                var wanted = x.shape
                for (axis, size) in zip(axes, given) { wanted[axis] = size }
                let policy = node.string("keep_aspect_ratio_policy", default: "stretch")
                if policy != "stretch" {
                    // One scale for every resized axis: the smallest (not_larger) or largest (not_smaller).
                    let ratios = axes.map { Float(wanted[$0]) / Float(x.shape[$0]) }
                    guard let scale = policy == "not_larger" ? ratios.min() : policy == "not_smaller" ? ratios.max() : nil else {
                        throw node.fail("keep_aspect_ratio_policy \"\(policy)\" (stretch, not_larger or not_smaller)")
                    }
                    for axis in axes { wanted[axis] = Int((Float(x.shape[axis]) * scale).rounded()); scales[axis] = scale }
                } else {
                    for axis in axes { scales[axis] = Float(wanted[axis]) / Float(Swift.max(x.shape[axis], 1)) }
                }
                sizes = wanted
            } else if node.has(2) {
                let given = try node.tensor(2).scalars
                guard given.count == axes.count, given.allSatisfy({ $0 > 0 && $0.isFinite && $0 < 1e6 }) else {
                    throw node.fail("scales must give a positive factor for each of \(axes.count) axes")
                }
                for (axis, scale) in zip(axes, given) { scales[axis] = scale; sizes[axis] = Int((Float(x.shape[axis]) * scale).rounded(.down)) }
            } else {
                throw node.fail("needs scales or sizes")
            }
            guard !node.has(1) || node.string("coordinate_transformation_mode", default: "half_pixel") != "tf_crop_and_resize" else {
                throw node.fail("coordinate_transformation_mode \"tf_crop_and_resize\" is not supported")
            }
            return [try node.resized(x, sizes: sizes, scales: scales)]
        },
        ImporterDeclaration("Upsample", opsets: 7...9, reads: ["mode", "scales"]) { node in
            let x = try node.value(0)
            let scales = node.has(1) ? try node.tensor(1).scalars : (node.attributes["scales"].flatMap { if case .floats(let f) = $0 { return f } else { return nil } } ?? [])
            guard scales.count == x.shape.count, scales.allSatisfy({ $0 >= 1 && $0 < 1e6 }) else {
                throw node.fail("scales must give a factor of at least 1 for each of \(x.shape.count) axes")
            }
            let sizes = zip(x.shape, scales).map { Int((Float($0) * $1).rounded(.down)) }
            return [try node.resized(x, sizes: sizes, scales: scales)]
        },
    ]
}
