/// Where a window slides over an image of `[N, C, H, W]`: per spatial axis its size, step,
/// dilation (spacing of its taps) and the padding before and after. Convolution and pooling
/// share it. Stored as 32-bit fields so that `Op` stays a small plain value.
///
/// Output position `o` along an axis reads input positions `o·stride − padBefore + t·dilation`
/// for taps `t` in `0..<size`; positions outside `0..<input` are padding.
public struct SlidingWindow: Equatable, Sendable {
    private let sizes: SIMD2<Int32>
    private let strides: SIMD2<Int32>
    private let dilations: SIMD2<Int32>
    private let padsBefore: SIMD2<Int32>
    private let padsAfter: SIMD2<Int32>

    /// A window of `size` (height, width) taps moving by `stride`, with `dilation` between
    /// taps and `padding` (top, left, bottom, right). Every value must fit in 32 bits;
    /// sizes, strides and dilations must be positive, paddings not negative.
    public init(
        size: (height: Int, width: Int), stride: (height: Int, width: Int) = (1, 1),
        dilation: (height: Int, width: Int) = (1, 1), padding: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0)
    ) {
        let all = [size.height, size.width, stride.height, stride.width, dilation.height, dilation.width]
        let pads = [padding.top, padding.left, padding.bottom, padding.right]
        require(
            all.allSatisfy { $0 > 0 && $0 <= Int(Int32.max) } && pads.allSatisfy { $0 >= 0 && $0 <= Int(Int32.max) },
            "window: sizes, strides and dilations must be positive and paddings not negative, got size \(size), "
                + "stride \(stride), dilation \(dilation), padding \(padding)")
        sizes = SIMD2(Int32(size.height), Int32(size.width))
        strides = SIMD2(Int32(stride.height), Int32(stride.width))
        dilations = SIMD2(Int32(dilation.height), Int32(dilation.width))
        padsBefore = SIMD2(Int32(padding.top), Int32(padding.left))
        padsAfter = SIMD2(Int32(padding.bottom), Int32(padding.right))
    }

    /// Taps along axis 0 (height) or 1 (width).
    public func size(_ axis: Int) -> Int { Int(sizes[axis]) }
    /// Step between outputs along an axis.
    public func stride(_ axis: Int) -> Int { Int(strides[axis]) }
    /// Spacing of the taps along an axis.
    public func dilation(_ axis: Int) -> Int { Int(dilations[axis]) }
    /// Padding before the first input position along an axis.
    public func padBefore(_ axis: Int) -> Int { Int(padsBefore[axis]) }
    /// Padding after the last input position along an axis.
    public func padAfter(_ axis: Int) -> Int { Int(padsAfter[axis]) }

    /// The input positions one window covers along an axis: `(size − 1)·dilation + 1`.
    public func extent(_ axis: Int) -> Int { (size(axis) - 1) * dilation(axis) + 1 }

    /// The number of outputs along an axis for `input` positions: windows that fit in the padded
    /// input (`ceilMode: false`), or also a last partial window that starts inside the input or
    /// its leading padding (`ceilMode: true`, PyTorch's and ONNX's `ceil_mode`). `nil` when not
    /// even one window fits.
    public func outputSize(_ axis: Int, input: Int, ceilMode: Bool = false) -> Int? {
        let span = input + padBefore(axis) + padAfter(axis) - extent(axis)
        guard span >= 0 else { return nil }
        var count = (ceilMode ? (span + stride(axis) - 1) / stride(axis) : span / stride(axis)) + 1
        if ceilMode && (count - 1) * stride(axis) >= input + padBefore(axis) { count -= 1 }
        return count
    }

    /// ONNX's `kernel_shape`, `strides`, `dilations` and `pads` (begins, then ends).
    public var onnxAttributes: (kernel: [Int], strides: [Int], dilations: [Int], pads: [Int]) {
        ([size(0), size(1)], [stride(0), stride(1)], [dilation(0), dilation(1)],
         [padBefore(0), padBefore(1), padAfter(0), padAfter(1)])
    }

    /// For output index `o` along an axis with `input` positions: the first tap whose input
    /// position is inside the image and one past the last, so loops skip padding without a
    /// test per tap.
    @inline(__always)
    func validTaps(_ axis: Int, output o: Int, input: Int) -> (start: Int, origin: Int, end: Int) {
        let origin = o * stride(axis) - padBefore(axis)
        let d = dilation(axis)
        let first = origin >= 0 ? 0 : (-origin + d - 1) / d
        let last = input - 1 - origin
        let end = last < 0 ? 0 : Swift.min(size(axis), last / d + 1)
        return (first, origin, Swift.max(end, first))
    }
}
