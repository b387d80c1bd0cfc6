import Core

/// The 1cycle policy, PyTorch's `OneCycleLR` (two phases, cosine annealing): the learning rate
/// rises from maxLR / divFactor to `maxLR` over the first `percentStart` of `totalSteps`, then
/// falls to maxLR / (divFactor · finalDivFactor); with `cycleMomentum` the momentum (SGD's
/// `momentum`, Adam's β₁) moves the other way between `maxMomentum` and `baseMomentum`.
/// Stepped once per optimizer step; `totalSteps` steps at most.
public final class OneCycleLR: ScheduleBase {
    public let maxLearningRate: Double
    public let totalSteps: Int
    public let percentStart: Double
    public let cycleMomentum: Bool
    public let baseMomentum: Double
    public let maxMomentum: Double
    public let finalLearningRate: Double

    /// - Parameters:
    ///   - optimizer: Whose learning rate (and, with `cycleMomentum`, `cycledMomentum`) is set.
    ///   - maxLearningRate: The peak rate.
    ///   - totalSteps: Optimizer steps in the cycle.
    ///   - percentStart: The share of the cycle spent rising.
    ///   - cycleMomentum: Move the momentum between `maxMomentum` and `baseMomentum` against the rate.
    ///   - baseMomentum: The momentum at the peak rate.
    ///   - maxMomentum: The momentum at the lowest rates.
    ///   - divFactor: The starting rate is maxLearningRate / divFactor.
    ///   - finalDivFactor: The final rate is the starting rate / finalDivFactor.
    public init(
        _ optimizer: any Optimizer, maxLearningRate: Double, totalSteps: Int, percentStart: Double = 0.3, cycleMomentum: Bool = true,
        baseMomentum: Double = 0.85, maxMomentum: Double = 0.95, divFactor: Double = 25, finalDivFactor: Double = 1e4
    ) {
        require(totalSteps > 1 && percentStart > 0 && percentStart < 1, "OneCycleLR: totalSteps must be above 1 and percentStart in (0, 1)")
        (self.maxLearningRate, self.totalSteps, self.percentStart) = (maxLearningRate, totalSteps, percentStart)
        (self.cycleMomentum, self.baseMomentum, self.maxMomentum) = (cycleMomentum, baseMomentum, maxMomentum)
        finalLearningRate = maxLearningRate / divFactor / finalDivFactor
        require(!cycleMomentum || optimizer.cycledMomentum != nil, "OneCycleLR: the optimizer \(optimizer.kind) has no momentum to cycle (pass cycleMomentum: false)")
        super.init(optimizer, baseLearningRate: maxLearningRate / divFactor)
        apply()
    }

    /// (start value, end value, progress) of the phase that holds `step`.
    private func phase(_ step: Int) -> (first: Bool, progress: Double) {
        let peak = percentStart * Double(totalSteps) - 1
        let last = Double(totalSteps - 1)
        let s = Double(step)
        return s <= peak ? (true, s / peak) : (false, (s - peak) / (last - peak))
    }

    /// `end + (start − end) / 2 · (cos(π · progress) + 1)`.
    private func anneal(_ start: Double, _ end: Double, _ progress: Double) -> Double {
        end + (start - end) / 2 * (Glibc.cos(Double.pi * progress) + 1)
    }

    override public func learningRate(at step: Int) -> Double {
        let (first, progress) = phase(step)
        return first ? anneal(baseLearningRate, maxLearningRate, progress) : anneal(maxLearningRate, finalLearningRate, progress)
    }

    /// The momentum at step `step` (high when the learning rate is low).
    public func momentum(at step: Int) -> Double {
        let (first, progress) = phase(step)
        return first ? anneal(maxMomentum, baseMomentum, progress) : anneal(baseMomentum, maxMomentum, progress)
    }

    override public func apply() {
        require(stepCount < totalSteps, "OneCycleLR: stepped \(stepCount + 1) times, more than totalSteps \(totalSteps)")
        optimizer.learningRate = Float(learningRate(at: stepCount))
        if cycleMomentum { optimizer.cycledMomentum = Float(momentum(at: stepCount)) }
    }
}

/// Divides the learning rate by 1/`factor` when a metric stops improving, PyTorch's
/// `ReduceLROnPlateau` (mode min, relative threshold): after more than `patience` steps
/// without a value below best · (1 − threshold), lr = max(lr · factor, `minimumLearningRate`),
/// then `cooldown` steps during which bad steps are not counted.
public final class ReduceLROnPlateau {
    public let optimizer: any Optimizer
    public let factor: Double
    public let patience: Int
    public let threshold: Double
    public let cooldown: Int
    public let minimumLearningRate: Double
    public private(set) var best = Double.infinity
    public private(set) var badSteps = 0
    public private(set) var cooldownLeft = 0
    public private(set) var stepCount = 0

    /// - Parameters:
    ///   - optimizer: Whose learning rate is reduced.
    ///   - factor: The rate is multiplied by it on a plateau.
    ///   - patience: Steps without improvement tolerated.
    ///   - threshold: Relative improvement that counts.
    ///   - cooldown: Steps after a reduction during which bad steps are not counted.
    ///   - minimumLearningRate: The rate never goes below it.
    public init(
        _ optimizer: any Optimizer, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4, cooldown: Int = 0,
        minimumLearningRate: Double = 0
    ) {
        require(factor > 0 && factor < 1 && patience >= 0 && cooldown >= 0, "ReduceLROnPlateau: factor must be in (0, 1), patience and cooldown not negative")
        (self.optimizer, self.factor, self.patience, self.threshold) = (optimizer, factor, patience, threshold)
        (self.cooldown, self.minimumLearningRate) = (cooldown, minimumLearningRate)
    }

    /// Records this step's `metric` (lower is better) and reduces the learning rate if it has
    /// not improved for long enough.
    public func step(metric: Double) {
        stepCount += 1
        if metric < best * (1 - threshold) {
            best = metric
            badSteps = 0
        } else {
            badSteps += 1
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badSteps = 0
        }
        if badSteps > patience {
            let old = Double(optimizer.learningRate)
            let new = max(old * factor, minimumLearningRate)
            if old - new > 1e-8 { optimizer.learningRate = Float(new) }
            cooldownLeft = cooldown
            badSteps = 0
        }
    }

    /// Its position: best, bad steps, cooldown left and steps taken.
    public var state: [String: Double] {
        get { ["best": best, "bad_steps": Double(badSteps), "cooldown_left": Double(cooldownLeft), "step_count": Double(stepCount)] }
        set {
            best = newValue["best"] ?? .infinity
            badSteps = Int(newValue["bad_steps"] ?? 0)
            cooldownLeft = Int(newValue["cooldown_left"] ?? 0)
            stepCount = Int(newValue["step_count"] ?? 0)
        }
    }
}
