// ONNX's normalizations beyond BatchNormalization and LayerNormalization — Instance-, Group-,
// RMS-, Lp- and MeanVarianceNormalization, and LRN — as compositions of Synapse's ops (so
// their gradients come with them). ONNX's formulas are quoted.

extension Tensor {
    /// The mean over `dims`, each kept as size 1.
    func mean(keeping dims: [Int]) -> Tensor {
        dims.reduce(self) { $0.mean(dim: $1, keepDim: true) }
    }

    /// (x − mean) / √(var + ε) over the last axis of a matrix: the core of Instance- and GroupNormalization.
    func standardizedRows(epsilon: Float) -> Tensor {
        let centred = self - mean(dim: 1, keepDim: true)
        return centred * ((centred * centred).mean(dim: 1, keepDim: true) + epsilon).pow(-0.5)
    }
}

extension ImportNode {
    /// Input `index` as a per-channel factor `[C]`, shaped `[C, 1, …]` to broadcast against `[N, C, …]`.
    func perChannel(_ index: Int, channels: Int, rank: Int) throws -> Tensor {
        let t = try tensor(index)
        guard t.count == channels else { throw fail("input \(index) must hold \(channels) values, one per channel, got \(describe(t.shape))") }
        return t.reshaped([channels] + Array(repeating: 1, count: rank - 2))
    }
}

extension Tensor {
    static let normalizationImporters: [ImporterDeclaration] = [
        // y = scale · (x − mean) / √(var + ε) + B, statistics per sample and channel.
        ImporterDeclaration("InstanceNormalization", opsets: 6...Int.max, reads: ["epsilon"]) { node in
            let x = try node.tensor(0)
            guard x.rank >= 3, x.count > 0 else { throw node.fail("needs [N, C, d…], got \(describe(x.shape))") }
            let (n, c) = (x.shape[0], x.shape[1])
            let rows = x.reshaped([n * c, x.count / (n * c)]).standardizedRows(epsilon: node.float("epsilon", default: 1e-5))
            return [.tensor(rows.reshaped(x.shape) * (try node.perChannel(1, channels: c, rank: x.rank)) + (try node.perChannel(2, channels: c, rank: x.rank)))]
        },
        // Statistics per sample and group of C / num_groups channels; scale and bias per channel
        // (opset 21) or per group (opset 18).
        ImporterDeclaration("GroupNormalization", opsets: 18...Int.max, reads: ["epsilon", "num_groups", "stash_type"]) { node in
            let x = try node.tensor(0)
            let groups = node.int("num_groups", default: 0)
            guard x.rank >= 3, x.count > 0, groups > 0, x.shape[1] % groups == 0 else {
                throw node.fail("needs [N, C, d…] with C a multiple of num_groups \(groups), got \(describe(x.shape))")
            }
            let (n, c) = (x.shape[0], x.shape[1])
            let rows = x.reshaped([n * groups, x.count / (n * groups)]).standardizedRows(epsilon: node.float("epsilon", default: 1e-5)).reshaped(x.shape)
            func factor(_ index: Int) throws -> Tensor {
                let t = try node.tensor(index)
                if t.count == groups && groups != c {
                    let perChannel = t.reshaped([groups, 1]) + Tensor.zeros([groups, c / groups])
                    return perChannel.reshaped([c] + Array(repeating: 1, count: x.rank - 2))
                }
                return try node.perChannel(index, channels: c, rank: x.rank)
            }
            return [.tensor(rows * (try factor(1)) + (try factor(2)))]
        },
        // y = x / √(mean(x²) + ε) · scale over the axes from `axis` on.
        ImporterDeclaration("RMSNormalization", opsets: 23...Int.max, reads: ["axis", "epsilon", "stash_type"]) { node in
            let x = try node.tensor(0)
            let axis = try node.axis(node.int("axis", default: -1), rank: x.rank)
            let dims = Array(axis..<x.rank)
            let scale = try node.tensor(1)
            guard broadcastShapeIfPossible(x.shape, scale.shape) == x.shape else {
                throw node.fail("scale \(describe(scale.shape)) does not broadcast to \(describe(x.shape))")
            }
            let inverse = ((x * x).mean(keeping: dims) + node.float("epsilon", default: 1e-5)).pow(-0.5)
            return [.tensor(x * inverse * scale)]
        },
        // (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over `axes`.
        ImporterDeclaration("MeanVarianceNormalization", opsets: 9...Int.max, reads: ["axes"]) { node in
            let x = try node.tensor(0)
            let dims = try (node.ints("axes") ?? [0, 2, 3]).map { try node.axis($0, rank: x.rank) }
            let mean = x.mean(keeping: dims)
            let deviation = ((x * x).mean(keeping: dims) - mean * mean).relu().sqrt() + 1e-9
            return [.tensor((x - mean) / deviation)]
        },
        // x / ‖x‖ₚ along `axis`, p 1 or 2.
        ImporterDeclaration("LpNormalization", opsets: 1...Int.max, reads: ["axis", "p"]) { node in
            let x = try node.tensor(0)
            let axis = try node.axis(node.int("axis", default: -1), rank: x.rank)
            let p = node.int("p", default: 2)
            guard p == 1 || p == 2 else { throw node.fail("p must be 1 or 2, got \(p)") }
            let total = p == 1 ? x.absComposed().sum(dim: axis, keepDim: true) : (x * x).sum(dim: axis, keepDim: true)
            // A line of zeros stays zeros (ONNX's reference), its norm taken as 1 before the square
            // root so that no 0/0 reaches the values or the gradient.
            let safe = Tensor.select(total .== Tensor(scalar: 0), Tensor(scalar: 1), total)
            return [.tensor(x / (p == 1 ? safe : safe.sqrt()))]
        },
        // y = x / (bias + α/size · Σ x²)^β, the sum over `size` neighbouring channels.
        ImporterDeclaration("LRN", opsets: 1...Int.max, reads: ["alpha", "beta", "bias", "size"]) { node in
            let x = try node.tensor(0)
            let size = node.int("size", default: 0)
            guard x.rank >= 3, size >= 1, size <= x.shape[1] * 2 + 1 else { throw node.fail("needs [N, C, d…] and a size in 1...\(2 * x.shape[1] + 1)") }
            let (alpha, beta, bias) = (node.float("alpha", default: 1e-4), node.float("beta", default: 0.75), node.float("bias", default: 1))
            let (outer, c, inner) = Kernels.split(x.shape, around: 1)
            let (low, high) = ((size - 1) / 2, size - 1 - (size - 1) / 2)
            // Each output sums `size` taps along the channel axis (−1 past either edge).
            var sources: [Int] = []
            sources.reserveCapacity(x.count * size)
            for o in 0..<outer {
                for channel in 0..<c {
                    for i in 0..<inner {
                        for offset in -low...high {
                            let k = channel + offset
                            sources.append(k >= 0 && k < c ? (o * c + k) * inner + i : -1)
                        }
                    }
                }
            }
            let squares = x * x
            let sums = Tensor.apply(ElementMap(shape: x.shape, taps: size, sources: sources, weights: nil, fill: 0), [squares])
            return [.tensor(x * (sums * (alpha / Float(size)) + bias).pow(-beta))]
        },
    ]
}
