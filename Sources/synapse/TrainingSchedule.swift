import Synapse

/// The learning-rate schedule `synapse train --scheduler` runs, and how its position travels in
/// the checkpoint's metadata (`scheduler_state`), so `--resume` continues it exactly.
enum TrainingSchedule {
    /// `step`: StepLR, γ 0.1 every third of the epochs. `cosine`: CosineAnnealingLR over the
    /// epochs (T_max = epochs), stepped per epoch. `onecycle`: OneCycleLR up to the optimizer's
    /// learning rate over every optimizer step. `plateau`: ReduceLROnPlateau on the epoch's mean
    /// loss (patience 2).
    static let names = ["step", "cosine", "onecycle", "plateau"]

    case perEpoch(any LearningRateScheduler)
    case perStep(OneCycleLR)
    case plateau(ReduceLROnPlateau)

    /// The schedule `name` for `optimizer` (whose learning rate is the base) over `epochs`
    /// epochs of `stepsPerEpoch` optimizer steps.
    init(_ name: String, optimizer: any Optimizer, epochs: Int, stepsPerEpoch: Int) {
        switch name {
        case "step": self = .perEpoch(StepLR(optimizer, stepSize: max(1, epochs / 3), gamma: 0.1))
        case "cosine": self = .perEpoch(CosineAnnealingLR(optimizer, maxSteps: max(1, epochs)))
        case "onecycle":
            let rate = optimizer.hyperparameters["learning_rate"] ?? 0.01
            let total = max(2, epochs * stepsPerEpoch)
            self = .perStep(OneCycleLR(optimizer, maxLearningRate: rate, totalSteps: total,
                                       cycleMomentum: optimizer.hyperparameters["momentum"].map { $0 > 0 } ?? true))
        default: self = .plateau(ReduceLROnPlateau(optimizer, factor: 0.5, patience: 2))
        }
    }

    /// After each optimizer step (OneCycle only, which stops at its last step).
    func afterStep() {
        if case .perStep(let scheduler) = self, scheduler.stepCount + 1 < scheduler.totalSteps { scheduler.step() }
    }

    /// After each epoch, with the epoch's mean loss.
    func afterEpoch(loss: Float) {
        switch self {
        case .perEpoch(let scheduler): scheduler.step()
        case .plateau(let scheduler): scheduler.step(metric: Double(loss))
        case .perStep: break
        }
    }

    /// The position as one metadata string (`name=value;…`) and back.
    var state: String {
        get {
            let values: [String: Double]
            switch self {
            case .perEpoch(let s): values = s.state
            case .perStep(let s): values = s.state
            case .plateau(let s): values = s.state
            }
            return SchedulerStateText.encode(values)
        }
        nonmutating set {
            let values = SchedulerStateText.decode(newValue)
            switch self {
            case .perEpoch(let s): s.state = values
            case .perStep(let s): s.state = values
            case .plateau(let s): s.state = values
            }
        }
    }
}
