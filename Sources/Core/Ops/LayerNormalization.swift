// Layer normalisation as one fused op: per row (the trailing dimensions), mean and variance,
// normalisation and the elementwise affine map in two passes; the backward in two more.

extension Tensor {
    /// Layer normalisation (PyTorch's `layer_norm`) over the trailing dimensions that
    /// `weight` (or `normalizedShape`) spans:
    ///
    ///     y = (x − E[x]) / √(Var[x] + ε) · weight + bias
    ///
    /// with E and the biased Var taken over those dimensions for each leading index. A missing
    /// `weight` is 1, a missing `bias` 0.
    public func layerNorm(normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5) -> Tensor {
        let dims = normalizedShape.count
        require(
            dims >= 1 && dims <= rank && Array(shape.suffix(dims)) == normalizedShape && normalizedShape.allSatisfy { $0 > 0 },
            "layerNorm: normalized shape \(describe(normalizedShape)) must end the input's shape \(describe(shape))")
        for (name, tensor) in [("weight", weight), ("bias", bias)] {
            if let tensor { require(tensor.shape == normalizedShape, "layerNorm: \(name) must be \(describe(normalizedShape)), got \(describe(tensor.shape))") }
        }
        let weight = weight ?? Tensor(shape: normalizedShape, repeating: 1)
        let bias = bias ?? Tensor.zeros(normalizedShape)
        let width = normalizedShape.reduce(1, *)
        let rows = count / width
        let saved = Tensor.uninitialized([rows, 2])
        let result = Tensor.uninitialized(shape)
        let (x, y, s) = (storage.pointer, result.storage.pointer, saved.storage.pointer)
        let (w, b) = (weight.storage.pointer, bias.storage.pointer)
        Kernels.parallelChunks(rows, grain: Kernels.channelGrain(width)) { chosen in
            for row in chosen {
                let input = x + row * width
                let mean = Kernels.sum(width, vector: { Kernels.load(input, $0) }, scalar: { input[$0] }) / Float(width)
                let squares = Kernels.sum(
                    width, vector: { let d = Kernels.load(input, $0) - mean; return d * d }, scalar: { (input[$0] - mean) * (input[$0] - mean) })
                let inverse = 1 / (squares / Float(width) + epsilon).squareRoot()
                s[2 * row] = mean
                s[2 * row + 1] = inverse
                let output = y + row * width
                for i in 0..<width { output[i] = (input[i] - mean) * inverse * w[i] + b[i] }
            }
        }
        let recorded = result.recorded(.layerNorm(epsilon: epsilon, dims: dims), [self, weight, bias])
        if recorded.requiresGrad { recorded.savedForBackward = saved }
        return recorded
    }

