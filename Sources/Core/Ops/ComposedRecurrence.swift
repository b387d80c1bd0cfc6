// The ONNX recurrences Synapse's fused `recurrence` kernel does not run — GRU with
// `linear_before_reset = 0` (ONNX's default, which Keras and TensorFlow exports write) and
// LSTM with peepholes — unrolled over time from matmul, sigmoid and tanh, so they train like
// the rest. ONNX's equations, with its gate orders (GRU z, r, h; LSTM i, o, f, c; peepholes
// i, o, f):
//
//     GRU   z = σ(x Wzᵀ + h Rzᵀ + bz),  r = σ(x Wrᵀ + h Rrᵀ + br)
//           ĥ = tanh(x Whᵀ + (r ⊙ h) Rhᵀ + Rbh + Wbh),  h' = (1 − z) ⊙ ĥ + z ⊙ h
//     LSTM  i = σ(x Wiᵀ + h Riᵀ + Pi ⊙ c + bi),  f = σ(x Wfᵀ + h Rfᵀ + Pf ⊙ c + bf)
//           c' = f ⊙ c + i ⊙ tanh(x Wcᵀ + h Rcᵀ + bc),  o = σ(x Woᵀ + h Roᵀ + Po ⊙ c' + bo)
//           h' = o ⊙ tanh(c')

extension Tensor {
    /// One direction of an ONNX GRU (`linear_before_reset` 0 or 1) or LSTM (optional
    /// peepholes `[3H]`) over `x` `[T, N, F]`, weights in ONNX's gate order (`w` `[G·H, F]`,
    /// `r` `[G·H, H]`, biases `[G·H]` each). Returns the hidden states `[T, N, H]` in time
    /// order, the last hidden state and (LSTM) the last cell state.
    static func unrolledRecurrence(
        gru: Bool, x: Tensor, w: Tensor, r: Tensor, inputBias: Tensor, hiddenBias: Tensor, hidden h0: Tensor, cell c0: Tensor?,
        peepholes: Tensor?, linearBeforeReset: Bool, reverse: Bool
    ) -> (outputs: Tensor, hidden: Tensor, cell: Tensor?) {
        let size = r.shape[1]
        func block(_ t: Tensor, _ k: Int) -> Tensor { t.slice(dim: 0, range: k * size..<(k + 1) * size) }
        let steps = x.shape[0]
        var (h, c) = (h0, c0 ?? Tensor.zeros(h0.shape))
        var states = [Tensor](repeating: h0, count: steps)
        // The input projections of every step at once.
        let projected = x.matmul(w, transposeB: true) + inputBias  // [T, N, G·H]
        for step in 0..<steps {
            let t = reverse ? steps - 1 - step : step
            let xw = projected.slice(dim: 0, range: t..<t + 1).squeezed(dim: 0)
            if gru {
                let (rz, rr, rh) = (block(r, 0), block(r, 1), block(r, 2))
                let hz = h.matmul(rz, transposeB: true) + block(hiddenBias, 0)
                let hr = h.matmul(rr, transposeB: true) + block(hiddenBias, 1)
                let z = (xw.slice(dim: 1, range: 0..<size) + hz).sigmoid()
                let reset = (xw.slice(dim: 1, range: size..<2 * size) + hr).sigmoid()
                let candidateHidden = linearBeforeReset
                    ? reset * (h.matmul(rh, transposeB: true) + block(hiddenBias, 2))
                    : (reset * h).matmul(rh, transposeB: true) + block(hiddenBias, 2)
                let candidate = (xw.slice(dim: 1, range: 2 * size..<3 * size) + candidateHidden).tanh()
                h = (1 - z) * candidate + z * h
            } else {
                let gates = xw + h.matmul(r, transposeB: true) + hiddenBias
                func gate(_ k: Int) -> Tensor { gates.slice(dim: 1, range: k * size..<(k + 1) * size) }
                var (i, f) = (gate(0), gate(2))
                if let p = peepholes { (i, f) = (i + block(p, 0) * c, f + block(p, 2) * c) }
                c = f.sigmoid() * c + i.sigmoid() * gate(3).tanh()
                var o = gate(1)
                if let p = peepholes { o = o + block(p, 1) * c }
                h = o.sigmoid() * c.tanh()
            }
            states[t] = h
        }
        return (Tensor.concat(states.map { $0.unsqueezed(dim: 0) }, dim: 0), h, gru ? nil : c)
    }
}
