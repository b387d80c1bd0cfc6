// ONNX's GridSample and AffineGrid — spatial transformers, optical-flow warps and deformable
// sampling as torchvision and timm export them. GridSample samples the input at the grid's
// normalised positions (nearest, linear or cubic, zero/border/reflection padding, 2-D or N-D);
// its gradient reaches both the input and the grid, so a learned affine transform trains.

/// One output position's taps: offsets inside an input plane (−1 where zero padding gives 0),
/// their weights, and each weight's derivative with respect to each grid coordinate.
struct GridSampling: DifferentiableFunction {
    /// `[N, C, out…]`.
    let shape: [Int]
    let planeSize: Int
    let taps: Int
    let spatial: Int
    /// `[N, positions, taps]`.
    let offsets: [Int]
    let weights: [Float]
    /// `[N, positions, taps, spatial]`, by grid coordinate (x first, as the grid orders them).
    let derivatives: [Float]

    var name: String { "GridSample" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0].storage.pointer
        let (batch, channels) = (shape[0], shape[1])
        let positions = shape[2...].reduce(1, *)
        let result = Tensor.uninitialized(shape)
        let out = result.storage.pointer
        for n in 0..<batch {
            for c in 0..<channels {
                let plane = (n * channels + c) * planeSize
                for p in 0..<positions {
                    var total: Float = 0
                    let base = (n * positions + p) * taps
                    for k in 0..<taps where offsets[base + k] >= 0 { total += weights[base + k] * x[plane + offsets[base + k]] }
                    out[(n * channels + c) * positions + p] = total
                }
            }
        }
        return result
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let (x, g) = (inputs[0].scalars, gradient.scalars)
        let (batch, channels) = (shape[0], shape[1])
        let positions = shape[2...].reduce(1, *)
        var inputGradient = [Float](repeating: 0, count: x.count)
        var gridGradient = [Float](repeating: 0, count: batch * positions * spatial)
        for n in 0..<batch {
            for c in 0..<channels {
                let plane = (n * channels + c) * planeSize
                for p in 0..<positions {
                    let upstream = g[(n * channels + c) * positions + p]
                    let base = (n * positions + p) * taps
                    for k in 0..<taps where offsets[base + k] >= 0 {
                        inputGradient[plane + offsets[base + k]] += weights[base + k] * upstream
                        let value = x[plane + offsets[base + k]] * upstream
                        for d in 0..<spatial { gridGradient[(n * positions + p) * spatial + d] += value * derivatives[(base + k) * spatial + d] }
                    }
                }
            }
        }
        return [inputs[0].requiresGrad ? Tensor(inputGradient, shape: inputs[0].shape) : nil,
                inputs[1].requiresGrad ? Tensor(gridGradient, shape: inputs[1].shape) : nil]
    }
}

/// How GridSample reads one spatial axis of `size` elements: the coordinate a normalised grid
/// value denotes, the padding applied to it, and the taps around it.
private struct SamplingAxis {
    let size: Int
    let alignCorners: Bool
    let padding: String

    var bounds: (Double, Double) { alignCorners ? (0, Double(size - 1)) : (-0.5, Double(size) - 0.5) }

    /// `x` reflected by the near border until inside `bounds`, and `dx'/dx` (±1).
    func reflect(_ x: Double) -> (Double, Double) {
        let (low, high) = bounds
        let range = high - low
        guard range > 0 else { return (low, 0) }
        if x < low {
            let distance = low - x
            let n = (distance / range).rounded(.towardZero)
            let r = Swift.min(Swift.max(distance - n * range, 0), range)
            return n.truncatingRemainder(dividingBy: 2) == 0 ? (low + r, -1) : (high - r, 1)
        }
        if x > high {
            let distance = x - high
            let n = (distance / range).rounded(.towardZero)
            let r = Swift.min(Swift.max(distance - n * range, 0), range)
            return n.truncatingRemainder(dividingBy: 2) == 0 ? (high - r, -1) : (low + r, 1)
        }
        return (x, 1)
    }

