import Core
import Testing
import TestSupport

/// `x · y²` (x and y of one shape) with a hand-written backward (`y²` and `2xy`), and a function of two inputs of
/// which one (an index-like mask) gets no gradient.
struct ProductSquare: DifferentiableFunction {
    var name: String { "ProductSquare" }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0] * inputs[1] * inputs[1] }
    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        [gradient * inputs[1] * inputs[1], gradient * inputs[0] * inputs[1] * 2]  // inputs of one shape
    }
}

struct Masked: DifferentiableFunction {
    var name: String { "Masked" }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0] * inputs[1] }
    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] { [gradient * inputs[1], nil] }
}

@Suite("Custom differentiable functions")
struct CustomFunctionTests {
    @Test("a custom function's backward is what backward() uses: finite differences agree, in a larger graph")
    func finiteDifferences() {
        let x = parameter([2, 3], seed: 1), y = parameter([2, 3], seed: 2)
        expectGradientsMatchFiniteDifferences([x, y]) { t in (Tensor.apply(ProductSquare(), [t[0].tanh(), t[1]]) + t[0]).sigmoid() }
    }

    @Test("recorded as .custom only when gradients are recorded; an input without a gradient gets none")
    func recording() {
        let x = parameter([3], seed: 3)
        let mask = Tensor([1, 0, 1])
        let y = Tensor.apply(Masked(), [x, mask])
        #expect(y.creationOp == .custom && y.requiresGrad)
        y.sum().backward()
        #expect(x.grad?.scalars == [1, 0, 1] && mask.grad == nil)
        let plain = Tensor.withoutGradients { Tensor.apply(Masked(), [x, mask]) }
        #expect(plain.creationOp == nil && !plain.requiresGrad)
        #expect(Tensor.apply(Masked(), [Tensor([1, 2]), Tensor([3, 4])]).creationOp == nil, "no input requires gradients")
    }

    @Test("a function without an ONNX mapping cannot be exported, and the error names it")
    func exportWithoutMapping() throws {
        let x = parameter([3], seed: 4)
        let y = Tensor.apply(Masked(), [x, Tensor([1, 0, 1])])
        var context = ExportContext()
        #expect(throws: CustomFunctionExportError(function: "Masked")) {
            try y.exportNodes(inputs: ["x", "m"], shapes: [[3], [3]], output: "y", context: &context)
        }
        #expect("\(CustomFunctionExportError(function: "Masked"))".hasPrefix("custom function Masked has no ONNX mapping"))
    }
}
