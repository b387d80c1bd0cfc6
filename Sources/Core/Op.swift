/// How a tensor was computed from its `creators`: the op set.
///
/// This one enum is the whole set of differentiable operations. `backward()` switches on
/// it (see `Autograd.swift`, which calls each case's backward, defined beside its forward in
/// `Ops/`), and layers, losses and optimizers are written with these ops only.
public enum Op: Equatable, Sendable {
    /// `a + b`, NumPy broadcasting.
    case add
    /// `a - b`, NumPy broadcasting.
    case sub
    /// `a * b` elementwise, NumPy broadcasting.
    case mul
    /// `a / b` elementwise, NumPy broadcasting.
    case div
    /// `-a`.
    case neg
    /// `scale · a + shift` with constants: the scalar forms `x * 2`, `1 - x`, `x / 4`.
    case affine(scale: Float, shift: Float)
    /// `op(A) · op(B)` of two matrices, where `op` transposes when the flag is set.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// The transpose of a matrix.
    case transpose
    /// The same scalars in another shape.
    case reshape
    /// The sum of all scalars (`dim == nil`) or along one dimension.
    case sum(dim: Int?, keepDim: Bool)
    /// The mean of all scalars (`dim == nil`) or along one dimension.
    case mean(dim: Int?, keepDim: Bool)
    /// `copies` copies stacked along a new dimension inserted at `dim` (the seed's expand).
    case expand(dim: Int, copies: Int)
    /// `1 / (1 + e^-a)`.
    case sigmoid
    /// `tanh(a)`.
    case tanh
    /// `max(a, 0)`.
    case relu
    /// `e^a`.
    case exp
    /// The natural logarithm.
    case log
    /// `a^exponent` for a constant exponent.
    case pow(exponent: Float)
    /// Rows of a table (creator 0, `[rows, columns]`) picked by whole-number indices
    /// (creator 1, any shape): the result has shape `indices.shape + [columns]`.
    case gatherRows
    /// The creators joined along `dim`.
    case concat(dim: Int)
    /// The part of the creator whose index along `dim` lies in `range`.
    case slice(dim: Int, range: Range<Int>)
    /// `a - log Σ e^a` along `dim`, computed stably.
    case logSoftmax(dim: Int)
    /// One LSTM step, fused: creators x `[B, in]`, h `[B, H]`, c `[B, H]`, the packed input
    /// weights `[4H, in]`, hidden weights `[4H, H]` and bias `[4H]` (gate blocks in the order
    /// f, i, o, g); the result is `[B, 2H]`, h′ then c′ (see `Tensor.lstmGates`).
    case lstmGates
    /// Per-row cross-entropy of logits (creator 0, `[N, C]`) against whole-number class
    /// indices (creator 1, `[N]`): `log Σⱼ e^xⱼ − x[target]`, fused (see `crossEntropyRows`).
    case crossEntropy
}
