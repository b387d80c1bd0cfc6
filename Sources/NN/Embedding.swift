import Core

/// A lookup table: whole-number indices in, rows of `weight` out.
///
/// `weight` is `[count, dimension]` (PyTorch's `nn.Embedding.weight`), initialised from a
/// standard normal as PyTorch does. Its gradient is non-zero only in the rows used.
public final class Embedding: Module, Layer {
    override public var settingsDescription: String { "count: \(weight.shape[0]), dimension: \(weight.shape[1])" }

    /// `[count, dimension]`.
    public let weight: Tensor

    /// A table of `count` vectors of `dimension` scalars.
    public init(count: Int, dimension: Int) {
        require(count > 0 && dimension > 0, "Embedding: sizes must be positive, got \(count) × \(dimension)")
        weight = Tensor.normal([count, dimension], requiresGrad: true)
    }

    /// `indices` of any shape (whole numbers in `0..<count`) → `indices.shape + [dimension]`.
    public func forward(_ indices: Tensor) -> Tensor { weight.gatherRows(indices) }
}
