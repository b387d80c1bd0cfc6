import Core
import NN
import Testing
import TestSupport

/// The original tutorial's worked example (sections 4 and 5.2), with the arithmetic redone by hand:
/// input [0, 1]; first layer weights [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]] in the original tutorial's
/// [in, out] layout, bias [0.1, 0.2, 0.3]; second layer [[0.7], [0.8], [0.9]], bias [0.1];
/// target 1; mean squared error.
///
/// Hidden pre-activations 0.5, 0.7, 0.9 → tanh 0.4621, 0.6044, 0.7163; output
/// pre-activation 0.7·0.4621 + 0.8·0.6044 + 0.9·0.7163 + 0.1 = 1.5516 (the original tutorial's text
/// writes 1.723) → sigmoid 0.8252. dL/dz₂ = 2(0.8252 − 1) · 0.8252 · 0.1748 = −0.05045.
@Suite("The original tutorial's worked example")
struct SeedWorkedExampleTests {
    @Test("forward values and every gradient, to 4 decimals")
    func workedExample() {
        let first = Linear(inputs: 2, outputs: 3)
        let second = Linear(inputs: 3, outputs: 1)
        // Synapse stores weights [out, in]: the original tutorial's [in, out] matrices transposed.
        first.weight.replaceScalars(with: [0.1, 0.4, 0.2, 0.5, 0.3, 0.6])
        first.bias!.replaceScalars(with: [0.1, 0.2, 0.3])
        second.weight.replaceScalars(with: [0.7, 0.8, 0.9])
        second.bias!.replaceScalars(with: [0.1])

        let input = Tensor([[0, 1]])
        let hidden = Tanh()(first(input))
        let output = Sigmoid()(second(hidden))
        let loss = MSELoss()(output, Tensor([[1]]))
        loss.backward()

        #expect(close(hidden.scalars, [0.4621, 0.6044, 0.7163], tolerance: 5e-5))
        #expect(close(output.scalars, [0.8252], tolerance: 5e-5))
        #expect(close(second.weight.grad!.scalars, [-0.02332, -0.03049, -0.03614], tolerance: 5e-6))
        #expect(close(second.bias!.grad!.scalars, [-0.05045], tolerance: 5e-6))
        // Column j of the [out, in] gradient is the original tutorial's row for input j.
        let firstGradient = first.weight.grad!
        #expect(close([firstGradient[0, 1], firstGradient[1, 1], firstGradient[2, 1]], [-0.02778, -0.02562, -0.02211], tolerance: 5e-6))
        #expect([firstGradient[0, 0], firstGradient[1, 0], firstGradient[2, 0]] == [0, 0, 0])
    }
}
