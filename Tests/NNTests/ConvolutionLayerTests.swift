import Core
import NN
import Testing
import TestSupport

/// The convolutional layers against PyTorch (tools/fixtures/cnn_fixtures.py): outputs and
/// gradients, BatchNorm's running statistics after several steps, Dropout's scaling, and the
/// train/eval switch through `Sequential`.
@Suite("Convolutional layers against PyTorch")
struct ConvolutionLayerTests {
    typealias F = PyTorchCNNFixtures

    /// Runs `layer` on `input` (of `shape`), backpropagates `upstream` and compares output,
    /// input gradient and each parameter's gradient with PyTorch's.
    func expectMatches(
        _ layer: some Layer, input: [Float], shape: [Int], output: [Float], outputShape: [Float], upstream: [Float],
        inputGradient: [Float], parameterGradients: [(Tensor, [Float])] = [], tolerance: Float = 1e-5,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let x = Tensor(input, shape: shape, requiresGrad: true)
        let y = layer(x)
        #expect(y.shape == outputShape.map { Int($0) }, sourceLocation: sourceLocation)
        #expect(close(y.scalars, output, tolerance: tolerance), "output", sourceLocation: sourceLocation)
        y.backward(gradient: Tensor(upstream, shape: y.shape))
        #expect(close(x.grad?.scalars ?? [], inputGradient, tolerance: tolerance), "input gradient", sourceLocation: sourceLocation)
        for (index, (parameter, expected)) in parameterGradients.enumerated() {
            #expect(close(parameter.grad?.scalars ?? [], expected, tolerance: 1e-4), "parameter \(index) gradient", sourceLocation: sourceLocation)
        }
    }

    @Test("Conv2d with stride, padding, dilation and groups; Conv1d")
    func convolutions() {
        let conv = Conv2d(inputs: 4, outputs: 6, kernelSize: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2)
        #expect(conv.namedParameters.map(\.name) == ["weight", "bias"])
        #expect(conv.weight.shape == [6, 2, 3, 2])
        conv.weight.replaceScalars(with: F.conv2dWeight)
        conv.bias!.replaceScalars(with: F.conv2dBias)
        expectMatches(
            conv, input: F.conv2dInput, shape: [2, 4, 7, 6], output: F.conv2dOutput, outputShape: F.conv2dOutputShape,
            upstream: F.conv2dUpstream, inputGradient: F.conv2dInputGradient,
            parameterGradients: [(conv.weight, F.conv2dWeightGradient), (conv.bias!, F.conv2dBiasGradient)])

        let conv1 = Conv1d(inputs: 3, outputs: 4, kernelSize: 3, stride: 2, padding: 1)
        #expect(conv1.weight.shape == [4, 3, 3])
        conv1.weight.replaceScalars(with: F.conv1dWeight)
        conv1.bias!.replaceScalars(with: F.conv1dBias)
        expectMatches(
            conv1, input: F.conv1dInput, shape: [2, 3, 9], output: F.conv1dOutput, outputShape: F.conv1dOutputShape,
            upstream: F.conv1dUpstream, inputGradient: F.conv1dInputGradient,
            parameterGradients: [(conv1.weight, F.conv1dWeightGradient), (conv1.bias!, F.conv1dBiasGradient)])
    }

    @Test("Conv2d initialises as PyTorch: uniform in ±1/√fan_in")
    func initialisation() {
        let conv = Random.withSeed(3) { Conv2d(inputs: 8, outputs: 64, kernelSize: 3, groups: 2) }
        let bound = 1 / Float(4 * 9).squareRoot()
        let values = conv.weight.scalars
        #expect(values.allSatisfy { abs($0) <= bound })
        #expect(values.max()! > 0.9 * bound && values.min()! < -0.9 * bound)
        #expect(conv.bias!.scalars.allSatisfy { abs($0) <= bound })
    }

