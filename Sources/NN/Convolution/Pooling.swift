import Core

/// The maximum over each window of `[N, C, H, W]` (or `[C, H, W]`), PyTorch's `nn.MaxPool2d`;
/// `stride` defaults to the kernel size, padding never wins, `ceilMode` keeps a last partial
/// window. The gradient goes to the position of each window's (first) maximum.
public final class MaxPool2d: Module, Layer {
    override public var settingsDescription: String {
        "kernelSize: \(kernelSize), stride: \(stride), padding: \(padding), dilation: \(dilation), ceilMode: \(ceilMode)"
    }

    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: Size2D
    public let dilation: Size2D
    public let ceilMode: Bool

    /// - Parameters:
    ///   - kernelSize: The window, one size or (height, width).
    ///   - stride: The step between windows (default: the kernel size).
    ///   - padding: Implicit −∞ padding on each side (at most half the kernel).
    ///   - dilation: The spacing of the window's taps.
    ///   - ceilMode: Keep a last partial window (the output size rounds up).
    ///
    /// Shapes: `[N, C, H, W]` → `[N, C, H′, W′]`, H′ = ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1.
    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, dilation: Size2D = 1, ceilMode: Bool = false) {
        (self.kernelSize, self.stride, self.padding, self.dilation, self.ceilMode) = (kernelSize, stride ?? kernelSize, padding, dilation, ceilMode)
        require(
            padding.height * 2 <= kernelSize.height && padding.width * 2 <= kernelSize.width,
            "MaxPool2d: padding \(padding) must be at most half the kernel size \(kernelSize)")
    }

    public func forward(_ input: Tensor) -> Tensor {
        spatial(input, "MaxPool2d") {
            $0.maxPool2d(kernelSize: kernelSize.pair, stride: stride.pair, padding: padding.pair, dilation: dilation.pair, ceilMode: ceilMode)
        }
    }
}

/// The mean over each window of `[N, C, H, W]` (or `[C, H, W]`), PyTorch's `nn.AvgPool2d`;
/// `stride` defaults to the kernel size. With `countIncludePad` (the default) zeros of the
/// padding count in the divisor.
public final class AvgPool2d: Module, Layer {
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: Size2D
    public let ceilMode: Bool
    public let countIncludePad: Bool

    /// - Parameters:
    ///   - kernelSize: The window, one size or (height, width).
    ///   - stride: The step between windows (default: the kernel size).
    ///   - padding: Implicit zero padding on each side.
    ///   - ceilMode: Keep a last partial window.
    ///   - countIncludePad: Whether padded zeros count in each window's divisor.
    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
        (self.ceilMode, self.countIncludePad) = (ceilMode, countIncludePad)
        require(
            padding.height * 2 <= kernelSize.height && padding.width * 2 <= kernelSize.width,
            "AvgPool2d: padding \(padding) must be at most half the kernel size \(kernelSize)")
    }

    public func forward(_ input: Tensor) -> Tensor {
        spatial(input, "AvgPool2d") {
            $0.avgPool2d(kernelSize: kernelSize.pair, stride: stride.pair, padding: padding.pair, ceilMode: ceilMode,
                         countIncludePad: countIncludePad)
        }
    }
}

/// The mean over the regions that split `[N, C, H, W]` (or `[C, H, W]`) into `outputSize`,
/// PyTorch's `nn.AdaptiveAvgPool2d`: output row `i` averages input rows
/// `⌊i·H/h⌋ ..< ⌈(i+1)·H/h⌉` (likewise for columns). When the sizes divide, that is one
/// average pooling (exported as `GlobalAveragePool` for an output of 1×1); otherwise the
/// regions are averaged one by one.
public final class AdaptiveAvgPool2d: Module, Layer {
    public let outputSize: Size2D

    /// Averages over windows chosen so that the output is `outputSize` (PyTorch's adaptive
    /// start ⌊i·H/H′⌋ and end ⌈(i+1)·H/H′⌉): `AdaptiveAvgPool2d(1)` is global average pooling.
    public init(_ outputSize: Size2D) {
        require(outputSize.height > 0 && outputSize.width > 0, "AdaptiveAvgPool2d: output size \(outputSize) must be positive")
        self.outputSize = outputSize
    }

    public func forward(_ input: Tensor) -> Tensor {
        spatial(input, "AdaptiveAvgPool2d") { x in
            let (height, width) = (x.shape[2], x.shape[3])
            let (rows, columns) = (outputSize.height, outputSize.width)
            if height % rows == 0 && width % columns == 0 {
                return x.avgPool2d(kernelSize: (height / rows, width / columns))
            }
            func region(_ i: Int, _ outputs: Int, _ inputs: Int) -> Range<Int> {
                (i * inputs / outputs)..<((i + 1) * inputs + outputs - 1) / outputs
            }
            let pooledRows = (0..<rows).map { i in x.slice(dim: 2, range: region(i, rows, height)).mean(dim: 2, keepDim: true) }
            let byRow = Tensor.concat(pooledRows, dim: 2)
            let pooled = (0..<columns).map { j in byRow.slice(dim: 3, range: region(j, columns, width)).mean(dim: 3, keepDim: true) }
            return Tensor.concat(pooled, dim: 3)
        }
    }
}

/// Runs a 2-D spatial op on a batched `[N, C, H, W]` or an unbatched `[C, H, W]` input.
func spatial(_ input: Tensor, _ layer: String, _ body: (Tensor) -> Tensor) -> Tensor {
    require(input.rank == 4 || input.rank == 3, "\(layer): expects input [N, C, H, W] or [C, H, W], got \(describe(input.shape))")
    if input.rank == 4 { return body(input) }
    return body(input.unsqueezed(dim: 0)).squeezed(dim: 0)
}
