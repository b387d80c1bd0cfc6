import Core

/// Batch normalisation over channel dimension 1, the shared body of `BatchNorm1d` and
/// `BatchNorm2d` (PyTorch's `_BatchNorm`):
///
///     y = (x − E[x]) / √(Var[x] + eps) · weight + bias
///
/// In training mode E and Var are the batch's (over every dimension but the channel; biased
/// variance) and the running statistics move towards them:
/// `running = (1 − momentum) · running + momentum · batch` with the unbiased variance, or a
/// cumulative average when `momentum` is `nil`. In evaluation mode the running statistics are
/// used (the batch's when `trackRunningStats` is false).
///
/// Parameters `weight` (ones) and `bias` (zeros) when `affine`; buffers `running_mean`
/// (zeros), `running_var` (ones) and `num_batches_tracked` (a whole number stored as a float
/// scalar) when `trackRunningStats`: PyTorch's names, so `load_state_dict(strict=True)` takes
/// them.
public class BatchNormalization: Module, Layer {
    override public var settingsDescription: String {
        "\(features), eps: \(eps), momentum: \(momentum.map { "\($0)" } ?? "nil"), affine: \(weight != nil), trackRunningStats: \(runningMean != nil)"
    }

    /// `[features]`, or `nil` without `affine`.
    public let weight: Tensor?
    /// `[features]`, or `nil` without `affine`.
    public let bias: Tensor?
    @Buffer("running_mean") public var runningMean: Tensor? = nil
    @Buffer("running_var") public var runningVar: Tensor? = nil
    @Buffer("num_batches_tracked", averaged: false) public var batchesTracked: Tensor? = nil
    public let features: Int
    public let eps: Float
    public let momentum: Float?
    /// What `forward` accepts, for messages.
    let expectedShapes: String
    let ranks: Set<Int>

    init(features: Int, eps: Float, momentum: Float?, affine: Bool, trackRunningStats: Bool, ranks: Set<Int>, expectedShapes: String) {
        require(features > 0, "BatchNorm: features must be positive, got \(features)")
        (self.features, self.eps, self.momentum, self.ranks, self.expectedShapes) = (features, eps, momentum, ranks, expectedShapes)
        weight = affine ? Tensor.ones([features], requiresGrad: true) : nil
        bias = affine ? Tensor.zeros([features], requiresGrad: true) : nil
        if trackRunningStats {
            runningMean = Tensor.zeros([features])
            runningVar = Tensor.ones([features])
            batchesTracked = Tensor(scalar: 0)
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        require(
            ranks.contains(input.rank) && input.shape[1] == features,
            "\(type(of: self)): expects input \(expectedShapes) with \(features) channels, got \(describe(input.shape))")
        var factor = momentum ?? 0
        if isTraining, let batchesTracked {
            let count = batchesTracked.withUnsafeMutableBufferPointer { counter -> Float in
                counter[0] += 1
                return counter[0]
            }
            if momentum == nil { factor = 1 / count }
        }
        return input.batchNorm(
            weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar, training: isTraining,
            momentum: factor, epsilon: eps)
    }
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` over the batch (and length), PyTorch's
/// `nn.BatchNorm1d`; see `BatchNormalization`.
public final class BatchNorm1d: BatchNormalization {
    /// Batch normalisation of `features` channels: y = (x − mean) / √(var + eps) · weight + bias.
    ///
    /// - Parameters:
    ///   - features: C, the channels (dimension 1 of the input).
    ///   - eps: Added to the variance for stability.
    ///   - momentum: The running statistics' update factor (`running = (1 − m)·running + m·batch`);
    ///     `nil` for a cumulative average over `num_batches_tracked`.
    ///   - affine: Whether to learn `weight` (ones) and `bias` (zeros).
    ///   - trackRunningStats: Whether to keep `running_mean` (zeros), `running_var` (ones) and
    ///     `num_batches_tracked` for evaluation mode; without them evaluation uses batch statistics.
    ///
    /// Shapes: `[N, C]` or `[N, C, L]` in, the same out.
    public init(features: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true, trackRunningStats: Bool = true) {
        super.init(features: features, eps: eps, momentum: momentum, affine: affine, trackRunningStats: trackRunningStats,
                   ranks: [2, 3], expectedShapes: "[N, C] or [N, C, L]")
    }
}

/// Batch normalisation of `[N, C, H, W]` over the batch and both spatial axes, PyTorch's
/// `nn.BatchNorm2d`; see `BatchNormalization`.
public final class BatchNorm2d: BatchNormalization {
    /// Batch normalisation of `features` channels over N, H and W; the parameters as
    /// `BatchNorm1d`'s. Shapes: `[N, C, H, W]` in, the same out.
    ///
    ///     let norm = BatchNorm2d(features: 16)   // weight, bias, running_mean, running_var, num_batches_tracked
    public init(features: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true, trackRunningStats: Bool = true) {
        super.init(features: features, eps: eps, momentum: momentum, affine: affine, trackRunningStats: trackRunningStats,
                   ranks: [4], expectedShapes: "[N, C, H, W]")
    }
}
