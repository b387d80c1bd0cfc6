import Optim

/// A learning-rate scheduler and when a `Trainer` steps it — PyTorch leaves that to the loop:
/// `everyEpoch` (StepLR, CosineAnnealingLR over epochs, …), `everyStep` (OneCycleLR, warm-up
/// per step), `onPlateau` (ReduceLROnPlateau on the validation loss, or on the epoch's mean
/// training loss without validation data).
public enum LearningRateSchedule {
    /// Stepped once after every epoch (StepLR, CosineAnnealingLR over epochs, …).
    case everyEpoch(any LearningRateScheduler)
    /// Stepped after every optimizer step (OneCycleLR, a warm-up counted in steps).
    case everyStep(any LearningRateScheduler)
    /// Given the validation loss (or the epoch's mean training loss) after every epoch.
    case onPlateau(ReduceLROnPlateau)

    /// After each optimizer step. A OneCycleLR is not stepped past its last step (PyTorch raises
    /// there), so a run longer than its cycle ends at the final rate.
    func afterStep() {
        guard case .everyStep(let scheduler) = self else { return }
        if let cycle = scheduler as? OneCycleLR, cycle.stepCount + 1 >= cycle.totalSteps { return }
        scheduler.step()
    }

    /// After each epoch, with the figure a plateau is judged on.
    func afterEpoch(metric: Float) {
        switch self {
        case .everyEpoch(let scheduler): scheduler.step()
        case .onPlateau(let scheduler): scheduler.step(metric: Double(metric))
        case .everyStep: break
        }
    }

    /// The scheduler's position, as `LearningRateScheduler.state` holds it.
    public var state: [String: Double] {
        get {
            switch self {
            case .everyEpoch(let s), .everyStep(let s): s.state
            case .onPlateau(let s): s.state
            }
        }
        nonmutating set {
            switch self {
            case .everyEpoch(let s), .everyStep(let s): s.state = newValue
            case .onPlateau(let s): s.state = newValue
            }
        }
    }
}
