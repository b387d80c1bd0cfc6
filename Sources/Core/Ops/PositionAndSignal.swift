// RotaryEmbedding (opset 23: the rotary position embedding Llama-style models apply to queries
// and keys), composed of slices, products and concatenations so gradients reach the input
// and the caches; and the signal windows HannWindow, HammingWindow and BlackmanWindow
// (constants, as ONNX defines them).

extension Tensor {
    static let positionAndSignalImporters: [ImporterDeclaration] = [
        // x [B, H, S, D] or [B, S, hidden] (with num_heads); caches [S or max positions, d/2],
        // gathered by position_ids [B, S] when given; the first rotary_embedding_dim channels
        // rotated as halves (or interleaved pairs): real = cos·x₁ − sin·x₂, imag = sin·x₁ + cos·x₂.
        ImporterDeclaration("RotaryEmbedding", opsets: 23...Int.max, reads: ["interleaved", "num_heads", "rotary_embedding_dim"]) { node in
            let input = try node.tensor(0)
            guard input.rank == 3 || input.rank == 4 else { throw node.fail("input must be 3-D or 4-D, got \(describe(input.shape))") }
            var x = input.rank == 4 ? input.permuted([0, 2, 1, 3]) : input  // [B, S, H, D] or [B, S, hidden]
            let (batch, length) = (x.shape[0], x.shape[1])
            if input.rank == 3 {
                let heads = node.int("num_heads", default: 0)
                guard heads > 0, x.shape[2] % heads == 0 else { throw node.fail("3-D input needs num_heads dividing its hidden size \(x.shape[2])") }
                x = x.reshaped([batch, length, heads, x.shape[2] / heads])
            }
            let head = x.shape[3]
            let rotated = node.int("rotary_embedding_dim", default: 0) == 0 ? head : node.int("rotary_embedding_dim", default: 0)
            guard rotated > 0, rotated <= head, rotated % 2 == 0 else { throw node.fail("rotary_embedding_dim \(rotated) must be even and at most the head size \(head)") }
            let half = rotated / 2
            var (cosine, sine) = (try node.tensor(1), try node.tensor(2))
            if node.has(3) {
                guard case .integers(let positions, let shape, _) = try node.value(3), shape == [batch, length],
                      cosine.rank == 2, sine.shape == cosine.shape, positions.allSatisfy({ $0 >= 0 && $0 < cosine.shape[0] }) else {
                    throw node.fail("position_ids must be [\(batch), \(length)] indices into caches [positions, \(half)]")
                }
                let rows = Tensor(positions.map(Float.init), shape: shape)
                (cosine, sine) = (cosine.gatherRows(rows), sine.gatherRows(rows))
            }
            guard cosine.shape.last == half, sine.shape == cosine.shape, cosine.count == batch * length * half || cosine.count == length * half else {
                throw node.fail("cos_cache and sin_cache \(describe(cosine.shape)) must end in rotary_embedding_dim/2 = \(half) and cover the sequence")
            }
            let shape = cosine.count == length * half ? [1, length, 1, half] : [batch, length, 1, half]
            (cosine, sine) = (cosine.reshaped(shape), sine.reshaped(shape))
            let part = x.slice(dim: 3, range: 0..<rotated)
            let interleaved = node.int("interleaved", default: 0) != 0
            let pairs = part.reshaped([batch, length, x.shape[2], half, 2])
            let (x1, x2) = interleaved
                ? (pairs.slice(dim: 4, range: 0..<1).reshaped([batch, length, x.shape[2], half]), pairs.slice(dim: 4, range: 1..<2).reshaped([batch, length, x.shape[2], half]))
                : (part.slice(dim: 3, range: 0..<half), part.slice(dim: 3, range: half..<rotated))
            let (real, imaginary) = (cosine * x1 - sine * x2, sine * x1 + cosine * x2)
            let joined = interleaved
                ? Tensor.concat([real.unsqueezed(dim: 4), imaginary.unsqueezed(dim: 4)], dim: 4).reshaped(part.shape)
                : Tensor.concat([real, imaginary], dim: 3)
            var y = rotated < head ? Tensor.concat([joined, x.slice(dim: 3, range: rotated..<head)], dim: 3) : joined
            y = input.rank == 4 ? y.permuted([0, 2, 1, 3]) : y.reshaped(input.shape)
            return [.tensor(y)]
        },
    ] + ["HannWindow", "HammingWindow", "BlackmanWindow"].map { name in
        ImporterDeclaration(name, opsets: 17...Int.max, reads: ["output_datatype", "periodic"], differentiable: false) { node in
            guard let sizes = try node.integers(0), sizes.count == 1, sizes[0] >= 0, sizes[0] <= OpImport.largestMadeValue else {
                throw node.fail("size must be one count")
            }
            let size = sizes[0]
            let periodic = node.int("periodic", default: 1) != 0
            let n = Double(periodic ? size : size - 1)
            let values = (0..<size).map { k -> Double in
                let t = n > 0 ? 2 * Double.pi * Double(k) / n : 0
                switch name {
                case "HannWindow": return 0.5 - 0.5 * cosine(t)
                case "HammingWindow": return 25.0 / 46 - 21.0 / 46 * cosine(t)
                default: return 0.42 - 0.5 * cosine(t) + 0.08 * cosine(2 * t)
                }
            }
            let code = node.int("output_datatype", default: 1)
            guard let type = ElementType(rawValue: code) else { throw node.fail("output_datatype \(code) is not a type Synapse reads") }
            if type.isFloat { return [.tensor(Tensor(values.map { type.rounded(Float($0)) }, shape: [size]))] }
            return [.integers(values.map { type.wrap(Int($0)) }, shape: [size], type: type)]
        }
    }
}
