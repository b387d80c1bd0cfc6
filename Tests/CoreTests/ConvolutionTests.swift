@testable import Core
import Foundation
import Testing
import TestSupport

/// Convolution, pooling and batch normalisation: values worked out by hand and finite
/// differences over strides, paddings (asymmetric too), dilations, groups and odd sizes.
@Suite("Convolution, pooling and batch norm ops")
struct ConvolutionTests {
    /// (input shape, weight shape, window, groups)
    static let convolutions: [([Int], [Int], SlidingWindow, Int)] = [
        ([1, 1, 4, 4], [1, 1, 3, 3], SlidingWindow(size: (3, 3)), 1),
        ([2, 3, 5, 4], [4, 3, 3, 2], SlidingWindow(size: (3, 2), stride: (2, 1), padding: (1, 0, 1, 0)), 1),
        ([2, 4, 7, 6], [6, 2, 3, 2], SlidingWindow(size: (3, 2), stride: (2, 3), dilation: (2, 1), padding: (1, 2, 0, 1)), 2),
        ([1, 3, 5, 5], [3, 1, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1)), 3),
        ([3, 2, 1, 9], [2, 2, 1, 4], SlidingWindow(size: (1, 4), stride: (1, 2), dilation: (1, 2), padding: (0, 3, 0, 0)), 1),
        // Depthwise (the direct kernel): strides, dilations and asymmetric pads, and a channel multiplier of 3.
        ([2, 4, 7, 6], [4, 1, 3, 3], SlidingWindow(size: (3, 3), stride: (2, 2), dilation: (1, 2), padding: (1, 0, 2, 1)), 4),
        ([1, 2, 5, 6], [6, 1, 2, 3], SlidingWindow(size: (2, 3), stride: (1, 2), padding: (0, 2, 1, 0)), 2),
        // Pointwise (1×1, stride 1, no padding: one product per sample, no patches).
        ([3, 4, 3, 5], [6, 4, 1, 1], SlidingWindow(size: (1, 1)), 1),
    ]

    @Test("conv2d gradients match finite differences", arguments: ConvolutionTests.convolutions.indices)
    func convolutionGradients(index: Int) {
        let (inputShape, weightShape, window, groups) = Self.convolutions[index]
        let x = parameter(inputShape, seed: 1)
        let w = parameter(weightShape, seed: 2)
        let b = parameter([weightShape[0]], seed: 3)
        expectGradientsMatchFiniteDifferences([x, w, b]) { $0[0].conv2d(weight: $0[1], bias: $0[2], window: window, groups: groups) }
        let (x2, w2) = (fresh(x), fresh(w))
        expectGradientsMatchFiniteDifferences([x2, w2]) { $0[0].conv2d(weight: $0[1], window: window, groups: groups) }
    }

    @Test("a 1×1 convolution is W · x[n] for each sample")
    func pointwiseIsAProductPerSample() {
        let x = parameter([3, 4, 3, 5], seed: 4)
        let w = parameter([6, 4, 1, 1], seed: 5)
        let b = parameter([6], seed: 6)
        let y = x.conv2d(weight: w, bias: b)
        let expected = w.reshaped([6, 4]).matmul(x.reshaped([3, 4, 15])) + b.reshaped([1, 6, 1])
        #expect(y.shape == [3, 6, 3, 5])
        #expect(close(y.scalars, expected.scalars, tolerance: 1e-6))
    }

    @Test("a 1×1 convolution over a larger image, with and without bias and a fused activation")
    func pointwiseLargeImage() {
        let x = Random.withSeed(7) { Tensor.normal([2, 3, 33, 40]) }
        let w = Random.withSeed(8) { Tensor.normal([5, 3, 1, 1]) }
        let b = Random.withSeed(9) { Tensor.normal([5]) }
        let product = w.reshaped([5, 3]).matmul(x.reshaped([2, 3, 1320]))
        for bias in [b, nil] as [Tensor?] {
            let expected = (bias.map { product + $0.reshaped([1, 5, 1]) } ?? product).scalars
            let y = x.conv2d(weight: w, bias: bias)
            #expect(y.shape == [2, 5, 33, 40])
            #expect(close(y.scalars, expected, tolerance: 1e-6))
            let activated = Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: SlidingWindow(size: (1, 1)), groups: 1, activation: .silu) }
            let silu = expected.map { Double($0) / (1 + Foundation.exp(-Double($0))) }
            #expect(zip(activated.scalars, silu).allSatisfy { abs(Double($0) - $1) <= 1e-5 * Swift.max(1, abs($1)) })
        }
    }

    static let depthwiseWindows = [
        SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1)), SlidingWindow(size: (5, 5), stride: (2, 2), padding: (2, 1, 2, 1)),
        SlidingWindow(size: (3, 3), stride: (1, 3), dilation: (2, 2), padding: (2, 0, 1, 3)),
    ]

    @Test("the depthwise kernel gives what one-channel convolutions (im2col + sgemm) give, values and gradients", arguments: 0..<3)
    func depthwiseAgreesWithGroupedProducts(index: Int) {
        let window = Self.depthwiseWindows[index]
        let (channels, multiplier) = (5, 2)
        let x = parameter([2, channels, 17, 19], seed: 21)
        let w = parameter([channels * multiplier, 1, window.size(0), window.size(1)], seed: 22)
        let b = parameter([channels * multiplier], seed: 23)
        let y = x.conv2d(weight: w, bias: b, window: window, groups: channels)
        let r = Random.withSeed(24) { Tensor.uniform(y.shape) }
        (y * r).sum().backward()
        let (x2, w2, b2) = (fresh(x), fresh(w), fresh(b))
        let reference = Tensor.concat((0..<(channels * multiplier)).map { o in
            x2.slice(dim: 1, range: (o / multiplier)..<(o / multiplier + 1))
                .conv2d(weight: w2.slice(dim: 0, range: o..<(o + 1)), bias: b2.slice(dim: 0, range: o..<(o + 1)), window: window)
        }, dim: 1)
        (reference * r).sum().backward()
        for (got, want) in [(y, reference), (x.grad!, x2.grad!), (w.grad!, w2.grad!), (b.grad!, b2.grad!)] {
            #expect(got.shape == want.shape)
            #expect(zip(got.scalars, want.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * Swift.max(1, abs($1)) })
        }
    }

    /// The square windows the depthwise kernel specialises (3×3, 5×5, 7×7 at stride 1 and 2,
    /// stride 2 on rows split into even and odd columns), with even and odd paddings.
    static let squareDepthwiseWindows = [3, 5, 7].flatMap { k in
        [1, 2].map { s in SlidingWindow(size: (k, k), stride: (s, s), padding: (k / 2, k / 2 + 1 - s, k / 2 - 1 + s, k / 2)) }
    }

    @Test("square depthwise windows: the values of one-channel products; a fused activation gives the activation's bits",
          arguments: 0..<6)
    func squareDepthwiseWindows(index: Int) {
        let window = Self.squareDepthwiseWindows[index]
        let channels = 3
        // Planes narrower than a vector on fewer than four rows (computed flat at stride 1), and
        // widths of one, two and three sixteen-output chunks, a short last one in each.
        for width in [6, 13, 23, 40] {
            let x = Random.withSeed(31) { Tensor.normal([2, channels, width - 3, width]) }
            let w = Random.withSeed(32) { Tensor.normal([channels, 1, window.size(0), window.size(1)]) }
            let b = Random.withSeed(33) { Tensor.normal([channels]) }
            let y = Tensor.withoutGradients { x.conv2d(weight: w, bias: b, window: window, groups: channels) }
            let reference = Tensor.withoutGradients {
                Tensor.concat((0..<channels).map { c in
                    x.slice(dim: 1, range: c..<(c + 1)).conv2d(weight: w.slice(dim: 0, range: c..<(c + 1)), bias: b.slice(dim: 0, range: c..<(c + 1)), window: window)
                }, dim: 1)
            }
            #expect(y.shape == reference.shape)
            #expect(zip(y.scalars, reference.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * Swift.max(1, abs($1)) }, "\(window) width \(width)")
            let activations: [FusedActivation] = [.relu, .clip(low: -0.5, high: 0.7), .sigmoid, .silu, .hardSwish, .leakyRelu(alpha: 0.1)]
            for activation in activations {
                let fused = Tensor.withoutGradients { x.conv2d(weight: w, bias: b, window: window, groups: channels, activation: activation) }
                #expect(fused.scalars.map(\.bitPattern) == y.activated(activation).scalars.map(\.bitPattern), "\(window) width \(width) \(activation)")
            }
        }
    }

    @Test("narrow planes of many channels (sixteen at a time in the vector lanes but for 3×3 at stride 1): the bits of a few planes at a time, the values of one-channel products",
          arguments: 0..<6)
    func narrowDepthwisePlanesInLanes(index: Int) {
        let window = Self.squareDepthwiseWindows[index]
        let channels = 19
        for width in [7, 13] {
            let x = Random.withSeed(41) { Tensor.normal([2, channels, width + 1, width]) }
            let w = Random.withSeed(42) { Tensor.normal([channels, 1, window.size(0), window.size(1)]) }
            let b = Random.withSeed(43) { Tensor.normal([channels]) }
            let y = Tensor.withoutGradients { x.conv2d(weight: w, bias: b, window: window, groups: channels, activation: .relu) }
            // Three channels a call: fewer than sixteen planes, so each takes the per-plane kernel.
            let fewAtATime = Tensor.withoutGradients {
                Tensor.concat(stride(from: 0, to: channels, by: 3).map { c in
                    let range = c..<Swift.min(c + 3, channels)
                    return x.slice(dim: 1, range: range).conv2d(weight: w.slice(dim: 0, range: range), bias: b.slice(dim: 0, range: range),
                                                               window: window, groups: range.count, activation: .relu)
                }, dim: 1)
            }
            let sameBits = y.scalars.map(\.bitPattern) == fewAtATime.scalars.map(\.bitPattern)
            #expect(sameBits, "\(window) width \(width)")
            let reference = Tensor.withoutGradients {
                Tensor.concat((0..<channels).map { c in
                    x.slice(dim: 1, range: c..<(c + 1)).conv2d(weight: w.slice(dim: 0, range: c..<(c + 1)), bias: b.slice(dim: 0, range: c..<(c + 1)), window: window)
                }, dim: 1).relu()
            }
            #expect(zip(y.scalars, reference.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * Swift.max(1, abs($1)) }, "\(window) width \(width)")
        }
    }

    @Test("a batch cut into chunks (large images) gives the values and gradients of one chunk")
    func chunkedBatch() {
        let (inputShape, weightShape, window, groups) = Self.convolutions[2]
        func run(budget: Int) -> [[Float]] {
            ConvolutionPlan.$patchBudget.withValue(budget) {
                let x = parameter([5] + inputShape.dropFirst(), seed: 11)
                let w = parameter(weightShape, seed: 12)
                let b = parameter([weightShape[0]], seed: 13)
                let y = x.conv2d(weight: w, bias: b, window: window, groups: groups)
                (y * Random.withSeed(14) { Tensor.uniform(y.shape) }).sum().backward()
                return [y.scalars, x.grad!.scalars, w.grad!.scalars, b.grad!.scalars]
            }
        }
        let whole = run(budget: 1 << 24)
        for budget in [1, 200] {
            for (a, b) in zip(run(budget: budget), whole) { #expect(close(a, b, tolerance: 1e-5)) }
        }
    }

    @Test("conv2d by hand: a 3×3 image, a 2×2 kernel, padding 1 and stride 2")
    func convolutionValues() {
        // Image 1…9, kernel [[1, 0], [0, −1]], bias 10. Windows start at rows/columns −1 and 1,
        // so each output is x[top-left] − x[bottom-right] + 10 with padding read as 0:
        // 0 − 1, 0 − 3, 0 − 7 and 5 − 9.
        let x = Tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])
        let w = Tensor([1, 0, 0, -1], shape: [1, 1, 2, 2])
        let y = x.conv2d(weight: w, bias: Tensor([10]), stride: (2, 2), padding: (1, 1))
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [9, 7, 3, 6])
        // Groups: two channels, each with its own 1×1 kernel.
        let two = Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [1, 2, 2, 2])
        let grouped = two.conv2d(weight: Tensor([2, -1], shape: [2, 1, 1, 1]), groups: 2)
        #expect(grouped.scalars == [2, 4, 6, 8, -5, -6, -7, -8])
    }

    /// Inputs whose values differ by at least 0.1, so that a finite-difference step of 0.01
    /// never changes which element of a window is largest.
    static func separated(_ shape: [Int], seed: UInt64) -> Tensor {
        let count = shape.reduce(1, *)
        var generator = RandomGenerator(seed: seed)
        let values = (0..<count).map { Float($0) * 0.1 - Float(count) * 0.05 }.shuffled(using: &generator)
        return Tensor(values, shape: shape, requiresGrad: true)
    }

    static let pools: [(SlidingWindow, Bool)] = [
        (SlidingWindow(size: (2, 2), stride: (2, 2)), false),
        (SlidingWindow(size: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1)), false),
        (SlidingWindow(size: (3, 2), stride: (2, 2), padding: (1, 0, 1, 1)), true),
        (SlidingWindow(size: (2, 2), stride: (1, 2), dilation: (2, 1)), true),
    ]

    @Test("max and average pooling gradients match finite differences", arguments: 0..<4)
    func poolingGradients(index: Int) {
        let (window, ceilMode) = Self.pools[index]
        let x = Self.separated([2, 3, 5, 7], seed: UInt64(index))
        expectGradientsMatchFiniteDifferences([x]) { $0[0].maxPool2d(window: window, ceilMode: ceilMode) }
        for countIncludePad in [true, false] {
            expectGradientsMatchFiniteDifferences([fresh(x)]) {
                $0[0].avgPool2d(window: window, ceilMode: ceilMode, countIncludePad: countIncludePad)
            }
        }
    }

    @Test("pooling by hand: ceil mode, padding in the divisor, ties go to the first maximum")
    func poolingValues() {
        let x = Tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])
        #expect(x.maxPool2d(kernelSize: (2, 2)).scalars == [5])
        #expect(x.maxPool2d(kernelSize: (2, 2), ceilMode: true).scalars == [5, 6, 8, 9])
        // Windows of 2×2 with padding 1: corners hold one input and three zeros of padding.
        // Windows 2×2 at rows/columns −1 and 1: sums 1, 2 + 3, 4 + 7, 5 + 6 + 8 + 9.
        #expect(x.avgPool2d(kernelSize: (2, 2), padding: (1, 1)).scalars == [0.25, 1.25, 2.75, 7])
        #expect(x.avgPool2d(kernelSize: (2, 2), padding: (1, 1), countIncludePad: false).scalars == [1, 2.5, 5.5, 7])
        // A ceil-mode window past the input counts only what lies inside input and padding.
        #expect(x.avgPool2d(kernelSize: (2, 2), ceilMode: true).scalars == [3, 4.5, 7.5, 9])
        // NaN wins (PyTorch propagates it), in the 2×2 fast path and the general loop.
        let nan = Tensor([1, .nan, 3, 0], shape: [1, 1, 2, 2])
        #expect(nan.maxPool2d(kernelSize: (2, 2)).scalars[0].isNaN)
        #expect(nan.maxPool2d(kernelSize: (2, 1)).scalars[1].isNaN)
        #expect(Tensor([.infinity, -.infinity, 0, 1], shape: [1, 1, 2, 2]).maxPool2d(kernelSize: (2, 2)).scalars == [.infinity])
        let tied = Tensor([1, 3, 3, 0], shape: [1, 1, 2, 2], requiresGrad: true)
        tied.maxPool2d(kernelSize: (2, 2)).sum().backward()
        #expect(tied.grad?.scalars == [0, 1, 0, 0])
    }

    @Test("batch norm gradients match finite differences, batch and running statistics", arguments: [[4, 3], [2, 3, 5], [2, 3, 2, 3]])
    func batchNormGradients(shape: [Int]) {
        let x = parameter(shape, seed: 4)
        let w = parameter([3], seed: 5)
        let b = parameter([3], seed: 6)
        expectGradientsMatchFiniteDifferences([x, w, b], tolerance: 5e-3) {
            $0[0].batchNorm(weight: $0[1], bias: $0[2], training: true)
        }
        let mean = parameter([3], seed: 7)
        let variance = parameter([3], low: 0.5, high: 2, seed: 8)
        expectGradientsMatchFiniteDifferences([fresh(x), fresh(w), fresh(b), mean, variance], step: 1e-3) {
            $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: $0[3], runningVar: $0[4], training: false)
        }
    }

    @Test("batch norm by hand: normalised batch, running statistics with the unbiased variance")
    func batchNormValues() {
        // One channel, values 1, 2, 3, 6: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5,
        // unbiased 14 / 3.
        let x = Tensor([1, 2, 3, 6], shape: [4, 1])
        let mean = Tensor([0])
        let variance = Tensor([1])
        let y = x.batchNorm(runningMean: mean, runningVar: variance, training: true, momentum: 0.5, epsilon: 0)
        let s = 1 / Float(3.5).squareRoot()
        #expect(close(y.scalars, [-2 * s, -s, 0, 3 * s]))
        #expect(close(mean.scalars, [1.5]))
        #expect(close(variance.scalars, [0.5 + 0.5 * 14 / 3]))
        let evaluated = x.batchNorm(weight: Tensor([2]), bias: Tensor([1]), runningMean: mean, runningVar: variance, training: false, epsilon: 0)
        let r = 1 / (0.5 + 0.5 * Float(14) / 3).squareRoot()
        #expect(close(evaluated.scalars, [1, 2, 3, 6].map { ($0 - 1.5) * r * 2 + 1 }))
    }
}