    /// With x̂ = (x − mean)·s per row and ĝ = g ⊙ weight: dx = s·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)),
    /// d weight = Σ_rows g ⊙ x̂, d bias = Σ_rows g.
    func layerNormBackward(_ gradient: Tensor) -> [Tensor?] {
        let (input, weight) = (creators[0], creators[1])
        let width = weight.count
        let rows = input.count / width
        let (x, g, w, s) = (input.storage.pointer, gradient.storage.pointer, weight.storage.pointer, savedForBackward!.storage.pointer)
        let dx = input.requiresGrad ? Tensor.uninitialized(input.shape) : nil
        let dw = Tensor(shape: weight.shape, repeating: 0)
        let db = Tensor(shape: weight.shape, repeating: 0)
        let (dwp, dbp) = (dw.storage.pointer, db.storage.pointer)
        // Rows in pieces fixed by the sizes; each piece sums its rows' weight and bias
        // gradients into a partial of its own, and the partials are added in piece order.
        let grain = Kernels.channelGrain(width)
        let pieces = (rows + grain - 1) / grain
        let partials = Tensor(shape: [Swift.max(pieces, 1), 2, width], repeating: 0)
        let p = partials.storage.pointer
        Kernels.parallelChunks(rows, grain: grain) { chosen in
            let (pdw, pdb) = (p + chosen.lowerBound / grain * 2 * width, p + (chosen.lowerBound / grain * 2 + 1) * width)
            for row in chosen {
                let (mean, inverse) = (s[2 * row], s[2 * row + 1])
                let (xr, gr) = (x + row * width, g + row * width)
                for i in 0..<width {
                    pdw[i] += gr[i] * ((xr[i] - mean) * inverse)
                    pdb[i] += gr[i]
                }
                if let dx {
                    let sumG = Kernels.sum(width, vector: { Kernels.load(gr, $0) * Kernels.load(w, $0) }, scalar: { gr[$0] * w[$0] })
                    let sumGX = Kernels.sum(
                        width, vector: { Kernels.load(gr, $0) * Kernels.load(w, $0) * ((Kernels.load(xr, $0) - mean) * inverse) },
                        scalar: { gr[$0] * w[$0] * ((xr[$0] - mean) * inverse) })
                    let out = dx.storage.pointer + row * width
                    let (meanG, meanGX) = (sumG / Float(width), sumGX / Float(width))
                    for i in 0..<width {
                        let normalized = (xr[i] - mean) * inverse
                        out[i] = inverse * (gr[i] * w[i] - meanG - normalized * meanGX)
                    }
                }
            }
        }
        for piece in 0..<pieces {
            for i in 0..<width {
                dwp[i] += p[piece * 2 * width + i]
                dbp[i] += p[(piece * 2 + 1) * width + i]
            }
        }
        return [dx, dw, db]
    }
}

// MARK: Export and import

extension Tensor {
    /// `LayerNormalization` over the last `dims` axes (opset 17).
    static func exportLayerNorm(epsilon: Float, dims: Int, _ site: ExportSite) -> [ExportNode] {
        [ExportNode("LayerNormalization", site.inputs, [site.output], ["axis": .int(-dims), "epsilon": .float(epsilon)])]
    }

    /// `LayerNormalization` (scale, optional bias) from `axis` to the last axis.
    static let layerNormImporters: [ImporterDeclaration] = [
        ImporterDeclaration("LayerNormalization", opsets: 17...Int.max, reads: ["axis", "epsilon"]) { node in
            let x = try node.tensor(0)
            let axis = try node.axis(node.int("axis", default: -1), rank: x.rank)
            let normalized = Array(x.shape[axis...])
            let scale = try node.tensor(1)
            let bias = node.has(2) ? try node.tensor(2) : nil
            guard normalized.allSatisfy({ $0 > 0 }) else { throw node.fail("cannot normalize an empty shape \(describe(normalized))") }
            for (name, part) in [("Scale", scale), ("B", bias)] {
                // ONNX broadcasts scale and bias; PyTorch writes them in the normalized shape.
                if let part, part.shape != normalized {
                    guard broadcastable(part.shape, normalized), broadcastShapeIfPossible(part.shape, normalized) == normalized else {
                        throw node.fail("\(name) of shape \(describe(part.shape)) does not fit the normalized shape \(describe(normalized))")
                    }
                }
            }
            let full = { (part: Tensor) in part.shape == normalized ? part : part + Tensor.zeros(normalized) }
            let epsilon = node.float("epsilon", default: 1e-5)
            let y = GraphValue.tensor(x.layerNorm(normalizedShape: normalized, weight: full(scale), bias: bias.map(full), epsilon: epsilon))
            guard node.outputCount > 1 else { return [y] }
            // The optional Mean and InvStdDev outputs, shaped like x with the normalized axes 1,
            // composed of differentiable ops.
            let kept = Array(x.shape[..<axis]) + Array(repeating: 1, count: normalized.count)
            let rows = x.reshaped([x.shape[..<axis].reduce(1, *), normalized.reduce(1, *)])
            let mean = rows.mean(dim: 1, keepDim: true)
            let centred = rows - mean
            let inverse = ((centred * centred).mean(dim: 1, keepDim: true) + epsilon).pow(-0.5)
            return [y, .tensor(mean.reshaped(kept)), .tensor(inverse.reshaped(kept))]
        },
    ]
}
