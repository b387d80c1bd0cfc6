import Synapse

/// The learning-rate schedules `synapse train --scheduler` offers, as a `Trainer` runs them;
/// their position travels in the checkpoint's metadata (`scheduler_state`), so `--resume`
/// continues it exactly.
enum TrainingSchedule {
    /// `step`: StepLR, γ 0.1 every third of the epochs. `cosine`: CosineAnnealingLR over the
    /// epochs (T_max = epochs), stepped per epoch. `onecycle`: OneCycleLR up to the optimizer's
    /// learning rate over every optimizer step. `plateau`: ReduceLROnPlateau on the epoch's mean
    /// loss, or the validation loss with --validation-split (patience 2).
    static let names = ["step", "cosine", "onecycle", "plateau"]

    /// The schedule `name` for `optimizer` (whose learning rate is the base) over `epochs`
    /// epochs of `stepsPerEpoch` optimizer steps.
    static func make(_ name: String, optimizer: any Optimizer, epochs: Int, stepsPerEpoch: Int) -> LearningRateSchedule {
        switch name {
        case "step": return .everyEpoch(StepLR(optimizer, stepSize: max(1, epochs / 3), gamma: 0.1))
        case "cosine": return .everyEpoch(CosineAnnealingLR(optimizer, maxSteps: max(1, epochs)))
        case "onecycle":
            let rate = Double(optimizer.learningRate)
            let total = max(2, epochs * stepsPerEpoch)
            return .everyStep(OneCycleLR(optimizer, maxLearningRate: rate, totalSteps: total,
                                         cycleMomentum: optimizer.cycledMomentum.map { $0 > 0 } ?? false))
        default: return .onPlateau(ReduceLROnPlateau(optimizer, factor: 0.5, patience: 2))
        }
    }
}
