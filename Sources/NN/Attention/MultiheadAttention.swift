import Core

/// Which query–key pairs attention may use.
public enum AttentionMask {
    /// Added to the attention scores before the softmax (0 to allow, −∞ to forbid), PyTorch's
    /// float masks: `[L, S]`, or `[N·heads, L, S]`.
    case additive(Tensor)
    /// 1 (true) where attention is not allowed, PyTorch's boolean masks: `[L, S]`, or
    /// `[N·heads, L, S]`.
    case blocking(Tensor)
}

/// Multi-head scaled dot-product attention, PyTorch's `nn.MultiheadAttention`:
///
///     headᵢ = softmax(Qᵢ Kᵢᵀ / √d + mask) Vᵢ,   out = concat(head₁ … headₕ) W_oᵀ + b_o
///
/// with Q, K, V the inputs projected by `in_proj_weight` `[3E, E]` (rows for q, k, v) and
/// `in_proj_bias` `[3E]`, d = E / heads. Inputs are `[L, N, E]` (`[N, L, E]` with
/// `batchFirst`). The heads run as batched products over `[N, heads, L, d]`: a few large
/// sgemm calls and one stable softmax, not a loop over heads. Parameters (PyTorch's names):
/// `in_proj_weight` (xavier-uniform), `in_proj_bias` (zeros), `out_proj.weight`,
/// `out_proj.bias` (zeros).
public final class MultiheadAttention: Module, Layer {
    override public var settingsDescription: String { "embedDim: \(embedDim), heads: \(heads), dropout: \(dropout), batchFirst: \(batchFirst)" }

    @Key public private(set) var inProjectionWeight: Tensor
    @Key public private(set) var inProjectionBias: Tensor?
    @Key public private(set) var outProjection: Linear
    public let embedDim: Int
    public let heads: Int
    public let batchFirst: Bool
    /// Dropout on the attention weights in training mode.
    public let dropout: Float

    /// - Parameters:
    ///   - embedDim: E, the features of queries, keys and values.
    ///   - heads: Heads (E divisible by it); each attends over E / heads features.
    ///   - dropout: Dropout on the attention weights while training.
    ///   - bias: Whether `in_proj_bias` `[3E]` and `out_proj.bias` are learned (zeros).
    ///   - batchFirst: `[N, T, E]` instead of `[T, N, E]`.
    ///
    /// `in_proj_weight` `[3E, E]` is Xavier-uniform, `out_proj.weight` `[E, E]` as `Linear`'s.
    public init(embedDim: Int, heads: Int, dropout: Float = 0, bias: Bool = true, batchFirst: Bool = false) {
        require(embedDim > 0 && heads > 0 && embedDim % heads == 0, "MultiheadAttention: embedDim \(embedDim) must be divisible by heads \(heads)")
        require(dropout >= 0 && dropout < 1, "MultiheadAttention: dropout must be in [0, 1), got \(dropout)")
        let bound = (6 / Float(embedDim + 3 * embedDim)).squareRoot()
        _inProjectionWeight = Key(wrappedValue: Tensor.uniform([3 * embedDim, embedDim], low: -bound, high: bound, requiresGrad: true), "in_proj_weight")
        _inProjectionBias = Key(wrappedValue: bias ? Tensor.zeros([3 * embedDim], requiresGrad: true) : nil, "in_proj_bias")
        let output = Linear(inputs: embedDim, outputs: embedDim, bias: bias)
        output.bias?.replaceScalars(with: [Float](repeating: 0, count: embedDim))
        _outProjection = Key(wrappedValue: output, "out_proj")
        (self.embedDim, self.heads, self.batchFirst, self.dropout) = (embedDim, heads, batchFirst, dropout)
    }

    /// Self-attention of `input` without masks: the output only.
    public func forward(_ input: Tensor) -> Tensor { forward(query: input, key: input, value: input).output }

