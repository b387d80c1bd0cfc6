// A whole recurrent layer direction (LSTM, GRU or Elman RNN) over a sequence as one op, as
// cuDNN and PyTorch's fused nn.LSTM compute it: the input projection of every time step is
// one sgemm, each step runs only the recurrent product and the gate arithmetic, and the
// backward collects the gates' gradients of all steps so that the weight gradients and the
// input gradient are again single sgemm calls. Only the recurrent product runs per step, with
// the recurrent weight packed once per sequence (Kernels.PackedOperand), not once per step.

/// The cell a `recurrence` runs, with PyTorch's equations and gate orders.
public enum RecurrentKind: String, Equatable, Sendable, CaseIterable {
    /// Gates i, f, g, o: c′ = σ(f)·c + σ(i)·tanh(g), h′ = σ(o)·tanh(c′).
    case lstm
    /// Gates r, z, n: n = tanh(Wᵢₙx + bᵢₙ + σ(r)·(Wₕₙh + bₕₙ)), h′ = (1 − σ(z))·n + σ(z)·h.
    case gru
    /// h′ = tanh(Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ).
    case rnnTanh
    /// h′ = max(0, Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ).
    case rnnRelu

    /// Gate blocks in the packed weights.
    public var gates: Int {
        switch self {
        case .lstm: return 4
        case .gru: return 3
        case .rnnTanh, .rnnRelu: return 1
        }
    }

    /// Floats saved per row and step for the backward.
    var savedWidth: Int {
        switch self {
        case .lstm: return 5  // i, f, g, o activations and c
        case .gru: return 4  // r, z, n activations and Wₕₙh + bₕₙ
        case .rnnTanh, .rnnRelu: return 0  // the outputs suffice
        }
    }
}

