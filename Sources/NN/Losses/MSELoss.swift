import Core

/// Mean squared error: mean((prediction − target)²), or the sum on request.
public struct MSELoss {
    /// How the squared errors are combined.
    public var reduction: Reduction

    /// A loss that combines squared errors by `reduction`.
    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// The loss of `prediction` against `target`, which must have the same shape.
    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        require(
            prediction.shape == target.shape,
            "MSELoss: prediction shape \(describe(prediction.shape)) differs from target shape \(describe(target.shape))")
        let error = prediction - target
        let squared = error * error
        return reduction.apply(squared)
    }
}
