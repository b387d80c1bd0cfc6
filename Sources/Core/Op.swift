/// How a tensor was computed from its `creators`: the op set.
///
/// This one enum is the whole set of differentiable operations. Each case has one home, its
/// file under `Ops/`, holding its forward, its backward, its ONNX export mapping and the
/// ONNX importers that map nodes back to it; `Autograd.swift`, `Export/OpExport.swift` and
/// `Import/OpImport.swift` only dispatch. Layers, losses and optimizers are written with these
/// ops only.
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
    /// `op(A) · op(B)`, batched over leading dimensions with broadcasting (`torch.matmul`),
    /// where `op` swaps the last two dimensions when the flag is set.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// The dimensions reordered: result dimension `i` is input dimension `permutation.axes[i]`.
    case permute(Permutation)
    /// The same scalars in another shape (also `squeeze`, `unsqueeze`, `flattened`).
    case reshape
    /// The sum of all scalars (`dim == nil`) or along one dimension.
    case sum(dim: Int?, keepDim: Bool)
    /// The mean of all scalars (`dim == nil`) or along one dimension.
    case mean(dim: Int?, keepDim: Bool)
    /// The largest scalar along a dimension (gradient to the first arg max).
    case max(dim: Int, keepDim: Bool)
    /// The smallest scalar along a dimension (gradient to the first arg min).
    case min(dim: Int, keepDim: Bool)
    /// `copies` copies stacked along a new dimension inserted at `dim` (the original
    /// tutorial's expand).
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
    /// `√a`.
    case sqrt
    /// The error function `erf(a) = 2/√π ∫₀ᵃ e^(-t²) dt`.
    case erf
    /// The Gaussian error linear unit `a · Φ(a)`, exactly or in its tanh approximation.
    case gelu(approximate: Bool)
    /// `a^exponent` for a constant exponent.
    case pow(exponent: Float)
    /// `a` limited to `[min, max]` (either bound may be absent).
    case clamp(min: Float?, max: Float?)
    /// 1 where the comparison of `a` and `b` holds, else 0 (broadcasting); no gradient.
    case compare(Comparison)
    /// `condition ? a : b` elementwise, broadcasting the three (creators condition, a, b).
    case select
    /// Rows of a table (creator 0, `[rows, columns]`) picked by whole-number indices
    /// (creator 1, any shape): the result has shape `indices.shape + [columns]`.
    case gatherRows
    /// The creators joined along `dim`.
    case concat(dim: Int)
    /// The part of the creator whose index along `dim` lies in `range`.
    case slice(dim: Int, range: Range<Int>)
    /// `e^a / Σ e^a` along `dim`, computed stably.
    case softmax(dim: Int)
    /// `a - log Σ e^a` along `dim`, computed stably.
    case logSoftmax(dim: Int)
    /// One LSTM step, fused: creators x `[B, in]`, h `[B, H]`, c `[B, H]`, the packed input
    /// weights `[4H, in]`, hidden weights `[4H, H]` and bias `[4H]` (gate blocks in the order
    /// f, i, o, g); the result is `[B, 2H]`, h′ then c′ (see `Tensor.lstmGates`).
    case lstmGates
    /// Per-row cross-entropy of logits (creator 0, `[N, C]`) against whole-number class
    /// indices (creator 1, `[N]`): `log Σⱼ e^xⱼ − x[target]`, fused (see `crossEntropyRows`).
    case crossEntropy
    /// 2-D convolution (creators input `[N, C, H, W]`, weight `[O, C/groups, kH, kW]`, optional
    /// bias `[O]`) over `window`, whose size is the kernel's (see `Tensor.conv2d`).
    case convolution(SlidingWindow, groups: Int)
    /// The maximum of each window of `[N, C, H, W]` (gradient to the first maximum).
    case maxPool(SlidingWindow)
    /// The mean of each window of `[N, C, H, W]`; the divisor counts padding when
    /// `countIncludePad` (see `Tensor.avgPool2d`).
    case averagePool(SlidingWindow, countIncludePad: Bool)
    /// Batch normalisation over dimension 1 (creators input, weight, bias, and — unless
    /// `batchStatistics` — the running mean and variance), fused (see `Tensor.batchNorm`).
    case batchNorm(epsilon: Float, batchStatistics: Bool)
    /// Layer normalisation over the last `dims` dimensions (creators input, weight, bias),
    /// fused (see `Tensor.layerNorm`).
    case layerNorm(epsilon: Float, dims: Int)
    /// One direction of a recurrent layer over a whole sequence, fused (creators input
    /// `[T, N, in]`, h₀, c₀ for an LSTM, the packed input and hidden weights and biases; see
    /// `Tensor.recurrence`).
    case recurrence(RecurrentKind, reverse: Bool)
    /// A user's `DifferentiableFunction` (kept with the result, not here, so that `Op` stays a
    /// plain value): its own forward, backward and optional ONNX mapping; see `Tensor.apply`.
    case custom
}

