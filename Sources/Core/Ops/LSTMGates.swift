// One LSTM step as a single op: two sgemm calls for all four gates' pre-activations, the
// gate arithmetic in one vectorised pass, and one backward. It computes exactly the original tutorial's
// equations; `LSTMCell` uses it with its eight weight matrices packed by `concat`.

extension Tensor {
    /// One LSTM step with the gate blocks of the packed weights in the order f, i, o, g:
    ///
    ///     [f̃ ĩ õ g̃] = x·Wxᵀ + h·Whᵀ + b
    ///     f, i, o = σ(f̃), σ(ĩ), σ(õ);  g = tanh(g̃)
    ///     c′ = f ⊙ c + i ⊙ g;  h′ = o ⊙ tanh(c′)
    ///
    /// - Returns: `[B, 2H]`: h′ in columns `0..<H`, c′ in `H..<2H`.
    public static func lstmGates(
        input x: Tensor, hidden h: Tensor, cell c: Tensor,
        inputWeights wx: Tensor, hiddenWeights wh: Tensor, bias b: Tensor
    ) -> Tensor {
        let batch = x.shape.first ?? 0
        let size = h.shape.last ?? 0
        require(
            x.rank == 2 && h.shape == [batch, size] && c.shape == [batch, size]
                && wx.shape == [4 * size, x.shape[1]] && wh.shape == [4 * size, size] && b.shape == [4 * size],
            "lstmGates: shapes x \(describe(x.shape)), h \(describe(h.shape)), c \(describe(c.shape)), "
                + "Wx \(describe(wx.shape)), Wh \(describe(wh.shape)), b \(describe(b.shape)) do not fit together")
        let width = 4 * size
        let gates = Tensor.uninitialized([batch, width])
        let g = gates.storage.pointer
        for row in 0..<batch { (g + row * width).update(from: b.storage.pointer, count: width) }
        Kernels.gemm(
            transposeA: false, transposeB: true, m: batch, n: width, k: x.shape[1], alpha: 1,
            a: x.storage.pointer, lda: x.shape[1], b: wx.storage.pointer, ldb: x.shape[1], beta: 1, c: g, ldc: width)
        Kernels.gemm(
            transposeA: false, transposeB: true, m: batch, n: width, k: size, alpha: 1,
            a: h.storage.pointer, lda: size, b: wh.storage.pointer, ldb: size, beta: 1, c: g, ldc: width)

        // Activations overwrite the pre-activations in place: [f i o g] per row, then tanh(c′)
        // in a fifth block kept for the backward.
        let saved = Tensor.uninitialized([batch, 5 * size])
        let result = Tensor.uninitialized([batch, 2 * size])
        let s = saved.storage.pointer
        let out = result.storage.pointer
        let cell = c.storage.pointer
        for row in 0..<batch {
            let pre = g + row * width
            let act = s + row * 5 * size
            VectorMath.map(pre, act, count: 3 * size, VectorSigmoid.self)
            VectorMath.map(pre + 3 * size, act + 3 * size, count: size, VectorTanh.self)
            let (f, i, o, gg, tanhC) = (act, act + size, act + 2 * size, act + 3 * size, act + 4 * size)
            let newHidden = out + row * 2 * size
            let newCell = newHidden + size
            let oldCell = cell + row * size
            for j in 0..<size { newCell[j] = f[j] * oldCell[j] + i[j] * gg[j] }
            VectorMath.map(newCell, tanhC, count: size, VectorTanh.self)
            for j in 0..<size { newHidden[j] = o[j] * tanhC[j] }
        }
        // `gates` is read only through its raw pointer above: keep it alive until here.
        withExtendedLifetime(gates) {}
        let recorded = result.recorded(.lstmGates, [x, h, c, wx, wh, b])
        if recorded.requiresGrad { recorded.savedForBackward = saved }
        return recorded
    }