    @Test("MaxPool2d, AvgPool2d (ceil mode, padding in or out of the divisor), AdaptiveAvgPool2d")
    func pools() {
        expectMatches(
            MaxPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true), input: F.maxPoolInput, shape: [2, 2, 6, 7],
            output: F.maxPoolOutput, outputShape: F.maxPoolOutputShape, upstream: F.maxPoolUpstream, inputGradient: F.maxPoolInputGradient)
        expectMatches(
            AvgPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true), input: F.avgPoolCeilInput, shape: [2, 2, 6, 7],
            output: F.avgPoolCeilOutput, outputShape: F.avgPoolCeilOutputShape, upstream: F.avgPoolCeilUpstream,
            inputGradient: F.avgPoolCeilInputGradient)
        expectMatches(
            AvgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false), input: F.avgPoolExcludePadInput,
            shape: [2, 2, 6, 7], output: F.avgPoolExcludePadOutput, outputShape: F.avgPoolExcludePadOutputShape,
            upstream: F.avgPoolExcludePadUpstream, inputGradient: F.avgPoolExcludePadInputGradient)
        expectMatches(
            AdaptiveAvgPool2d([3, 2]), input: F.adaptiveAvgPoolInput, shape: [2, 2, 7, 5], output: F.adaptiveAvgPoolOutput,
            outputShape: F.adaptiveAvgPoolOutputShape, upstream: F.adaptiveAvgPoolUpstream, inputGradient: F.adaptiveAvgPoolInputGradient)
        let x = Tensor((0..<32).map(Float.init), shape: [2, 1, 4, 4])
        #expect(AdaptiveAvgPool2d(1)(x).scalars == [7.5, 23.5])
        #expect(Flatten()(x).shape == [2, 16])
    }

    @Test("BatchNorm2d: running statistics after three steps, the third step's gradients, eval output")
    func batchNorm2d() {
        let bn = BatchNorm2d(features: 3)
        #expect(bn.namedState.map(\.name) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(bn.namedParameters.count == 2)
        bn.weight!.replaceScalars(with: F.batchNormWeight)
        bn.bias!.replaceScalars(with: F.batchNormBias)
        _ = bn(Tensor(F.batchNormBatch0, shape: [4, 3, 2, 3]))
        _ = bn(Tensor(F.batchNormBatch1, shape: [4, 3, 2, 3]))
        expectMatches(
            bn, input: F.batchNormTrainInput, shape: [4, 3, 2, 3], output: F.batchNormTrainOutput,
            outputShape: F.batchNormTrainOutputShape, upstream: F.batchNormTrainUpstream, inputGradient: F.batchNormTrainInputGradient,
            parameterGradients: [(bn.weight!, F.batchNormTrainWeightGradient), (bn.bias!, F.batchNormTrainBiasGradient)], tolerance: 1e-4)
        #expect(close(bn.runningMean!.scalars, F.batchNormRunningMean))
        #expect(close(bn.runningVar!.scalars, F.batchNormRunningVar))
        #expect(bn.batchesTracked!.scalar == F.batchNormBatchesTracked)
        bn.eval()
        let evaluated = bn(Tensor(F.batchNormEvalInput, shape: [2, 3, 2, 3]))
        #expect(close(evaluated.scalars, F.batchNormEvalOutput, tolerance: 1e-5))
        #expect(bn.batchesTracked!.scalar == 3, "evaluation leaves the statistics alone")
    }

    @Test("BatchNorm1d with momentum nil keeps a cumulative average")
    func batchNorm1d() {
        let bn = BatchNorm1d(features: 2, momentum: nil)
        for batch in [F.batchNorm1dBatch0, F.batchNorm1dBatch1, F.batchNorm1dBatch2] { _ = bn(Tensor(batch, shape: [5, 2])) }
        #expect(close(bn.runningMean!.scalars, F.batchNorm1dRunningMean))
        #expect(close(bn.runningVar!.scalars, F.batchNorm1dRunningVar))
        let plain = BatchNorm1d(features: 2, affine: false, trackRunningStats: false)
        #expect(plain.namedState.isEmpty)
        plain.eval()
        let y = plain(Tensor([1, 10, 3, 30], shape: [2, 2]))
        #expect(close(y.scalars, [-1, -1, 1, 1], tolerance: 1e-3), "without running statistics, evaluation normalises by the batch")
    }

    @Test("Dropout scales by 1/(1−p) in training, is the identity in eval, repeats with the seed")
    func dropout() {
        let x = Tensor(shape: [200, 50], repeating: 2)
        let layer = Dropout(0.3)
        let y = Random.withSeed(5) { layer(x) }
        let values = y.scalars
        #expect(values.allSatisfy { $0 == 0 || abs($0 - 2 / 0.7) < 1e-6 })
        let dropped = Float(values.filter { $0 == 0 }.count) / Float(values.count)
        #expect(abs(dropped - 0.3) < 0.02, "dropped \(dropped)")
        #expect(Random.withSeed(5) { layer(x) }.scalars == values)
        layer.eval()
        #expect(layer(x) === x)
        let channels = Random.withSeed(6) { Dropout2d(0.5)(Tensor(shape: [4, 8, 3, 3], repeating: 1)) }.scalars
        for plane in 0..<32 {
            let values = Set(channels[(plane * 9)..<(plane * 9 + 9)])
            #expect(values == [0] || values == [2], "a channel is dropped or kept whole")
        }
    }

    @Test("train() and eval() reach Dropout and BatchNorm inside Sequential")
    func modes() {
        let model = Random.withSeed(1) {
            Sequential(Conv2d(inputs: 1, outputs: 2, kernelSize: 3, padding: 1), BatchNorm2d(features: 2), ReLU(), Dropout(0.5), Flatten())
        }
        let x = Random.withSeed(2) { Tensor.uniform([3, 1, 4, 4]) }
        model.eval()
        let first = model(x).scalars
        #expect(model(x).scalars == first, "evaluation is deterministic")
        model.train()
        let trained = Random.withSeed(3) { model(x) }.scalars
        #expect(trained.filter { $0 == 0 }.count > first.filter { $0 == 0 }.count, "dropout is on in training")
        #expect((model.layers[1] as! BatchNorm2d).batchesTracked!.scalar == 1)
        #expect(model.namedState.map(\.name) == [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        ])
    }
}
