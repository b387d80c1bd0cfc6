import Core
import ExampleTasks
import NN
import Testing
import TestSupport

@Suite("The XOR example")
struct XORTests {
    @Test("with its defaults, every prediction is within 0.1 of its target")
    func converges() {
        let outcome = XOR.train()
        let targets = XOR.targets.scalars
        for (prediction, target) in zip(outcome.predictions, targets) {
            #expect(abs(prediction - target) < 0.1, "predicted \(prediction) for \(target)")
        }
        #expect(outcome.finalLoss < 0.01)
    }

    @Test("two trainings from the same seed give bit-identical weights; another seed differs")
    func deterministic() {
        let first = XOR.train(epochs: 300, seed: 7)
        let second = XOR.train(epochs: 300, seed: 7)
        let other = XOR.train(epochs: 300, seed: 8)
        let weights = { (outcome: XOR.Outcome) in outcome.model.parameters.map(\.scalars) }
        #expect(weights(first) == weights(second))
        #expect(first.finalLoss.bitPattern == second.finalLoss.bitPattern)
        #expect(weights(first) != weights(other))
    }
}