    /// From d(h′, c′): the gate pre-activations' gradient
    ///
    ///     dc′ = dc′ + dh′ ⊙ o ⊙ (1 − tanh²c′)
    ///     df̃ = dc′ ⊙ c ⊙ f(1 − f),  dĩ = dc′ ⊙ g ⊙ i(1 − i),
    ///     dõ = dh′ ⊙ tanh c′ ⊙ o(1 − o),  dg̃ = dc′ ⊙ i ⊙ (1 − g²),
    ///
    /// then dx = dG·Wx, dh = dG·Wh, dc = dc′ ⊙ f, dWx = dGᵀ·x, dWh = dGᵀ·h, db = Σ_rows dG.
    ///
    /// Every step of a sequence shares the packed weights, so their gradients are added with
    /// sgemm's beta = 1 into the buffer already pending for them (`takePending`) rather than
    /// computed fresh and added afterwards.
    func lstmGatesBackward(_ gradient: Tensor, takePending: (Tensor) -> Tensor?) -> [Tensor?] {
        let (x, h, c, wx, wh, b) = (creators[0], creators[1], creators[2], creators[3], creators[4], creators[5])
        let batch = x.shape[0]
        let size = h.shape[1]
        let width = 4 * size
        let saved = savedForBackward!.storage.pointer
        let upstream = gradient.storage.pointer
        let cell = c.storage.pointer
        let gates = Tensor.uninitialized([batch, width])
        let dG = gates.storage.pointer
        let cellGradient = c.requiresGrad ? Tensor.uninitialized(c.shape) : nil
        for row in 0..<batch {
            let act = saved + row * 5 * size
            let (f, i, o, g, tanhC) = (act, act + size, act + 2 * size, act + 3 * size, act + 4 * size)
            let dHidden = upstream + row * 2 * size
            let dCellOut = dHidden + size
            let oldCell = cell + row * size
            let d = dG + row * width
            let dc = cellGradient.map { $0.storage.pointer + row * size }
            for j in 0..<size {
                let dcNew = dCellOut[j] + dHidden[j] * o[j] * (1 - tanhC[j] * tanhC[j])
                d[j] = dcNew * oldCell[j] * f[j] * (1 - f[j])
                d[size + j] = dcNew * g[j] * i[j] * (1 - i[j])
                d[2 * size + j] = dHidden[j] * tanhC[j] * o[j] * (1 - o[j])
                d[3 * size + j] = dcNew * i[j] * (1 - g[j] * g[j])
                dc?[j] = dcNew * f[j]
            }
        }
        var biasGradient: Tensor?
        if b.requiresGrad {
            let sum = takePending(b) ?? Tensor.zeros([width])
            let total = sum.storage.pointer
            for row in 0..<batch {
                let d = dG + row * width
                for j in 0..<width { total[j] += d[j] }
            }
            biasGradient = sum
        }
        return [
            x.requiresGrad ? Tensor.rawMatmul(gates, wx, transposeA: false, transposeB: false) : nil,
            h.requiresGrad ? Tensor.rawMatmul(gates, wh, transposeA: false, transposeB: false) : nil,
            cellGradient,
            wx.requiresGrad ? Self.weightGradient(gates, x, into: takePending(wx)) : nil,
            wh.requiresGrad ? Self.weightGradient(gates, h, into: takePending(wh)) : nil,
            biasGradient,
        ]
    }

    /// dGᵀ · input, added into `target` when there is one (beta = 1), else a new tensor.
    private static func weightGradient(_ gates: Tensor, _ input: Tensor, into target: Tensor?) -> Tensor {
        guard let target else { return rawMatmul(gates, input, transposeA: true, transposeB: false) }
        let (batch, width, columns) = (gates.shape[0], gates.shape[1], input.shape[1])
        Kernels.gemm(
            transposeA: true, transposeB: false, m: width, n: columns, k: batch, alpha: 1,
            a: gates.storage.pointer, lda: width, b: input.storage.pointer, ldb: columns,
            beta: 1, c: target.storage.pointer, ldc: columns)
        return target
    }
}

// MARK: Export

extension Tensor {
    /// The fused LSTM step as elementwise ONNX ops over the same packed weights:
    /// Gemm(x, Wx, b) + Gemm(h, Wh), four Slices, σ/tanh, c′ = f·c + i·g, h′ = o·tanh c′,
    /// Concat(h′, c′).
    static func exportLSTMGates(_ site: ExportSite, _ context: inout ExportContext) -> [ExportNode] {
        let inputs = site.inputs
        let hidden = site.shapes[1][1]
        let (x, h, c, wx, wh, b) = (inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5])
        let fromInput = context.freshName("gates_x")
        let fromHidden = context.freshName("gates_h")
        let gates = context.freshName("gates")
        var nodes = [
            ExportNode("Gemm", [x, wx, b], [fromInput], ["transB": .int(1)]),
            ExportNode("Gemm", [h, wh], [fromHidden], ["transB": .int(1)]),
            ExportNode("Add", [fromInput, fromHidden], [gates]),
        ]
        let axes = context.int64s([1], hint: "axes")
        var activated: [String] = []
        for (k, function) in ["Sigmoid", "Sigmoid", "Sigmoid", "Tanh"].enumerated() {
            let part = context.freshName("gate")
            let value = context.freshName("gate_act")
            nodes.append(ExportNode("Slice", [
                gates, context.int64s([k * hidden], hint: "starts"), context.int64s([(k + 1) * hidden], hint: "ends"), axes,
            ], [part]))
            nodes.append(ExportNode(function, [part], [value]))
            activated.append(value)
        }
        let (f, i, o, g) = (activated[0], activated[1], activated[2], activated[3])
        let kept = context.freshName("kept")
        let added = context.freshName("added")
        let newCell = context.freshName("cell")
        let squashed = context.freshName("cell_tanh")
        let newHidden = context.freshName("hidden")
        nodes += [
            ExportNode("Mul", [f, c], [kept]),
            ExportNode("Mul", [i, g], [added]),
            ExportNode("Add", [kept, added], [newCell]),
            ExportNode("Tanh", [newCell], [squashed]),
            ExportNode("Mul", [o, squashed], [newHidden]),
            ExportNode("Concat", [newHidden, newCell], [site.output], ["axis": .int(1)]),
        ]
        return nodes
    }
}