extension Tensor {
    /// One direction of a recurrent layer over `input` `[T, N, in]` (time first), from the
    /// state `hidden` `[N, H]` (and `cell` `[N, H]` for an LSTM), with PyTorch's packed
    /// weights `inputWeights` `[G·H, in]`, `hiddenWeights` `[G·H, H]` and biases `[G·H]`
    /// (G gate blocks, in PyTorch's order). With `reverse` the steps run from the last time
    /// to the first.
    ///
    /// - Returns: `[T, N, H]`, the hidden state after each time step (in time order), and for
    ///   an LSTM one more row, `[T + 1, N, H]`, whose last entry is the final cell state. The
    ///   final hidden state is row T − 1 (row 0 when `reverse`).
    public static func recurrence(
        _ kind: RecurrentKind, input x: Tensor, hidden h0: Tensor, cell c0: Tensor? = nil,
        inputWeights wih: Tensor, hiddenWeights whh: Tensor, inputBias bih: Tensor, hiddenBias bhh: Tensor, reverse: Bool = false
    ) -> Tensor {
        let problem = recurrenceProblem(kind, input: x.shape, hidden: h0.shape, cell: c0?.shape, inputWeights: wih.shape,
                                        hiddenWeights: whh.shape, inputBias: bih.shape, hiddenBias: bhh.shape)
        require(problem == nil, "recurrence: \(problem ?? "")")
        let (steps, batch, inputs) = (x.shape[0], x.shape[1], x.shape[2])
        let size = h0.shape[1]
        let width = kind.gates * size
        let rows = steps * batch
        let isLSTM = kind == .lstm

        // Every step's input projection at once: [T·N, G·H] = x · Wᵢᵀ + bᵢ.
        let projected = Tensor.uninitialized([rows, width])
        let xw = projected.storage.pointer
        for row in 0..<rows { (xw + row * width).update(from: bih.storage.pointer, count: width) }
        Kernels.gemm(transposeA: false, transposeB: true, m: rows, n: width, k: inputs, alpha: 1,
                     a: x.storage.pointer, lda: inputs, b: wih.storage.pointer, ldb: inputs, beta: 1, c: xw, ldc: width)

        let result = Tensor.uninitialized([steps + (isLSTM ? 1 : 0), batch, size])
        let saved = Tensor.uninitialized([Swift.max(rows * kind.savedWidth * size, 1)])
        let hiddenProduct = Tensor.uninitialized([batch, width])
        let (out, keep, hw) = (result.storage.pointer, saved.storage.pointer, hiddenProduct.storage.pointer)
        let savedRow = kind.savedWidth * size
        // The recurrent weight, packed once for all the steps' products (a state [N, H] times Wₕᵀ).
        let packedHidden = Kernels.PackedOperand.pays(rows: batch)
            ? Kernels.PackedOperand(columns: width, depth: size, b: whh.storage.pointer, strideColumns: size, strideDepth: 1) : nil
        var previousHidden = UnsafePointer(h0.storage.pointer)
        // The previous cell state of row n: c0, or the `c` block saved at the previous step.
        var previousCell: (base: UnsafePointer<Float>, stride: Int) = (UnsafePointer(c0?.storage.pointer ?? h0.storage.pointer), size)
        for step in 0..<steps {
            let t = reverse ? steps - 1 - step : step
            for n in 0..<batch { (hw + n * width).update(from: bhh.storage.pointer, count: width) }
            if let packedHidden {
                packedHidden.multiply(rows: batch, a: previousHidden, lda: size, beta: 1, c: hw, ldc: width)
            } else {
                Kernels.gemm(transposeA: false, transposeB: true, m: batch, n: width, k: size, alpha: 1,
                             a: previousHidden, lda: size, b: whh.storage.pointer, ldb: size, beta: 1, c: hw, ldc: width)
            }
            for n in 0..<batch {
                let pre = xw + (t * batch + n) * width
                let hidden = hw + n * width
                let h = out + (t * batch + n) * size
                let hPrevious = previousHidden + n * size
                let s = keep + (t * batch + n) * savedRow
                switch kind {
                case .lstm:
                    for j in 0..<width { s[j] = pre[j] + hidden[j] }
                    VectorMath.map(s, s, count: 2 * size, VectorSigmoid.self)
                    VectorMath.map(s + 2 * size, s + 2 * size, count: size, VectorTanh.self)
                    VectorMath.map(s + 3 * size, s + 3 * size, count: size, VectorSigmoid.self)
                    let (i, f, g, o, c) = (s, s + size, s + 2 * size, s + 3 * size, s + 4 * size)
                    let cPrevious = previousCell.base + n * previousCell.stride
                    for j in 0..<size { c[j] = f[j] * cPrevious[j] + i[j] * g[j] }
                    VectorMath.map(c, h, count: size, VectorTanh.self)
                    for j in 0..<size { h[j] *= o[j] }
                case .gru:
                    for j in 0..<(2 * size) { s[j] = pre[j] + hidden[j] }
                    VectorMath.map(s, s, count: 2 * size, VectorSigmoid.self)
                    let (r, z, nGate, hn) = (s, s + size, s + 2 * size, s + 3 * size)
                    for j in 0..<size {
                        hn[j] = hidden[2 * size + j]
                        nGate[j] = pre[2 * size + j] + r[j] * hn[j]
                    }
                    VectorMath.map(nGate, nGate, count: size, VectorTanh.self)
                    for j in 0..<size { h[j] = (1 - z[j]) * nGate[j] + z[j] * hPrevious[j] }
                case .rnnTanh:
                    for j in 0..<size { h[j] = pre[j] + hidden[j] }
                    VectorMath.map(h, h, count: size, VectorTanh.self)
                case .rnnRelu:
                    for j in 0..<size { h[j] = Swift.max(pre[j] + hidden[j], 0) }
                }
            }
            previousHidden = UnsafePointer(out + t * batch * size)
            previousCell = (UnsafePointer(keep + t * batch * savedRow + 4 * size), savedRow)
        }
        if isLSTM {
            let last = out + steps * batch * size
            for n in 0..<batch { (last + n * size).update(from: previousCell.base + n * previousCell.stride, count: size) }
        }
        withExtendedLifetime((projected, hiddenProduct)) {}
        let creators = [x, h0] + (c0.map { [$0] } ?? []) + [wih, whh, bih, bhh]
        let recorded = result.recorded(.recurrence(kind, reverse: reverse), creators)
        if recorded.requiresGrad { recorded.savedForBackward = saved }
        return recorded
    }

