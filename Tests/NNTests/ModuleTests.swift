import Core
import NN
import Optim
import Testing
import TestSupport

// Every model here is made inside Random.withSeed: the process generator is shared with
// tests that check it does not move.

/// A user's model as the README shows it: no hand-written list of parameters.
final class UserModel: Module, Layer {
    let hidden = Linear(inputs: 3, outputs: 8)
    let head = Sequential(Tanh(), Linear(inputs: 8, outputs: 1))
    func forward(_ x: Tensor) -> Tensor { head(hidden(x)) }
}

/// Every kind of member reflection understands.
final class Everything: Module {
    let scale = Tensor([2], requiresGrad: true)
    let missing: Linear? = nil
    let present: Linear? = Linear(inputs: 1, outputs: 1, bias: false)
    let blocks = [Linear(inputs: 1, outputs: 2), Linear(inputs: 2, outputs: 1)]
    @Key("w_ho") var output = Linear(inputs: 2, outputs: 2, bias: false)
    @Buffer("running_mean") var runningMean = Tensor.zeros([2])
    @Buffer var count = Tensor.zeros([])
    let inner = Inner()
    let _cache = Tensor([9])
    let width = 4
}

final class Inner: Module {
    @Buffer var statistics = Tensor.ones([3])
    let weight = Tensor([1], requiresGrad: true)
}

@Suite("Module system: reflection, keys, buffers, train/eval")
struct ModuleTests {
    @Test("a model without namedParameters gets PyTorch's names in declaration order")
    func userModel() {
        let model = Random.withSeed(1) { UserModel() }
        #expect(model.namedParameters.map(\.name) == ["hidden.weight", "hidden.bias", "head.1.weight", "head.1.bias"])
        #expect(model.parameters.map(\.shape) == [[8, 3], [8], [1, 8], [1]])
        #expect(model.parameters[0] === model.hidden.weight)
    }

    @Test("tensors, optionals, arrays, keys, buffers, nested modules; caches and other values skipped")
    func everything() {
        let model = Random.withSeed(2) { Everything() }
        #expect(model.namedParameters.map(\.name) == [
            "scale", "present.weight", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
            "w_ho.weight", "inner.weight",
        ])
        #expect(model.namedBuffers.map(\.name) == ["running_mean", "count", "inner.statistics"])
        #expect(model.namedState.count == 11)
        #expect(model.namedChildren.map(\.name) == ["present", "blocks.0", "blocks.1", "w_ho", "inner"])
    }

    @Test("the original tutorial's cells keep their checkpoint names")
    func cellNames() {
        let lstm = Random.withSeed(3) { LSTMCell(inputs: 2, hidden: 3, outputs: 4) }
        #expect(lstm.namedParameters.map(\.name) == [
            "xf.weight", "xf.bias", "xi.weight", "xi.bias", "xo.weight", "xo.bias", "xc.weight", "xc.bias",
            "hf.weight", "hi.weight", "ho.weight", "hc.weight", "w_ho.weight",
        ])
        let rnn = Random.withSeed(4) { RNNCell(inputs: 2, hidden: 3, outputs: 4) }
        #expect(rnn.namedParameters.map(\.name) == ["w_ih.weight", "w_ih.bias", "w_hh.weight", "w_hh.bias", "w_ho.weight", "w_ho.bias"])
    }

    @Test("train() and eval() reach every nested module")
    func modes() {
        let model = Random.withSeed(2) { Everything() }
        #expect(model.isTraining && model.inner.isTraining)
        model.eval()
        #expect(!model.isTraining && !model.inner.isTraining && !model.blocks[1].isTraining && !model.output.isTraining)
        model.train()
        #expect(model.inner.isTraining && model.present!.isTraining)
        let network = Random.withSeed(5) { Sequential(Linear(inputs: 1, outputs: 1), Sequential(ReLU())) }
        network.eval()
        #expect(!(network.layers[1] as! Sequential).layers[0].isTraining)
    }

    @Test("an optimizer gets parameters only, never buffers, and training moves them")
    func optimizerSeesParameters() {
        let model = Random.withSeed(2) { Everything() }
        let optimizer = SGD(parameters: model.namedParameters, learningRate: 0.1)
        #expect(optimizer.namedParameters.count == 8)
        let before = model.runningMean.scalars
        let loss = (model.blocks[1](model.output(model.blocks[0](Tensor([[1]])))) * model.scale).sum()
        loss.backward()
        optimizer.step()
        #expect(model.runningMean.scalars == before)
    }

    @Test("a module may still list its parameters itself")
    func override() {
        final class Listed: Module {
            let a = Tensor([1], requiresGrad: true)
            override var namedParameters: [(name: String, tensor: Tensor)] { [("renamed", a)] }
        }
        #expect(Listed().namedParameters.map(\.name) == ["renamed"])
    }
}