/// A reordering of up to 16 dimensions, packed into one word so that `Op` stays a plain
/// value (no reference counting when ops are recorded and released).
public struct Permutation: Equatable, Sendable {
    private let packed: UInt64
    /// The number of dimensions.
    public let rank: Int

    /// `axes` must be a permutation of `0..<axes.count`, with at most 16 entries.
    public init(_ axes: [Int]) {
        require(axes.count <= 16, "permute: at most 16 dimensions, got \(axes.count)")
        rank = axes.count
        packed = axes.enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(4 * $1.offset) }
    }

    /// Result dimension `i` is input dimension `axes[i]`.
    public var axes: [Int] { (0..<rank).map { Int((packed >> UInt64(4 * $0)) & 0xF) } }
}

/// The comparisons `Op.compare` makes.
public enum Comparison: String, Equatable, Sendable, CaseIterable {
    case equal, less, lessOrEqual, greater, greaterOrEqual

    /// The ONNX operator.
    public var onnxName: String {
        switch self {
        case .equal: return "Equal"
        case .less: return "Less"
        case .lessOrEqual: return "LessOrEqual"
        case .greater: return "Greater"
        case .greaterOrEqual: return "GreaterOrEqual"
        }
    }
}

extension Op {
    /// Each case without its values, so that a test can go through all of them (an exhaustive
    /// switch over `Kind` fails to compile when a case is added without its sample).
    public enum Kind: CaseIterable, Sendable {
        case add, sub, mul, div, neg, affine, matmul, permute, reshape, sum, mean, max, min, expand
        case sigmoid, tanh, relu, exp, log, sqrt, erf, gelu, pow, clamp, compare, select
        case gatherRows, concat, slice, softmax, logSoftmax, lstmGates, crossEntropy
        case convolution, maxPool, averagePool, batchNorm, layerNorm, recurrence, custom
    }

    /// This op's case.
    public var kind: Kind {
        switch self {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        case .neg: return .neg
        case .affine: return .affine
        case .matmul: return .matmul
        case .permute: return .permute
        case .reshape: return .reshape
        case .sum: return .sum
        case .mean: return .mean
        case .max: return .max
        case .min: return .min
        case .expand: return .expand
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .relu: return .relu
        case .exp: return .exp
        case .log: return .log
        case .sqrt: return .sqrt
        case .erf: return .erf
        case .gelu: return .gelu
        case .pow: return .pow
        case .clamp: return .clamp
        case .compare: return .compare
        case .select: return .select
        case .gatherRows: return .gatherRows
        case .concat: return .concat
        case .slice: return .slice
        case .softmax: return .softmax
        case .logSoftmax: return .logSoftmax
        case .lstmGates: return .lstmGates
        case .crossEntropy: return .crossEntropy
        case .convolution: return .convolution
        case .maxPool: return .maxPool
        case .averagePool: return .averagePool
        case .batchNorm: return .batchNorm
        case .layerNorm: return .layerNorm
        case .recurrence: return .recurrence
        case .custom: return .custom
        }
    }
}
