import Foundation
import Synapse
import Testing

/// A loss that turns NaN or infinite: the Trainer stops (or skips the step), and what is on
/// disk is never replaced by non-finite weights.
@Suite("Non-finite losses")
struct NonFiniteLossTests {
    func folder() -> String {
        let path = NSTemporaryDirectory() + "synapse-nonfinite-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A classifier on 20 fixed rows in batches of 5 (4 steps an epoch), SGD, checkpoints every
    /// 2 steps; the loss is multiplied by `poison(step)` (1 for a normal step).
    func makeTrainer(checkpoint: String?, poison: @escaping (Int) -> Float) -> Trainer {
        let model = Sequential(Linear(inputs: 3, outputs: 4), Tanh(), Linear(inputs: 4, outputs: 2))
        let inputs = Tensor((0..<60).map { Float(cos(Double($0) * 0.3)) }, shape: [20, 3])
        let labels = Tensor((0..<20).map { Float($0 % 2) })
        let loader = DataLoader(TensorDataset(inputs: inputs, targets: labels), batchSize: 5)
        var step = 0
        return Trainer(
            model: model, optimizer: SGD(parameters: model.namedParameters, learningRate: 0.1),
            loss: { output, target in
                step += 1
                return CrossEntropyLoss()(output, target) * Tensor([poison(step)])
            },
            data: loader, checkpoint: checkpoint, checkpointEverySteps: 2)
    }

    @Test("a NaN loss at step 7 stops with a DivergenceError naming it; the checkpoint keeps step 6")
    func stops() throws {
        let path = folder() + "/run.ckpt.h5"
        let trainer = Random.withSeed(3) { makeTrainer(checkpoint: path) { $0 == 7 ? .nan : 1 } }
        #expect {
            try trainer.fit(epochs: 5)
        } throws: { error in
            guard let divergence = error as? DivergenceError else { return false }
            return divergence.step == 7 && divergence.epoch == 2 && divergence.reason == "the loss is NaN"
                && divergence.lastFiniteLoss?.step == 6 && divergence.saved == TrainingProgress(epoch: 1, step: 6)
                && "\(divergence)".hasSuffix("Nothing was saved over \(path), which holds epoch 1, step 6: resume from it with a lower learning rate")
        }
        #expect(try CheckpointContents(contentsOf: path).progress == TrainingProgress(epoch: 1, step: 6))
    }

    @Test("with .skipStep, non-finite steps are skipped and counted; the others train exactly as a run without those batches")
    func skips() throws {
        let skipping = Random.withSeed(3) { makeTrainer(checkpoint: nil) { [3, 6].contains($0) ? .infinity : 1 } }
        skipping.nonFiniteLoss = .skipStep
        try skipping.fit(epochs: 2)
        #expect(skipping.skippedSteps == 2)
        #expect(skipping.progress == TrainingProgress(epoch: 2, step: 6))
        #expect(skipping.model.namedParameters.allSatisfy { $0.tensor.isFinite })
        // The same run whose loss is 0 on those steps: a zero gradient, so SGD without momentum
        // leaves the weights as a skipped step does.
        let zeroed = Random.withSeed(3) { makeTrainer(checkpoint: nil) { [3, 6].contains($0) ? 0 : 1 } }
        try zeroed.fit(epochs: 2)
        #expect(zip(skipping.model.namedParameters, zeroed.model.namedParameters).allSatisfy { $0.tensor.scalars == $1.tensor.scalars })
    }

    @Test("weights that turn non-finite while the losses stay finite are never saved")
    func nonFiniteWeightsNotSaved() throws {
        let path = folder() + "/run.ckpt.h5"
        let trainer = Random.withSeed(3) { makeTrainer(checkpoint: path) { _ in 1 } }
        try trainer.fit(epochs: 1)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        trainer.model.namedParameters[0].tensor.withUnsafeMutableBufferPointer { $0[0] = .infinity }
        #expect(throws: DivergenceError.self) { try trainer.save() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}
