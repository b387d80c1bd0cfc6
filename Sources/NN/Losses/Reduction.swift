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
