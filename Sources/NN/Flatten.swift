import Core

/// Dimensions `startDim...endDim` merged into one, PyTorch's `nn.Flatten` (by default every
/// dimension after the batch: `[N, C, H, W]` → `[N, C·H·W]`).
public final class Flatten: Module, Layer {
    override public var settingsDescription: String { "startDim: \(startDim), endDim: \(endDim)" }

    public let startDim: Int
    public let endDim: Int

    /// Dimensions `startDim` through `endDim` (negative counts from the end) merged into one:
    /// `[N, C, H, W]` → `[N, C·H·W]` by default.
    public init(startDim: Int = 1, endDim: Int = -1) { (self.startDim, self.endDim) = (startDim, endDim) }

    public func forward(_ input: Tensor) -> Tensor { input.flattened(startDim: startDim, endDim: endDim) }
}
