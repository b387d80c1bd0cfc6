import Core

/// One Transformer encoder block, PyTorch's `nn.TransformerEncoderLayer`: self-attention and a
/// feed-forward network (`linear1` → activation → dropout → `linear2`), each with dropout and
/// a residual connection, and layer norm after each (`normFirst: false`, the original
/// Transformer) or before each (`normFirst: true`):
///
///     post-norm: x = norm1(x + SA(x));  x = norm2(x + FF(x))
///     pre-norm:  x = x + SA(norm1(x));  x = x + FF(norm2(x))
///
/// Submodules carry PyTorch's names (`self_attn`, `linear1`, `linear2`, `norm1`, `norm2`), so
/// a state dict moves both ways.
public final class TransformerEncoderLayer: Module, Layer {
    public enum Activation: String, Sendable { case relu, gelu }

    @Key public private(set) var selfAttention: MultiheadAttention
    public let linear1: Linear
    public let dropout: Dropout
    public let linear2: Linear
    public let norm1: LayerNorm
    public let norm2: LayerNorm
    public let dropout1: Dropout
    public let dropout2: Dropout
    public let activation: Activation
    public let normFirst: Bool
    /// The arguments it was made with, to make copies (`TransformerEncoder`).
    private let configuration: (dModel: Int, heads: Int, feedforward: Int, dropout: Float, batchFirst: Bool, eps: Float)

    /// - Parameters:
    ///   - dModel: Features of each position (`d_model`).
    ///   - heads: Attention heads (dModel divisible by it).
    ///   - feedforward: Width of the feed-forward block (`dim_feedforward`).
    ///   - dropout: Dropout after attention, inside and after the feed-forward block.
    ///   - activation: ReLU or GELU in the feed-forward block.
    ///   - layerNormEps: The layer norms' eps.
    ///   - batchFirst: `[N, T, dModel]` instead of `[T, N, dModel]`.
    ///   - normFirst: Pre-norm (`x + attn(norm(x))`) instead of post-norm.
    ///   - bias: Whether the linear layers and norms learn biases.
    ///
    ///     let layer = TransformerEncoderLayer(dModel: 64, heads: 4, feedforward: 128, batchFirst: true, normFirst: true)
    public init(
        dModel: Int, heads: Int, feedforward: Int = 2048, dropout: Float = 0.1, activation: Activation = .relu,
        layerNormEps: Float = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true
    ) {
        _selfAttention = Key(wrappedValue: MultiheadAttention(embedDim: dModel, heads: heads, dropout: dropout, bias: bias, batchFirst: batchFirst), "self_attn")
        linear1 = Linear(inputs: dModel, outputs: feedforward, bias: bias)
        self.dropout = Dropout(dropout)
        linear2 = Linear(inputs: feedforward, outputs: dModel, bias: bias)
        norm1 = LayerNorm([dModel], eps: layerNormEps, bias: bias)
        norm2 = LayerNorm([dModel], eps: layerNormEps, bias: bias)
        dropout1 = Dropout(dropout)
        dropout2 = Dropout(dropout)
        (self.activation, self.normFirst) = (activation, normFirst)
        configuration = (dModel, heads, feedforward, dropout, batchFirst, layerNormEps)
    }

    public func forward(_ input: Tensor) -> Tensor { forward(input, mask: nil) }

    /// The block on `input` `[S, N, E]` (`[N, S, E]` with `batchFirst`), with an optional
    /// attention mask, key padding mask `[N, S]` (1 = padding) and causal masking.
    public func forward(_ input: Tensor, mask: AttentionMask?, keyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Tensor {
        func attend(_ x: Tensor) -> Tensor {
            dropout1(selfAttention.forward(query: x, key: x, value: x, keyPaddingMask: keyPaddingMask, attentionMask: mask, isCausal: isCausal).output)
        }
        func feedForward(_ x: Tensor) -> Tensor {
            let hidden = linear1(x)
            return dropout2(linear2(dropout(activation == .relu ? hidden.relu() : hidden.gelu())))
        }
        if normFirst {
            let x = input + attend(norm1(input))
            return x + feedForward(norm2(x))
        }
        let x = norm1(input + attend(input))
        return norm2(x + feedForward(x))
    }

    /// A layer of the same configuration holding copies of this one's weights and mode.
    public func copied() -> TransformerEncoderLayer {
        let c = configuration
        let copy = TransformerEncoderLayer(
            dModel: c.dModel, heads: c.heads, feedforward: c.feedforward, dropout: c.dropout, activation: activation,
            layerNormEps: c.eps, batchFirst: c.batchFirst, normFirst: normFirst, bias: linear1.bias != nil)
        for ((_, target), (_, source)) in zip(copy.namedState, namedState) { target.replaceScalars(with: source.scalars) }
        copy.train(isTraining)
        return copy
    }
}

/// A stack of `count` encoder layers, each a copy of `layer` (same initial weights, as
/// PyTorch's `nn.TransformerEncoder` deep-copies it), optionally followed by a final `norm`.
/// Parameters are named `layers.0.…`, `layers.1.…`, `norm.…`.
public final class TransformerEncoder: Module, Layer {
    public let layers: [TransformerEncoderLayer]
    public let norm: LayerNorm?

    /// `count` copies of `layer` (each with weights of its own, as PyTorch's deep copies),
    /// then `norm` when given. Names: `layers.0.…`, `norm.…`.
    public init(layer: TransformerEncoderLayer, count: Int, norm: LayerNorm? = nil) {
        require(count > 0, "TransformerEncoder: count must be positive, got \(count)")
        layers = (0..<count).map { _ in layer.copied() }
        self.norm = norm
    }

    public func forward(_ input: Tensor) -> Tensor { forward(input, mask: nil) }

    /// The stack on `input`, every layer with the same masks.
    public func forward(_ input: Tensor, mask: AttentionMask?, keyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Tensor {
        let x = layers.reduce(input) { $1.forward($0, mask: mask, keyPaddingMask: keyPaddingMask, isCausal: isCausal) }
        return norm.map { $0(x) } ?? x
    }
}
