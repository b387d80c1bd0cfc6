import Core

/// 2-D convolution over `[N, C, H, W]` (or an unbatched `[C, H, W]`), PyTorch's `nn.Conv2d`:
///
///     out[n, o] = bias[o] + Σ_c weight[o, c] ⋆ in[n, g·C/groups + c]
///
/// (`⋆` is cross-correlation with the layer's stride, padding and dilation; `g` the group of
/// `o`). Output size per axis: `⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1`.
///
/// `weight` is `[outputs, inputs / groups, kH, kW]` and `bias` `[outputs]`, PyTorch's names and
/// layouts, initialised as PyTorch does: both uniform in ±1/√fan_in with
/// fan_in = inputs / groups · kH · kW (kaiming-uniform with a = √5). The whole batch runs as
/// one im2col and one sgemm per group.
public final class Conv2d: Module, Layer {
    override public var settingsDescription: String {
        "inputs: \(inputs), outputs: \(outputs), kernelSize: \(kernelSize), stride: \(stride), padding: \(padding), dilation: \(dilation), groups: \(groups), bias: \(bias != nil)"
    }

    /// `[outputs, inputs / groups, kH, kW]`.
    public let weight: Tensor
    /// `[outputs]`, or `nil` with `bias: false`.
    public let bias: Tensor?
    public let stride: Size2D
    public let padding: Size2D
    public let dilation: Size2D
    public let groups: Int

    /// - Parameters:
    ///   - inputs: C, the input channels.
    ///   - outputs: O, the output channels.
    ///   - kernelSize: The kernel, one size or (height, width).
    ///   - stride: The step between positions.
    ///   - padding: Zero padding on each side.
    ///   - dilation: The spacing of the kernel's taps.
    ///   - groups: Channel groups (C and O divisible by it; `groups == C` is depthwise).
    ///   - bias: Whether to learn a bias `[O]`.
    ///
    /// Shapes: `[N, C, H, W]` → `[N, O, H′, W′]`. `weight` `[O, C/groups, kH, kW]` and `bias` are
    /// drawn from U(−1/√fanIn, 1/√fanIn), fanIn = C/groups · kH · kW, as PyTorch does.
    ///
    ///     let conv = Conv2d(inputs: 1, outputs: 16, kernelSize: 3, padding: 1)   // [N, 1, 8, 8] → [N, 16, 8, 8]
    public init(
        inputs: Int, outputs: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1,
        groups: Int = 1, bias: Bool = true
    ) {
        require(
            inputs > 0 && outputs > 0 && groups > 0 && inputs % groups == 0 && outputs % groups == 0,
            "Conv2d: channels \(inputs) → \(outputs) must be positive and divisible by groups \(groups)")
        require(
            [kernelSize.height, kernelSize.width, stride.height, stride.width, dilation.height, dilation.width].allSatisfy { $0 > 0 }
                && padding.height >= 0 && padding.width >= 0,
            "Conv2d: kernel size \(kernelSize), stride \(stride) and dilation \(dilation) must be positive, padding \(padding) not negative")
        let fanIn = inputs / groups * kernelSize.height * kernelSize.width
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Tensor.uniform([outputs, inputs / groups, kernelSize.height, kernelSize.width], low: -bound, high: bound, requiresGrad: true)
        self.bias = bias ? Tensor.uniform([outputs], low: -bound, high: bound, requiresGrad: true) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// The number of input channels.
    public var inputs: Int { weight.shape[1] * groups }
    /// The number of output channels.
    public var outputs: Int { weight.shape[0] }
    /// The kernel's height and width.
    public var kernelSize: Size2D { Size2D(weight.shape[2], weight.shape[3]) }

    public func forward(_ input: Tensor) -> Tensor {
        require(
            (input.rank == 4 || input.rank == 3) && input.shape[input.rank - 3] == inputs,
            "Conv2d: expects input [N, \(inputs), H, W] or [\(inputs), H, W], got \(describe(input.shape))")
        let batched = input.rank == 4 ? input : input.unsqueezed(dim: 0)
        let output = batched.conv2d(
            weight: weight, bias: bias, stride: stride.pair, padding: padding.pair, dilation: dilation.pair, groups: groups)
        return input.rank == 4 ? output : output.squeezed(dim: 0)
    }
}

/// 1-D convolution over `[N, C, L]` (or an unbatched `[C, L]`), PyTorch's `nn.Conv1d`: the
/// 2-D convolution with a height of 1. `weight` is `[outputs, inputs / groups, kernelSize]`,
/// `bias` `[outputs]`, initialised uniform in ±1/√(inputs / groups · kernelSize).
public final class Conv1d: Module, Layer {
    override public var settingsDescription: String {
        "inputs: \(inputs), outputs: \(outputs), kernelSize: \(weight.shape[2]), stride: \(stride), padding: \(padding), dilation: \(dilation), groups: \(groups), bias: \(bias != nil)"
    }

    /// `[outputs, inputs / groups, kernelSize]`.
    public let weight: Tensor
    /// `[outputs]`, or `nil` with `bias: false`.
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int
    public let dilation: Int
    public let groups: Int

    /// The parameters as `Conv2d`'s, over one spatial axis: `[N, C, L]` → `[N, O, L′]`, `weight`
    /// `[O, C/groups, k]` drawn from U(−1/√fanIn, 1/√fanIn).
    public init(
        inputs: Int, outputs: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
        bias: Bool = true
    ) {
        require(
            inputs > 0 && outputs > 0 && groups > 0 && inputs % groups == 0 && outputs % groups == 0,
            "Conv1d: channels \(inputs) → \(outputs) must be positive and divisible by groups \(groups)")
        require(
            kernelSize > 0 && stride > 0 && dilation > 0 && padding >= 0,
            "Conv1d: kernel size \(kernelSize), stride \(stride) and dilation \(dilation) must be positive, padding \(padding) not negative")
        let bound = 1 / Float(inputs / groups * kernelSize).squareRoot()
        weight = Tensor.uniform([outputs, inputs / groups, kernelSize], low: -bound, high: bound, requiresGrad: true)
        self.bias = bias ? Tensor.uniform([outputs], low: -bound, high: bound, requiresGrad: true) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// The number of input channels.
    public var inputs: Int { weight.shape[1] * groups }
    /// The number of output channels.
    public var outputs: Int { weight.shape[0] }

    public func forward(_ input: Tensor) -> Tensor {
        require(
            (input.rank == 3 || input.rank == 2) && input.shape[input.rank - 2] == inputs,
            "Conv1d: expects input [N, \(inputs), L] or [\(inputs), L], got \(describe(input.shape))")
        let batched = input.rank == 3 ? input : input.unsqueezed(dim: 0)
        let output = batched.unsqueezed(dim: 2).conv2d(
            weight: weight.unsqueezed(dim: 2), bias: bias, stride: (1, stride), padding: (0, padding),
            dilation: (1, dilation), groups: groups
        ).squeezed(dim: 2)
        return input.rank == 3 ? output : output.squeezed(dim: 0)
    }
}
