import Core

/// Sets an optimizer's learning rate as training goes, PyTorch's `torch.optim.lr_scheduler`:
/// made after the optimizer (whose learning rate becomes the base), it sets the rate for step
/// 0 at once; each `step()` (once per epoch, or once per optimizer step — the caller's choice,
/// as in PyTorch) advances the count and sets the next rate.
///
/// Its position is `stepCount` (PyTorch's `last_epoch`) plus what `state` holds, so a
/// checkpoint that saves `state` and restores it resumes the schedule exactly.
public protocol LearningRateScheduler: AnyObject {
    /// The optimizer whose `learningRate` this scheduler sets.
    var optimizer: any Optimizer { get }
    /// The learning rate the optimizer had when the scheduler was made.
    var baseLearningRate: Double { get }
    /// Steps taken so far (PyTorch's `last_epoch`).
    var stepCount: Int { get set }
    /// The learning rate at step `step`.
    func learningRate(at step: Int) -> Double
    /// Sets the optimizer's hyper-parameters for `stepCount` (by default its learning rate).
    func apply()
    /// The scheduler's position, by name (`step_count`, …), and restoring it.
    var state: [String: Double] { get set }
}

extension LearningRateScheduler {
    /// The learning rate in use.
    public var currentLearningRate: Double { Double(optimizer.learningRate) }

    /// Advances one step and sets the optimizer's learning rate for it.
    public func step() {
        stepCount += 1
        apply()
    }

    /// Sets the optimizer's learning rate for `stepCount`.
    public func apply() {
        optimizer.learningRate = Float(learningRate(at: stepCount))
    }

    public var state: [String: Double] {
        get { ["step_count": Double(stepCount)] }
        set {
            stepCount = Int(newValue["step_count"] ?? 0)
            apply()
        }
    }
}

/// A scheduler's `state` as one line of text (`name=value;…`), for a checkpoint's metadata, and
/// back; unreadable pairs are skipped.
public enum SchedulerStateText {
    public static func encode(_ state: [String: Double]) -> String {
        state.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    public static func decode(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for pair in text.split(separator: ";") {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}

/// What every schedule shares, written once: the optimizer, the base rate (the optimizer's
/// learning rate when the schedule is made), the step count, setting the optimizer's rate
/// (`apply`) and the position a checkpoint keeps (`state`). A schedule writes only its rate,
/// `learningRate(at:)`, and calls `apply()` at the end of its initializer.
open class ScheduleBase: LearningRateScheduler {
    public let optimizer: any Optimizer
    public let baseLearningRate: Double
    public var stepCount = 0

    /// A schedule of `optimizer`, whose learning rate now is the base (unless `baseLearningRate`).
    public init(_ optimizer: any Optimizer, baseLearningRate: Double? = nil) {
        self.optimizer = optimizer
        self.baseLearningRate = baseLearningRate ?? Double(optimizer.learningRate)
    }

    /// The learning rate at step `step`: what a schedule defines.
    open func learningRate(at step: Int) -> Double { misuse("\(type(of: self)) does not define learningRate(at:)") }

    /// Sets the optimizer's learning rate for `stepCount`.
    open func apply() { optimizer.learningRate = Float(learningRate(at: stepCount)) }

    /// The position (`step_count`); setting it continues from there.
    open var state: [String: Double] {
        get { ["step_count": Double(stepCount)] }
        set {
            stepCount = Int(newValue["step_count"] ?? 0)
            apply()
        }
    }
}

/// lr = base · γ^⌊step / stepSize⌋ (PyTorch's `StepLR`).
public final class StepLR: ScheduleBase {
    public let stepSize: Int
    public let gamma: Double

    /// The rate multiplied by `gamma` every `stepSize` steps; the optimizer's rate now is the base.
    public init(_ optimizer: any Optimizer, stepSize: Int, gamma: Double = 0.1) {
        require(stepSize > 0, "StepLR: stepSize must be positive, got \(stepSize)")
        (self.stepSize, self.gamma) = (stepSize, gamma)
        super.init(optimizer)
        apply()
    }

    override public func learningRate(at step: Int) -> Double { baseLearningRate * Glibc.pow(gamma, Double(step / stepSize)) }
}

/// lr = base · γ^(milestones passed) (PyTorch's `MultiStepLR`): γ once more at each milestone.
public final class MultiStepLR: ScheduleBase {
    public let milestones: [Int]
    public let gamma: Double

    /// The rate multiplied by `gamma` at each of `milestones` (steps).
    public init(_ optimizer: any Optimizer, milestones: [Int], gamma: Double = 0.1) {
        (self.milestones, self.gamma) = (milestones.sorted(), gamma)
        super.init(optimizer)
        apply()
    }

    override public func learningRate(at step: Int) -> Double {
        baseLearningRate * Glibc.pow(gamma, Double(milestones.filter { $0 <= step }.count))
    }
}

/// lr = base · γ^step (PyTorch's `ExponentialLR`).
public final class ExponentialLR: ScheduleBase {
    public let gamma: Double

    /// The rate multiplied by `gamma` every step.
    public init(_ optimizer: any Optimizer, gamma: Double) {
        self.gamma = gamma
        super.init(optimizer)
        apply()
    }

    override public func learningRate(at step: Int) -> Double { baseLearningRate * Glibc.pow(gamma, Double(step)) }
}

/// lr = η_min + (base − η_min) · (1 + cos(π · step / T_max)) / 2 (PyTorch's
/// `CosineAnnealingLR`): from the base down to η_min over `maxSteps` steps, and back up after.
public final class CosineAnnealingLR: ScheduleBase {
    public let maxSteps: Int
    public let minimumLearningRate: Double

    /// Cosine annealing from the base to `minimumLearningRate` over `maxSteps` steps (T_max).
    public init(_ optimizer: any Optimizer, maxSteps: Int, minimumLearningRate: Double = 0) {
        require(maxSteps > 0, "CosineAnnealingLR: maxSteps must be positive, got \(maxSteps)")
        (self.maxSteps, self.minimumLearningRate) = (maxSteps, minimumLearningRate)
        super.init(optimizer)
        apply()
    }

    override public func learningRate(at step: Int) -> Double {
        minimumLearningRate + (baseLearningRate - minimumLearningRate) * (1 + Glibc.cos(Double.pi * Double(step) / Double(maxSteps))) / 2
    }
}

/// lr = base · (start + (end − start) · min(step, total) / total) (PyTorch's `LinearLR`):
/// a linear warm-up from `startFactor` to `endFactor` of the base over `totalSteps` steps.
public final class LinearLR: ScheduleBase {
    public let startFactor: Double
    public let endFactor: Double
    public let totalSteps: Int

    /// A linear ramp from `startFactor` to `endFactor` times the base over `totalSteps` steps.
    public init(_ optimizer: any Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalSteps: Int = 5) {
        require(startFactor > 0 && startFactor <= 1 && endFactor >= 0 && endFactor <= 1 && totalSteps > 0,
                "LinearLR: factors must be in (0, 1] and [0, 1], totalSteps positive")
        (self.startFactor, self.endFactor, self.totalSteps) = (startFactor, endFactor, totalSteps)
        super.init(optimizer)
        apply()
    }

    override public func learningRate(at step: Int) -> Double {
        baseLearningRate * (startFactor + (endFactor - startFactor) * Double(min(step, totalSteps)) / Double(totalSteps))
    }
}
