import Core
import NN
import Testing

@Suite("Modules print as a tree and remember their members")
struct ModuleDescriptionTests {
    final class Model: Module, Layer {
        let hidden = Linear(inputs: 3, outputs: 8)
        let head = Sequential(Tanh(), Dropout(0.1), Linear(inputs: 8, outputs: 1, bias: false))
        let norm = BatchNorm1d(features: 8)
        func forward(_ x: Tensor) -> Tensor { head(norm(hidden(x))) }
    }

    @Test("print(model): each layer with its settings, nested, then the parameter and buffer counts")
    func tree() {
        #expect("\(Model())" == """
            Model(
              (hidden): Linear(inputs: 3, outputs: 8, bias: true)
              (head): Sequential(
                (0): Tanh()
                (1): Dropout(p: 0.1)
                (2): Linear(inputs: 8, outputs: 1, bias: false)
              )
              (norm): BatchNorm1d(8, eps: 1e-05, momentum: 0.1, affine: true, trackRunningStats: true)
            )
            Parameters: 56 in 5 tensors; buffers: 17 in 3 tensors
            """)
        // A module without settings of its own shows its tensors' shapes.
        final class Scale: Module, Layer {
            let factor = Tensor([2, 3], requiresGrad: true)
            func forward(_ x: Tensor) -> Tensor { x * factor }
        }
        #expect("\(Scale())" == "Scale(factor: [2])\nParameters: 2 in 1 tensors")
    }

    @Test("members are found once; a replaced submodule shows after membersChanged()")
    func cachedMembers() {
        final class Swappable: Module, Layer {
            var layer = Linear(inputs: 2, outputs: 2)
            func forward(_ x: Tensor) -> Tensor { layer(x) }
        }
        let model = Swappable()
        let first = model.namedParameters.map { ObjectIdentifier($0.tensor) }
        #expect(model.namedParameters.map { ObjectIdentifier($0.tensor) } == first, "the same tensors every time")
        model.layer = Linear(inputs: 2, outputs: 2)
        #expect(model.namedParameters.map { ObjectIdentifier($0.tensor) } == first, "remembered until told")
        model.membersChanged()
        let second = model.namedParameters.map { ObjectIdentifier($0.tensor) }
        #expect(second != first && second.count == 2)
        #expect(second == [ObjectIdentifier(model.layer.weight), ObjectIdentifier(model.layer.bias!)])
    }

    @Test("buffers say whether data-parallel training averages them: running statistics yes, the batch counter no")
    func averagedBuffers() {
        let model = Model()
        #expect(model.namedBuffers.map(\.name) == ["norm.running_mean", "norm.running_var", "norm.num_batches_tracked"])
        #expect(model.namedAveragedBuffers.map(\.name) == ["norm.running_mean", "norm.running_var"])
    }
}