    /// The input coordinate of normalised `g`, after padding, with `d coordinate / d g`.
    func coordinate(_ g: Double, nearest: Bool) -> (Double, Double) {
        var x = alignCorners ? (g + 1) / 2 * Double(size - 1) : ((g + 1) * Double(size) - 1) / 2
        var slope = alignCorners ? Double(size - 1) / 2 : Double(size) / 2
        if nearest { x = x.rounded(.toNearestOrEven); slope = 0 }
        let (low, high) = bounds
        if x < low || x > high {
            if padding == "border" { (x, slope) = (Swift.min(Swift.max(x, 0), Double(size - 1)), 0) }
            if padding == "reflection" { let (r, sign) = reflect(x); (x, slope) = (r, slope * sign) }
        }
        return (x, slope)
    }

    /// The element read for integer position `i`, or nil where zero padding gives 0.
    func element(_ i: Int) -> Int? {
        switch padding {
        case "zeros": return i >= 0 && i < size ? i : nil
        case "border": return Swift.min(Swift.max(i, 0), size - 1)
        default: return Swift.min(Swift.max(Int(reflect(Double(i)).0), 0), size - 1)
        }
    }
}

/// Keys' cubic convolution weights (a = −0.75) of the four taps around `t` ∈ [0, 1), and their
/// derivatives with respect to `t`.
private func cubicWeights(_ t: Double) -> ([Double], [Double]) {
    let a = -0.75
    let (s, u, v) = (t + 1, 1 - t, 2 - t)
    let weights = [((a * s - 5 * a) * s + 8 * a) * s - 4 * a, ((a + 2) * t - (a + 3)) * t * t + 1,
                   ((a + 2) * u - (a + 3)) * u * u + 1, ((a * v - 5 * a) * v + 8 * a) * v - 4 * a]
    let slopes = [3 * a * s * s - 10 * a * s + 8 * a, 3 * (a + 2) * t * t - 2 * (a + 3) * t,
                  -(3 * (a + 2) * u * u - 2 * (a + 3) * u), -(3 * a * v * v - 10 * a * v + 8 * a)]
    return (weights, slopes)
}

