@testable import Core
import Testing

/// Max pooling without gradients (`Kernels.maxPoolValues`: values only, vectorised along
/// interior outputs) against the path that records argmax positions for the backward pass,
/// whose values the finite-difference and by-hand tests of ConvolutionTests check.
@Suite("Max pooling without gradients")
struct MaxPoolValuesTests {
    /// (input shape, window, ceil mode): strides 1, 2 and 3, padding, dilation, ceil mode,
    /// rows wide enough for the sixteen-output vectors and narrow ones that have none.
    static let cases: [([Int], SlidingWindow, Bool)] = [
        ([1, 3, 109, 109], SlidingWindow(size: (3, 3), stride: (2, 2)), true),
        ([2, 4, 56, 56], SlidingWindow(size: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1)), false),
        ([1, 2, 30, 37], SlidingWindow(size: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1)), false),
        ([1, 2, 31, 50], SlidingWindow(size: (2, 3), stride: (3, 3), dilation: (2, 2), padding: (0, 1, 0, 1)), true),
        ([3, 1, 5, 4], SlidingWindow(size: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1)), true),
        ([1, 2, 20, 20], SlidingWindow(size: (5, 5), stride: (1, 1), padding: (2, 2, 2, 2)), false),
    ]

    @Test("gives the values of the recording path", arguments: cases.indices)
    func agreesWithPositionsPath(_ index: Int) {
        let (shape, window, ceilMode) = Self.cases[index]
        let x = Random.withSeed(UInt64(index)) { Tensor.normal(shape, requiresGrad: true) }
        // Ties and NaN: repeated values, and a NaN in one window of each plane.
        var values = x.scalars.map { ($0 * 4).rounded() / 4 }
        for plane in 0..<(shape[0] * shape[1]) { values[plane * shape[2] * shape[3] + shape[3] + 1] = .nan }
        x.replaceScalars(with: values)
        let recorded = x.maxPool2d(window: window, ceilMode: ceilMode)
        #expect(recorded.requiresGrad)
        let plain = Tensor.withoutGradients { x.maxPool2d(window: window, ceilMode: ceilMode) }
        #expect(!plain.requiresGrad)
        #expect(plain.shape == recorded.shape)
        for (a, b) in zip(plain.scalars, recorded.scalars) {
            #expect(a == b || (a.isNaN && b.isNaN), "\(a) against \(b)")
        }
    }
}
