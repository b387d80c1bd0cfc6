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

/// The learning rate the optimizer holds now, as a scheduler's base.
func baseRate(of optimizer: any Optimizer, scheduler: String) -> Double { Double(optimizer.learningRate) }

/// lr = base · γ^⌊step / stepSize⌋ (PyTorch's `StepLR`).
public final class StepLR: LearningRateScheduler {
    public let optimizer: any Optimizer
    public let baseLearningRate: Double
    public var stepCount = 0
    public let stepSize: Int
    public let gamma: Double

    public init(_ optimizer: any Optimizer, stepSize: Int, gamma: Double = 0.1) {
        require(stepSize > 0, "StepLR: stepSize must be positive, got \(stepSize)")
        (self.optimizer, self.stepSize, self.gamma) = (optimizer, stepSize, gamma)
        baseLearningRate = baseRate(of: optimizer, scheduler: "StepLR")
        apply()
    }

    public func learningRate(at step: Int) -> Double { baseLearningRate * Glibc.pow(gamma, Double(step / stepSize)) }
}

/// lr = base · γ^(milestones passed) (PyTorch's `MultiStepLR`): γ once more at each milestone.
public final class MultiStepLR: LearningRateScheduler {
    public let optimizer: any Optimizer
    public let baseLearningRate: Double
    public var stepCount = 0
    public let milestones: [Int]
    public let gamma: Double

    public init(_ optimizer: any Optimizer, milestones: [Int], gamma: Double = 0.1) {
        (self.optimizer, self.milestones, self.gamma) = (optimizer, milestones.sorted(), gamma)
        baseLearningRate = baseRate(of: optimizer, scheduler: "MultiStepLR")
        apply()
    }

    public func learningRate(at step: Int) -> Double {
        baseLearningRate * Glibc.pow(gamma, Double(milestones.filter { $0 <= step }.count))
    }
}

/// lr = base · γ^step (PyTorch's `ExponentialLR`).
public final class ExponentialLR: LearningRateScheduler {
    public let optimizer: any Optimizer
    public let baseLearningRate: Double
    public var stepCount = 0
    public let gamma: Double

    public init(_ optimizer: any Optimizer, gamma: Double) {
        (self.optimizer, self.gamma) = (optimizer, gamma)
        baseLearningRate = baseRate(of: optimizer, scheduler: "ExponentialLR")
        apply()
    }

    public func learningRate(at step: Int) -> Double { baseLearningRate * Glibc.pow(gamma, Double(step)) }
}

/// lr = η_min + (base − η_min) · (1 + cos(π · step / T_max)) / 2 (PyTorch's
/// `CosineAnnealingLR`): from the base down to η_min over `maxSteps` steps, and back up after.
public final class CosineAnnealingLR: LearningRateScheduler {
    public let optimizer: any Optimizer
    public let baseLearningRate: Double
    public var stepCount = 0
    public let maxSteps: Int
    public let minimumLearningRate: Double

    public init(_ optimizer: any Optimizer, maxSteps: Int, minimumLearningRate: Double = 0) {
        require(maxSteps > 0, "CosineAnnealingLR: maxSteps must be positive, got \(maxSteps)")
        (self.optimizer, self.maxSteps, self.minimumLearningRate) = (optimizer, maxSteps, minimumLearningRate)
        baseLearningRate = baseRate(of: optimizer, scheduler: "CosineAnnealingLR")
        apply()
    }

    public func learningRate(at step: Int) -> Double {
        minimumLearningRate + (baseLearningRate - minimumLearningRate) * (1 + Glibc.cos(Double.pi * Double(step) / Double(maxSteps))) / 2
    }
}

/// lr = base · (start + (end − start) · min(step, total) / total) (PyTorch's `LinearLR`):
/// a linear warm-up from `startFactor` to `endFactor` of the base over `totalSteps` steps.
public final class LinearLR: LearningRateScheduler {
    public let optimizer: any Optimizer
    public let baseLearningRate: Double
    public var stepCount = 0
    public let startFactor: Double
    public let endFactor: Double
    public let totalSteps: Int

    public init(_ optimizer: any Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalSteps: Int = 5) {
        require(startFactor > 0 && startFactor <= 1 && endFactor >= 0 && endFactor <= 1 && totalSteps > 0,
                "LinearLR: factors must be in (0, 1] and [0, 1], totalSteps positive")
        (self.optimizer, self.startFactor, self.endFactor, self.totalSteps) = (optimizer, startFactor, endFactor, totalSteps)
        baseLearningRate = baseRate(of: optimizer, scheduler: "LinearLR")
        apply()
    }

    public func learningRate(at step: Int) -> Double {
        baseLearningRate * (startFactor + (endFactor - startFactor) * Double(min(step, totalSteps)) / Double(totalSteps))
    }
}
