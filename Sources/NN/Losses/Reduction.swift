import Core

/// How a loss combines its per-element values.
public enum Reduction: Sendable {
    /// Their mean (PyTorch's default).
    case mean
    /// Their sum.
    case sum

    /// `values` combined.
    func apply(_ values: Tensor) -> Tensor {
        self == .mean ? values.mean() : values.sum()
    }
}

/// A loss of a prediction against a target, written once: the shapes are checked (a mismatch
/// is a misuse naming the loss and both shapes), the uncombined losses computed, and combined
/// by `reduction`. A loss writes `unreduced` and, when its shapes are not simply equal,
/// `shapeProblem`.
public protocol Loss {
    /// How the uncombined losses are combined.
    var reduction: Reduction { get }
    /// Why `prediction` and `target` do not fit this loss (`nil` when they do); by default,
    /// unless they have the same shape.
    func shapeProblem(_ prediction: Tensor, _ target: Tensor) -> String?
    /// The losses before they are combined (per element or per example).
    func unreduced(_ prediction: Tensor, _ target: Tensor) -> Tensor
}

extension Loss {
    public func shapeProblem(_ prediction: Tensor, _ target: Tensor) -> String? {
        prediction.shape == target.shape ? nil : "prediction shape \(describe(prediction.shape)) differs from target shape \(describe(target.shape))"
    }

    /// The loss of `prediction` against `target`, combined by `reduction`.
    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        if let problem = shapeProblem(prediction, target) { require(false, "\(Self.self): \(problem)") }
        return reduction.apply(unreduced(prediction, target))
    }
}