    /// Why these shapes do not make a recurrence, or `nil`: checked by `recurrence` and by
    /// the importers before any arithmetic.
    static func recurrenceProblem(
        _ kind: RecurrentKind, input: [Int], hidden: [Int], cell: [Int]?, inputWeights: [Int], hiddenWeights: [Int],
        inputBias: [Int], hiddenBias: [Int]
    ) -> String? {
        guard input.count == 3, input[0] > 0, input[1] > 0 else { return "input must be [T, N, features] with T, N > 0, got \(describe(input))" }
        guard hidden.count == 2, hidden[0] == input[1], hidden[1] > 0 else { return "hidden state must be [\(input[1]), H], got \(describe(hidden))" }
        let (size, width) = (hidden[1], kind.gates * hidden[1])
        if kind == .lstm {
            guard cell == hidden else { return "an LSTM needs a cell state of the hidden state's shape \(describe(hidden)), got \(cell.map(describe) ?? "none")" }
        } else if cell != nil {
            return "only an LSTM has a cell state"
        }
        guard inputWeights == [width, input[2]] else { return "input weights must be [\(width), \(input[2])], got \(describe(inputWeights))" }
        guard hiddenWeights == [width, size] else { return "hidden weights must be [\(width), \(size)], got \(describe(hiddenWeights))" }
        guard inputBias == [width], hiddenBias == [width] else { return "biases must be [\(width)], got \(describe(inputBias)) and \(describe(hiddenBias))" }
        return nil
    }

