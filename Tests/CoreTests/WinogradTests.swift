@testable import Core
import Testing

/// Winograd F(2×2, 3×3) against im2col + sgemm (itself checked by finite differences in
/// ConvolutionTests): outputs, input and weight gradients, over pads, odd sizes and tiles that
/// hang over the output's edge.
@Suite("Winograd convolution")
struct WinogradTests {
    /// (input shape, outputs, padding top, left, bottom, right)
    static let cases: [([Int], Int, (Int, Int, Int, Int))] = [
        ([2, 16, 8, 8], 16, (1, 1, 1, 1)),
        ([1, 24, 7, 9], 32, (1, 1, 1, 1)),
        ([3, 16, 5, 6], 20, (0, 0, 0, 0)),
        ([2, 17, 9, 4], 16, (2, 1, 0, 2)),
        ([1, 32, 3, 3], 16, (2, 2, 2, 2)),
        ([2, 16, 1, 11], 18, (1, 0, 1, 2)),
        // Wide rows: groups of eight tiles side by side, at the padded edges and inside.
        ([1, 16, 5, 41], 16, (1, 1, 1, 1)),
        ([2, 16, 6, 35], 16, (0, 2, 1, 0)),
    ]

    @Test("agrees with im2col + sgemm", arguments: cases.indices)
    func agreesWithIm2col(_ index: Int) {
        let (shape, outputs, pads) = Self.cases[index]
        let window = SlidingWindow(size: (3, 3), padding: pads)
        let plan = ConvolutionPlan(input: shape, weight: [outputs, shape[1], 3, 3], window: window, groups: 1)
        #expect(ConvolutionPlan.$forcesWinograd.withValue(true) { plan.winograd != nil })
        let (x, w, b) = Random.withSeed(UInt64(index)) {
            (Tensor.normal(shape, requiresGrad: true), Tensor.normal([outputs, shape[1], 3, 3], requiresGrad: true), Tensor.normal([outputs], requiresGrad: true))
        }
        let upstream = Random.withSeed(99) { Tensor.normal(x.conv2d(weight: w, bias: b, window: window).shape) }
        func run(winograd: Bool) -> [[Float]] {
            ConvolutionPlan.$forcesWinograd.withValue(winograd) {
                for t in [x, w, b] { t.grad = nil }
                let y = x.conv2d(weight: w, bias: b, window: window)
                y.backward(gradient: upstream)
                return [y.scalars] + [x, w, b].map { $0.grad!.scalars }
            }
        }
        let (fast, reference) = (run(winograd: true), run(winograd: false))
        for (name, (a, r)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(fast, reference)) {
            let scale = max(r.map(abs).max() ?? 1, 1)
            let worst = zip(a, r).map { abs($0 - $1) }.max() ?? 0
            // F(2×2, 3×3) adds a few roundings per output: measured ≤ 3e-7 of the largest value.
            #expect(worst <= 2e-6 * scale, "\(name): largest difference \(worst) against values up to \(scale)")
        }
    }

    @Test("is chosen only where it applies")
    func choice() {
        func chosen(_ input: [Int], _ weight: [Int], _ window: SlidingWindow, groups: Int = 1) -> Bool {
            ConvolutionPlan(input: input, weight: weight, window: window, groups: groups).winograd != nil
        }
        #expect(chosen([1, 16, 32, 32], [16, 16, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))))
        #expect(chosen([32, 16, 8, 8], [16, 16, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))))
        // Too few tiles for the weight's transform to pay.
        #expect(!chosen([1, 16, 8, 8], [16, 16, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))))
        #expect(!chosen([1, 16, 8, 8], [16, 16, 3, 3], SlidingWindow(size: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1))))
        #expect(!chosen([1, 16, 8, 8], [16, 16, 3, 3], SlidingWindow(size: (3, 3), dilation: (2, 2), padding: (1, 1, 1, 1))))
        #expect(!chosen([1, 16, 8, 8], [16, 8, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1)), groups: 2))
        #expect(!chosen([1, 3, 8, 8], [16, 3, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))))
        #expect(!chosen([1, 16, 8, 8], [16, 16, 3, 3], SlidingWindow(size: (3, 3), padding: (3, 3, 3, 3))))
        #expect(!chosen([1, 16, 8, 8], [16, 16, 1, 1], SlidingWindow(size: (1, 1))))
        // With the transformed weight kept (inference), from 16 tiles.
        PreparedWeights.withPreparedWeights {
            #expect(chosen([1, 16, 8, 8], [16, 16, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))))
            #expect(!chosen([1, 16, 6, 6], [16, 16, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))))
        }
    }

    @Test("inference keeps the transformed weight, and transforms it again once the weight changes")
    func keptWeight() {
        let window = SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))
        let (x, w, b) = Random.withSeed(5) { (Tensor.normal([1, 16, 8, 8]), Tensor.normal([16, 16, 3, 3]), Tensor.normal([16])) }
        func expectClose(_ a: [Float], _ r: [Float]) {
            let scale = max(r.map(abs).max() ?? 1, 1)
            let worst = zip(a, r).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 2e-6 * scale, "largest difference \(worst) against values up to \(scale)")
        }
        func direct() -> [Float] { ConvolutionPlan.$forcesWinograd.withValue(false) { x.conv2d(weight: w, bias: b, window: window).scalars } }
        func inference() -> [Float] { Tensor.withoutGradients { PreparedWeights.withPreparedWeights { x.conv2d(weight: w, bias: b, window: window).scalars } } }
        let first = inference()
        expectClose(first, direct())
        #expect(inference() == first)
        w.withUnsafeMutableBufferPointer { $0[0] += 1 }
        let changed = inference()
        #expect(changed != first)
        expectClose(changed, direct())
        w.replaceScalars(with: w.scalars.map { -$0 })
        expectClose(inference(), direct())
    }
}