extension Tensor {
    static let gridSamplingImporters = [
        ImporterDeclaration("GridSample", opsets: 16...Int.max, reads: ["align_corners", "mode", "padding_mode"]) { node in
            let (x, grid) = (try node.tensor(0), try node.tensor(1))
            let spatial = x.rank - 2
            guard spatial >= 1, grid.rank == x.rank, grid.shape[0] == x.shape[0], grid.shape[grid.rank - 1] == spatial,
                  node.opset >= 20 || spatial == 2 else {
                throw node.fail("input \(describe(x.shape)) and grid \(describe(grid.shape)) must be [N, C, D…] and [N, out…, \(Swift.max(spatial, 1))]" +
                                (node.opset < 20 ? " (2-D before opset 20)" : ""))
            }
            let mode = node.string("mode", default: "linear")
            let padding = node.string("padding_mode", default: "zeros")
            guard ["linear", "bilinear", "nearest", "cubic", "bicubic"].contains(mode), ["zeros", "border", "reflection"].contains(padding) else {
                throw node.fail("mode \"\(mode)\" or padding_mode \"\(padding)\" is not one ONNX defines")
            }
            let sizes = Array(x.shape[2...])
            let axes = sizes.map { SamplingAxis(size: $0, alignCorners: node.int("align_corners", default: 0) != 0, padding: padding) }
            let perAxis = mode.hasSuffix("linear") ? 2 : mode == "nearest" ? 1 : 4
            let taps = (0..<spatial).reduce(1) { total, _ in total * perAxis }
            let outSpatial = Array(grid.shape[1..<(grid.rank - 1)])
            let shape = Array(x.shape.prefix(2)) + outSpatial
            try node.checkMadeSize(shape, "sampled output")
            try node.checkMadeSize([grid.count / spatial, taps * (spatial + 2)], "sampling taps")
            let strides = rowMajorStrides(sizes)
            let g = grid.scalars
            var (offsets, weights, derivatives) = ([Int](), [Float](), [Float]())
            for point in 0..<(grid.count / spatial) {
                // Per axis: the taps' positions, weights and d weight / d grid coordinate.
                var axisTaps: [[(Int?, Double, Double)]] = []
                for d in 0..<spatial {
                    let (c, slope) = axes[d].coordinate(Double(g[point * spatial + spatial - 1 - d]), nearest: mode == "nearest")
                    // Far outside (or NaN): every tap reads padding (zero padding; the other modes clamp or reflect first).
                    guard c.isFinite, abs(c) < Double(1 << 40) else {
                        axisTaps.append([(Int?, Double, Double)](repeating: (nil, 0, 0), count: perAxis))
                        continue
                    }
                    let floor = c.rounded(.down)
                    let (start, t) = (Int(floor), c - floor)
                    switch perAxis {
                    case 1: axisTaps.append([(axes[d].element(Int(c)), 1, 0)])
                    case 2: axisTaps.append([(axes[d].element(start), 1 - t, -slope), (axes[d].element(start + 1), t, slope)])
                    default:
                        let (w, s) = cubicWeights(t)
                        axisTaps.append((0..<4).map { (axes[d].element(start - 1 + $0), w[$0], s[$0] * slope) })
                    }
                }
                forEachIndex([Int](repeating: perAxis, count: spatial)) { pick in
                    var (offset, weight): (Int?, Double) = (0, 1)
                    for d in 0..<spatial {
                        let (element, w, _) = axisTaps[d][pick[d]]
                        offset = element.flatMap { e in offset.map { $0 + e * strides[d] } }
                        weight *= w
                    }
                    offsets.append(offset ?? -1)
                    weights.append(Float(weight))
                    // By grid coordinate: grid's component j is spatial axis spatial − 1 − j.
                    for j in 0..<spatial {
                        let d = spatial - 1 - j
                        var product = axisTaps[d][pick[d]].2
                        for e in 0..<spatial where e != d { product *= axisTaps[e][pick[e]].1 }
                        derivatives.append(Float(product))
                    }
                }
            }
            let function = GridSampling(shape: shape, planeSize: sizes.reduce(1, *), taps: taps, spatial: spatial,
                                        offsets: offsets, weights: weights, derivatives: derivatives)
            return [.tensor(Tensor.apply(function, [x, grid]))]
        },
        // The sampling grid of a batch of affine matrices θ [N, 2, 3] (or [N, 3, 4]) over an
        // output of `size` [N, C, H, W] (or [N, C, D, H, W]): θ · (x, y, [z,] 1) at each position.
        ImporterDeclaration("AffineGrid", opsets: 20...Int.max, reads: ["align_corners"]) { node in
            let theta = try node.tensor(0)
            guard let size = try node.integers(1), size.count == 4 || size.count == 5, size.allSatisfy({ $0 >= 1 }) else {
                throw node.fail("size must be [N, C, H, W] or [N, C, D, H, W] of positive sizes")
            }
            let spatial = size.count - 2
            guard theta.shape == [size[0], spatial, spatial + 1] else {
                throw node.fail("theta \(describe(theta.shape)) must be [\(size[0]), \(spatial), \(spatial + 1)] for size \(describe(size))")
            }
            let sizes = Array(size[2...])
            try node.checkMadeSize([size[0]] + sizes + [spatial + 1], "grid")
            let align = node.int("align_corners", default: 0) != 0
            func normalised(_ i: Int, _ n: Int) -> Float {
                align ? (n == 1 ? -1 : -1 + 2 * Float(i) / Float(n - 1)) : -1 + (2 * Float(i) + 1) / Float(n)
            }
            // Homogeneous base coordinates, x (the last axis) first.
            var base: [Float] = []
            forEachIndex(sizes) { index in
                base += index.indices.reversed().map { normalised(index[$0], sizes[$0]) } + [1]
            }
            let positions = sizes.reduce(1, *)
            let grid = Tensor(base, shape: [1, positions, spatial + 1]).matmul(theta, transposeB: true)
            return [.tensor(grid.reshaped([size[0]] + sizes + [spatial]))]
        },
    ]
}