    /// Backpropagation through time, from the last step processed to the first: each step's
    /// gate gradients (dG) come from the upstream gradient of its output and the state
    /// gradients carried back; only dh ← dG·Wₕ runs per step. Then
    /// dx = dGₓ·Wᵢ, dWᵢ = dGₓᵀ·x, dWₕ = dGₕᵀ·h₋₁ and the bias gradients are column sums, each
    /// one call over all steps.
    func recurrenceBackward(_ gradient: Tensor, kind: RecurrentKind, reverse: Bool) -> [Tensor?] {
        let isLSTM = kind == .lstm
        let x = creators[0], h0 = creators[1]
        let (wih, whh) = (creators[isLSTM ? 3 : 2], creators[isLSTM ? 4 : 3])
        let (steps, batch, inputs) = (x.shape[0], x.shape[1], x.shape[2])
        let size = h0.shape[1]
        let width = kind.gates * size
        let rows = steps * batch
        let savedRow = kind.savedWidth * size
        let (g, out, keep) = (gradient.storage.pointer, storage.pointer, savedForBackward!.storage.pointer)

        let inputGates = Tensor.uninitialized([rows, width])
        // GRU: the n block differs between the input side and the hidden side (r multiplies the latter).
        let hiddenGates = kind == .gru ? Tensor.uninitialized([rows, width]) : inputGates
        let previousStates = Tensor.uninitialized([rows, size])
        let (dgx, dgh, hPrev) = (inputGates.storage.pointer, hiddenGates.storage.pointer, previousStates.storage.pointer)
        let carriedHidden = Tensor(shape: [batch, size], repeating: 0)
        let carriedCell = Tensor(shape: [batch, size], repeating: 0)
        let (dhNext, dcNext) = (carriedHidden.storage.pointer, carriedCell.storage.pointer)
        if isLSTM { dcNext.update(from: g + steps * batch * size, count: batch * size) }
        let scratch = Tensor.uninitialized([size])
        let tanhC = scratch.storage.pointer
        // Wₕ as it is ([G·H, H]), packed once for the steps' dGₕ·Wₕ.
        let packedHidden = Kernels.PackedOperand.pays(rows: batch)
            ? Kernels.PackedOperand(columns: size, depth: width, b: whh.storage.pointer, strideColumns: 1, strideDepth: size) : nil

        for k in (0..<steps).reversed() {
            let t = reverse ? steps - 1 - k : k
            let previousT = reverse ? t + 1 : t - 1
            let previousHidden = k == 0 ? UnsafePointer(h0.storage.pointer) : UnsafePointer(out + previousT * batch * size)
            (hPrev + t * batch * size).update(from: previousHidden, count: batch * size)
            for n in 0..<batch {
                let dh = dhNext + n * size
                let upstream = g + (t * batch + n) * size
                for j in 0..<size { dh[j] += upstream[j] }
                let s = keep + (t * batch + n) * savedRow
                let gx = dgx + (t * batch + n) * width
                let gh = dgh + (t * batch + n) * width
                let hp = previousHidden + n * size
                switch kind {
                case .lstm:
                    let (i, f, gg, o, c) = (s, s + size, s + 2 * size, s + 3 * size, s + 4 * size)
                    let cPrevious = k == 0 ? UnsafePointer(creators[2].storage.pointer) + n * size : UnsafePointer(keep + (previousT * batch + n) * savedRow + 4 * size)
                    VectorMath.map(c, tanhC, count: size, VectorTanh.self)
                    let dc = dcNext + n * size
                    for j in 0..<size {
                        let dcj = dc[j] + dh[j] * o[j] * (1 - tanhC[j] * tanhC[j])
                        gx[j] = dcj * gg[j] * i[j] * (1 - i[j])
                        gx[size + j] = dcj * cPrevious[j] * f[j] * (1 - f[j])
                        gx[2 * size + j] = dcj * i[j] * (1 - gg[j] * gg[j])
                        gx[3 * size + j] = dh[j] * tanhC[j] * o[j] * (1 - o[j])
                        dc[j] = dcj * f[j]
                        dh[j] = 0
                    }
                case .gru:
                    let (r, z, nGate, hn) = (s, s + size, s + 2 * size, s + 3 * size)
                    for j in 0..<size {
                        let dn = dh[j] * (1 - z[j]) * (1 - nGate[j] * nGate[j])
                        let dz = dh[j] * (hp[j] - nGate[j]) * z[j] * (1 - z[j])
                        let dr = dn * hn[j] * r[j] * (1 - r[j])
                        (gx[j], gx[size + j], gx[2 * size + j]) = (dr, dz, dn)
                        (gh[j], gh[size + j], gh[2 * size + j]) = (dr, dz, dn * r[j])
                        dh[j] *= z[j]  // the direct path h′ ← z·h; the products are added below
                    }
                case .rnnTanh:
                    let h = out + (t * batch + n) * size
                    for j in 0..<size { gx[j] = dh[j] * (1 - h[j] * h[j]); dh[j] = 0 }
                case .rnnRelu:
                    let h = out + (t * batch + n) * size
                    for j in 0..<size { gx[j] = h[j] > 0 ? dh[j] : 0; dh[j] = 0 }
                }
            }
            // dh₋₁ (+)= dGₕ · Wₕ for the whole batch.
            if let packedHidden {
                packedHidden.multiply(rows: batch, a: dgh + t * batch * width, lda: width, beta: 1, c: dhNext, ldc: size)
            } else {
                Kernels.gemm(transposeA: false, transposeB: false, m: batch, n: size, k: width, alpha: 1,
                             a: dgh + t * batch * width, lda: width, b: whh.storage.pointer, ldb: size, beta: 1, c: dhNext, ldc: size)
            }
        }

        var dx: Tensor?
        if x.requiresGrad {
            let result = Tensor.uninitialized(x.shape)
            Kernels.gemm(transposeA: false, transposeB: false, m: rows, n: inputs, k: width, alpha: 1,
                         a: dgx, lda: width, b: wih.storage.pointer, ldb: inputs, beta: 0, c: result.storage.pointer, ldc: inputs)
            dx = result
        }
        let dwih = Tensor.uninitialized(wih.shape)
        Kernels.gemm(transposeA: true, transposeB: false, m: width, n: inputs, k: rows, alpha: 1,
                     a: dgx, lda: width, b: x.storage.pointer, ldb: inputs, beta: 0, c: dwih.storage.pointer, ldc: inputs)
        let dwhh = Tensor.uninitialized(whh.shape)
        Kernels.gemm(transposeA: true, transposeB: false, m: width, n: size, k: rows, alpha: 1,
                     a: dgh, lda: width, b: hPrev, ldb: size, beta: 0, c: dwhh.storage.pointer, ldc: size)
        func columnSums(_ p: UnsafePointer<Float>) -> Tensor {
            let sums = Tensor(shape: [width], repeating: 0)
            let target = sums.storage.pointer
            for row in 0..<rows { Kernels.addInPlace(target, p + row * width, count: width) }
            return sums
        }
        let state: [Tensor?] = isLSTM ? [carriedHidden, carriedCell] : [carriedHidden]
        return [dx] + state + [dwih, dwhh, columnSums(dgx), columnSums(dgh)]
    }
}
