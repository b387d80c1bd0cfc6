import Core
import Foundation
@testable import IO
import NN
import Optim
import Testing

/// A layer with state that is saved but not trained, as BatchNorm's running statistics.
final class Shifted: Module, Layer {
    let linear = Linear(inputs: 2, outputs: 2)
    @Buffer("running_shift") var shift = Tensor.zeros([2])
    func forward(_ x: Tensor) -> Tensor { linear(x) - shift }
}

@Suite("Buffers in checkpoints and model files")
struct BufferTests {
    @Test("a checkpoint saves buffers beside the parameters and loads them back; the optimizer never sees them")
    func checkpoint() throws {
        let path = temporaryFolder() + "/buffers.ckpt.h5"
        let model = Random.withSeed(1) { Shifted() }
        model.shift.replaceScalars(with: [0.5, -2])
        let optimizer = SGD(parameters: model.namedParameters, learningRate: 0.1)
        #expect(optimizer.namedParameters.map(\.name) == ["linear.weight", "linear.bias"])
        try Checkpoint.save(to: path, model: model, optimizer: optimizer)
        let contents = try CheckpointContents(contentsOf: path)
        #expect(contents.weights.map(\.name).sorted() == ["linear.bias", "linear.weight", "running_shift"])
        let fresh = Random.withSeed(2) { Shifted() }
        try Checkpoint.load(from: path, into: fresh, restoreRandomState: false)
        #expect(fresh.shift.scalars == [0.5, -2])
        #expect(fresh.linear.weight.scalars == model.linear.weight.scalars)
    }

    @Test("a model file carries buffers as named initializers and predicts the same")
    func modelFile() throws {
        let name = temporaryFolder() + "/buffers"
        let model = Random.withSeed(3) { Shifted() }
        model.shift.replaceScalars(with: [1, 2])
        let input = Tensor([[1, 2], [3, 4], [5, 6]])
        try ModelFile.save(model, exampleInput: input, to: name)
        let loaded = try ModelFile.load(name + ".onnx")
        #expect(loaded.namedParameters.map(\.name).contains("running_shift"))
        let expected = Tensor.withoutGradients { model(input).scalars }
        let actual = Tensor.withoutGradients { loaded(Tensor([[1, 2]])).scalars }
        #expect(expected.prefix(2).elementsEqual(actual))
    }
}