    /// Attention of `query` `[L, N, E]` over `key` and `value` `[S, N, E]` (batch first with
    /// `batchFirst`). `keyPaddingMask` `[N, S]` holds 1 at keys to ignore; `isCausal` forbids
    /// position i to see j > i. Returns the output (the shape of `query`) and, with
    /// `needWeights`, the attention weights averaged over heads `[N, L, S]`.
    public func forward(
        query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil, attentionMask: AttentionMask? = nil,
        isCausal: Bool = false, needWeights: Bool = false
    ) -> (output: Tensor, weights: Tensor?) {
        for (name, input) in [("query", query), ("key", key), ("value", value)] {
            require(input.rank == 3 && input.shape[2] == embedDim, "MultiheadAttention: \(name) must be [L, N, \(embedDim)], got \(describe(input.shape))")
        }
        let (q, k, v) = batchFirst ? (query, key, value) : (query.transposed(0, 1), key.transposed(0, 1), value.transposed(0, 1))
        let (n, l, s) = (q.shape[0], q.shape[1], k.shape[1])
        require(k.shape[0] == n && v.shape == k.shape, "MultiheadAttention: query \(describe(query.shape)), key \(describe(key.shape)) and value \(describe(value.shape)) do not fit together")
        let d = embedDim / heads
        let (qp, kp, vp) = projections(q, k, v, selfAttention: query === key && key === value)
        func split(_ x: Tensor, _ length: Int) -> Tensor { x.reshaped([n, length, heads, d]).permuted([0, 2, 1, 3]) }
        var scores = split(qp, l).matmul(split(kp, s), transposeB: true) * (1 / Float(d).squareRoot())
        scores = masked(scores, n: n, l: l, s: s, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, isCausal: isCausal)
        var weights = scores.softmax(dim: -1)
        if isTraining && dropout > 0 { weights = weights * dropoutMask(weights.shape, p: dropout) }
        let attended = weights.matmul(split(vp, s)).permuted([0, 2, 1, 3]).reshaped([n, l, embedDim])
        let output = outProjection(attended)
        return (batchFirst ? output : output.transposed(0, 1), needWeights ? weights.mean(dim: 1) : nil)
    }

    /// q, k, v projected: one product for self-attention, three otherwise.
    private func projections(_ q: Tensor, _ k: Tensor, _ v: Tensor, selfAttention: Bool) -> (Tensor, Tensor, Tensor) {
        let e = embedDim
        if selfAttention {
            var packed = q.matmul(inProjectionWeight, transposeB: true)
            if let bias = inProjectionBias { packed = packed + bias }
            return (packed.slice(dim: -1, range: 0..<e), packed.slice(dim: -1, range: e..<2 * e), packed.slice(dim: -1, range: 2 * e..<3 * e))
        }
        func project(_ x: Tensor, _ part: Int) -> Tensor {
            let range = part * e..<(part + 1) * e
            let product = x.matmul(inProjectionWeight.slice(dim: 0, range: range), transposeB: true)
            return inProjectionBias.map { product + $0.slice(dim: 0, range: range) } ?? product
        }
        return (project(q, 0), project(k, 1), project(v, 2))
    }

    /// Scores `[N, heads, L, S]` with the masks applied: blocked pairs become −∞.
    private func masked(
        _ scores: Tensor, n: Int, l: Int, s: Int, keyPaddingMask: Tensor?, attentionMask: AttentionMask?, isCausal: Bool
    ) -> Tensor {
        var scores = scores
        let blocked = Tensor(scalar: -.infinity)
        if isCausal {
            let causal = Tensor((0..<l).flatMap { i in (0..<s).map { j in j > i ? 1 : 0 } }, shape: [l, s])
            scores = Tensor.select(causal, blocked, scores)
        }
        switch attentionMask {
        case nil: break
        case .additive(let mask), .blocking(let mask):
            require(mask.shape == [l, s] || mask.shape == [n * heads, l, s], "MultiheadAttention: attention mask must be [\(l), \(s)] or [\(n * heads), \(l), \(s)], got \(describe(mask.shape))")
            let shaped = mask.rank == 2 ? mask : mask.reshaped([n, heads, l, s])
            if case .additive = attentionMask! { scores = scores + shaped } else { scores = Tensor.select(shaped, blocked, scores) }
        }
        if let keyPaddingMask {
            require(keyPaddingMask.shape == [n, s], "MultiheadAttention: key padding mask must be [\(n), \(s)], got \(describe(keyPaddingMask.shape))")
            scores = Tensor.select(keyPaddingMask.reshaped([n, 1, 1, s]), blocked, scores)
        }
        return scores
    }
}
