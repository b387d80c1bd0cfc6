import CBLAS
@testable import Core
import Foundation
import Testing
import TestSupport

/// The algorithms a 2-D convolution runs in inference besides im2col + sgemm — blocks of output
/// lines, a weight packed once, the direct kernel of few-channel inputs — each against a float64
/// direct sum, with the bits of each fused activation.
@Suite("Convolution algorithms")
struct ConvolutionAlgorithmTests {
    /// `conv2d` summed in Double, position by position (the definition, no patches), with each
    /// output's Σ|term| (float sums of n terms err by up to about n·2⁻²⁴ of it).
    static func directConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor, window: SlidingWindow, groups: Int) -> [(value: Double, magnitude: Double)] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let (oh, ow) = (window.outputSize(0, input: h)!, window.outputSize(1, input: wd)!)
        let (xs, ws, bs) = (x.scalars, w.scalars, b.scalars)
        let (cg, og) = (c / groups, o / groups)
        var out = [(value: Double, magnitude: Double)](repeating: (0, 0), count: n * o * oh * ow)
        for s in 0..<n { for k in 0..<o { for y in 0..<oh { for z in 0..<ow {
            var (sum, magnitude) = (Double(bs[k]), abs(Double(bs[k])))
            for ci in 0..<cg { for i in 0..<kh { for j in 0..<kw {
                let row = y * window.stride(0) - window.padBefore(0) + i * window.dilation(0)
                let col = z * window.stride(1) - window.padBefore(1) + j * window.dilation(1)
                guard row >= 0, row < h, col >= 0, col < wd else { continue }
                let channel = k / og * cg + ci
                let term = Double(ws[((k * cg + ci) * kh + i) * kw + j]) * Double(xs[((s * c + channel) * h + row) * wd + col])
                (sum, magnitude) = (sum + term, magnitude + abs(term))
            } } }
            out[((s * o + k) * oh + y) * ow + z] = (sum, magnitude)
        } } } }
        return out
    }

    @Test("a large plane runs in blocks of output lines: the direct sums, with each fused activation's bits", arguments: [1, 2])
    func patchBlocks(groups: Int) {
        // 7×7 stride 2 on 8 channels: 392 patch rows, 37 output lines in blocks of 7, the last one of 2
        // (two groups: of 32 outputs each, the fewest that run in blocks).
        let window = SlidingWindow(size: (7, 7), stride: (2, 2), padding: (3, 3, 2, 2))
        let (batch, outputs) = groups == 1 ? (2, 6) : (1, 64)
        let x = Random.withSeed(41) { Tensor.normal([batch, 8, 74, 66]) }
        let w = Random.withSeed(42) { Tensor.normal([outputs, 8 / groups, 7, 7]) }
        let b = Random.withSeed(43) { Tensor.normal([outputs]) }
        let plan = ConvolutionPlan(input: x.shape, weight: w.shape, window: window, groups: groups)
        #expect(plan.spansPatchBlocks && plan.linesPerPatchBlock == 7 && plan.outHeight == 37)
        let y = Tensor.withoutGradients { x.conv2d(weight: w, bias: b, window: window, groups: groups) }
        let expected = Self.directConvolution(x, w, b, window: window, groups: groups)
        #expect(y.shape == [batch, outputs, 37, 33])
        #expect(!ConvolutionPlan(input: x.shape, weight: [62, 4, 7, 7], window: window, groups: 2).spansPatchBlocks)
        // Within 10⁻⁶ of Σ|term| (rounding errors of 392 terms mostly cancel); a wrong or missing tap errs by a whole term.
        func agrees(_ got: [Float]) -> Bool {
            got.count == expected.count && zip(got, expected).allSatisfy { abs(Double($0) - $1.value) <= 1e-6 * $1.magnitude + 1e-6 }
        }
        #expect(agrees(y.scalars))
        for activation in [FusedActivation.relu, .silu, .clip(low: -1, high: 2)] {
            let fused = Tensor.withoutGradients { x.conv2d(weight: w, bias: b, window: window, groups: groups, activation: activation) }
            #expect(fused.scalars.map(\.bitPattern) == y.activated(activation).scalars.map(\.bitPattern), "\(activation)")
        }
        // Training keeps the whole plane's patches for the weight's gradient: the same values.
        let trained = x.conv2d(weight: fresh(w), bias: b, window: window, groups: groups)
        #expect(trained.requiresGrad)
        #expect(agrees(trained.scalars))
    }

    @Test("a 1×1 convolution on a large plane runs in blocks of its input's lines: the direct sums, each activation's bits, in training too")
    func pointwiseBlocks() {
        // 224 → 32 on 47×41 (more channels than the direct 1×1 kernel takes): (224 + 32) × 41
        // floats a line, 9 lines by the cache, so 6 blocks of 8 lines, the last of 7.
        let x = Random.withSeed(44) { Tensor.normal([1, 224, 47, 41]) }
        let w = Random.withSeed(45) { Tensor.normal([32, 224, 1, 1]) }
        let b = Random.withSeed(46) { Tensor.normal([32]) }
        let window = SlidingWindow(size: (1, 1))
        let plan = ConvolutionPlan(input: x.shape, weight: w.shape, window: window, groups: 1)
        #expect(plan.isPointwise && !plan.usesPointwiseKernel && plan.spansPatchBlocks && plan.patchBlocks == 6 && plan.linesPerPatchBlock == 8)
        for bias in [b, nil] as [Tensor?] {
            let expected = Self.directConvolution(x, w, bias ?? Tensor.zeros([32]), window: window, groups: 1)
            let y = Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: window) }
            #expect(y.count == expected.count && zip(y.scalars, expected).allSatisfy { abs(Double($0) - $1.value) <= 1e-6 * $1.magnitude + 1e-6 })
            for activation in [FusedActivation.relu, .silu] {
                let fused = Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: window, groups: 1, activation: activation) }
                #expect(fused.scalars.map(\.bitPattern) == y.activated(activation).scalars.map(\.bitPattern), "\(activation)")
            }
            #expect(x.conv2d(weight: fresh(w), bias: bias, window: window).scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern))
        }
    }

    @Test("a 1×1 convolution of few channels on a large plane runs the direct kernel: the direct sums, each activation's bits, any thread count, in training too")
    func pointwiseKernel() {
        // 20 → 39 on 45×49: 2,205 positions, pieces of 1,024 and 1,181 (a last block overlapping
        // the one before it), 39 outputs (a last block of three), two samples.
        let x = Random.withSeed(47) { Tensor.normal([2, 20, 45, 49]) }
        let w = Random.withSeed(48) { Tensor.normal([39, 20, 1, 1]) }
        let b = Random.withSeed(49) { Tensor.normal([39]) }
        let window = SlidingWindow(size: (1, 1))
        let plan = ConvolutionPlan(input: x.shape, weight: w.shape, window: window, groups: 1)
        #expect(plan.usesPointwiseKernel == (synapse_cpu_level() > 0))
        #expect(!ConvolutionPlan(input: [1, 256, 45, 49], weight: [39, 256, 1, 1], window: window, groups: 1).usesPointwiseKernel)
        for bias in [b, nil] as [Tensor?] {
            let expected = Self.directConvolution(x, w, bias ?? Tensor.zeros([39]), window: window, groups: 1)
            let y = Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: window) }
            #expect(y.count == expected.count && zip(y.scalars, expected).allSatisfy { abs(Double($0) - $1.value) <= 1e-6 * $1.magnitude + 1e-6 })
            for activation in [FusedActivation.relu, .clip(low: 0, high: 0.5), .silu, .hardSwish] {
                let fused = Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: window, groups: 1, activation: activation) }
                #expect(fused.scalars.map(\.bitPattern) == y.activated(activation).scalars.map(\.bitPattern), "\(activation)")
            }
            let saved = Threads.count
            defer { Threads.count = saved }
            for threads in [1, 3] {
                Threads.count = threads
                #expect(Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: window) }.scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern))
            }
            // Recording the weight's gradient, the same kernel runs.
            #expect(x.conv2d(weight: fresh(w), bias: bias, window: window).scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern))
        }
    }

    /// (input, weight, window) with few input channels: a ResNet-like 7×7 stride-2 stem on an odd
    /// plane, 33 outputs (a last channel block of one) on a line of 35 (a last vector of 3),
    /// one channel at stride 1 and a stride of 3.
    static let directCases: [([Int], [Int], SlidingWindow)] = [
        ([2, 3, 23, 29], [16, 3, 7, 7], SlidingWindow(size: (7, 7), stride: (2, 2), padding: (3, 3, 2, 3))),
        ([1, 3, 37, 70], [33, 3, 3, 3], SlidingWindow(size: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1))),
        ([1, 1, 9, 40], [5, 1, 5, 5], SlidingWindow(size: (5, 5), padding: (2, 2, 2, 2))),
        ([1, 2, 20, 50], [8, 2, 4, 4], SlidingWindow(size: (4, 4), stride: (3, 3))),
    ]

    @Test("few input channels run the direct kernel: the direct sums, each activation's bits, the same bits from AVX2 and AVX-512",
          arguments: 0..<4)
    func directKernel(index: Int) {
        let (shape, weightShape, window) = Self.directCases[index]
        let x = Random.withSeed(61) { Tensor.normal(shape) }
        let w = Random.withSeed(62) { Tensor.normal(weightShape) }
        let b = Random.withSeed(63) { Tensor.normal([weightShape[0]]) }
        let plan = ConvolutionPlan(input: shape, weight: weightShape, window: window, groups: 1)
        #expect(plan.usesDirectKernel(keepsPatches: false) == (synapse_cpu_level() > 0))
        #expect(!plan.usesDirectKernel(keepsPatches: true))
        for bias in [b, nil] as [Tensor?] {
            let expected = Self.directConvolution(x, w, bias ?? Tensor.zeros([weightShape[0]]), window: window, groups: 1)
            let y = Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: window) }
            #expect(y.count == expected.count && zip(y.scalars, expected).allSatisfy { abs(Double($0) - $1.value) <= 1e-6 * $1.magnitude + 1e-6 })
            for activation in [FusedActivation.relu, .silu, .clip(low: -0.5, high: 1), .hardSwish] {
                let fused = Tensor.withoutGradients { x.conv2d(weight: w, bias: bias, window: window, groups: 1, activation: activation) }
                #expect(fused.scalars.map(\.bitPattern) == y.activated(activation).scalars.map(\.bitPattern), "\(activation)")
            }
            // Each kernel level on the first sample; AVX2's and AVX-512's blocks add the same terms in the same order.
            var bits: [Int32: [Float]] = [:]
            for level: Int32 in [0, 1, 2] where level <= synapse_cpu_level() {
                var out = [Float](repeating: .nan, count: plan.outputs * plan.plane)
                var scratch = [Float](repeating: .nan, count: Int(synapse_direct_convolution_scratch(
                    Int32(plan.channels), Int32(window.size(0)), Int32(window.size(1)), Int32(window.stride(0)), Int32(window.stride(1)),
                    Int32(plan.outWidth), Int32(plan.outHeight))))
                let (weights, biases) = (w.scalars, bias?.scalars ?? [])
                x.scalars.withUnsafeBufferPointer { input in biases.withUnsafeBufferPointer { biases in
                    synapse_direct_convolution_at(
                        level, input.baseAddress!, Int32(plan.channels), Int32(plan.height), Int32(plan.width), weights,
                        bias == nil ? nil : biases.baseAddress,
                        Int32(plan.outputs), Int32(window.size(0)), Int32(window.size(1)), Int32(window.stride(0)), Int32(window.stride(1)),
                        Int32(window.padBefore(0)), Int32(window.padBefore(1)), &out, Int32(plan.outHeight), Int32(plan.outWidth),
                        0, Int32(plan.outHeight), Int32(SYNAPSE_ACTIVATION_NONE), 0, 0, &scratch)
                } }
                #expect(zip(out, expected).allSatisfy { abs(Double($0) - $1.value) <= 1e-6 * $1.magnitude + 1e-6 }, "level \(level)")
                bits[level] = out
            }
            if let avx2 = bits[1], let avx512 = bits[2] { #expect(avx2.map(\.bitPattern) == avx512.map(\.bitPattern)) }
            if synapse_cpu_level() > 0 { #expect(bits[synapse_cpu_level()]!.map(\.bitPattern) == Array(y.scalars.prefix(plan.outputs * plan.plane)).map(\.bitPattern)) }
        }
    }

    /// (input, weight, window): small planes, two panels of outputs (the second partial),
    /// several samples per product and a last product with fewer.
    static let packedCases: [([Int], [Int], SlidingWindow)] = [
        ([3, 16, 7, 7], [40, 16, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))),
        ([9, 8, 11, 11], [36, 8, 3, 3], SlidingWindow(size: (3, 3), stride: (2, 2), padding: (1, 0, 1, 0))),
        ([2, 24, 6, 5], [36, 24, 1, 1], SlidingWindow(size: (1, 1))),
        // Fewer than sixteen positions and channels: the stores' zero-padded tiles.
        ([2, 8, 3, 3], [12, 8, 1, 1], SlidingWindow(size: (1, 1))),
        // 33 channels: a last tile of seventeen, overlapping the one before it.
        ([1, 8, 5, 4], [33, 8, 3, 3], SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))),
    ]

    @Test("small planes in inference: the weight packed once gives the direct sums, and each fused activation's bits",
          arguments: 0..<5)
    func packedWeight(index: Int) {
        let (shape, weightShape, window) = Self.packedCases[index]
        let x = Random.withSeed(51) { Tensor.normal(shape) }
        let w = Random.withSeed(52) { Tensor.normal(weightShape) }
        let b = Random.withSeed(53) { Tensor.normal([weightShape[0]]) }
        let plan = ConvolutionPlan(input: shape, weight: weightShape, window: window, groups: 1)
        PreparedWeights.withPreparedWeights {
            // Where Winograd applies, the packed weight takes only a product of few rows.
            ConvolutionPlan.$forcesWinograd.withValue(true) {
                let window = Self.packedCases[0].2
                #expect(ConvolutionPlan(input: [1, 16, 7, 7], weight: [40, 16, 3, 3], window: window, groups: 1)
                    .usesPackedWeight(keepsPatches: false) == Kernels.PackedOperand.pays(rows: 49))
                #expect(!ConvolutionPlan(input: [2, 16, 7, 7], weight: [40, 16, 3, 3], window: window, groups: 1)
                    .usesPackedWeight(keepsPatches: false))
            }
            ConvolutionPlan.$forcesWinograd.withValue(false) {
                Tensor.withoutGradients {
                    #expect(plan.usesPackedWeight(keepsPatches: false) == Kernels.PackedOperand.pays(rows: plan.plane))
                    #expect(!plan.usesPackedWeight(keepsPatches: true))
                    for bias in [b, nil] as [Tensor?] {
                        let y = x.conv2d(weight: w, bias: bias, window: window)
                        let expected = Self.directConvolution(x, w, bias ?? Tensor.zeros([weightShape[0]]), window: window, groups: 1)
                        #expect(y.count == expected.count)
                        #expect(zip(y.scalars, expected).allSatisfy { abs(Double($0) - $1.value) <= 1e-6 * $1.magnitude + 1e-6 })
                        // The kept form serves the next call.
                        #expect(x.conv2d(weight: w, bias: bias, window: window).scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern))
                        for activation in [FusedActivation.relu, .clip(low: -0.5, high: 0.5), .silu, .sigmoid, .hardSwish] {
                            let fused = x.conv2d(weight: w, bias: bias, window: window, groups: 1, activation: activation)
                            #expect(fused.scalars.map(\.bitPattern) == y.activated(activation).scalars.map(\.bitPattern), "\(activation)")
                        }
                    }
                }
            }
        }
    }
}
