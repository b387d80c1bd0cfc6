import Core

/// Mean squared error: mean((prediction − target)²), or the sum on request; prediction and
/// target have the same shape.
public struct MSELoss: Loss {
    /// How the squared errors are combined.
    public var reduction: Reduction

    /// A loss that combines squared errors by `reduction`.
    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// (prediction − target)², element by element.
    public func unreduced(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        let error = prediction - target
        return error * error
    }
}
