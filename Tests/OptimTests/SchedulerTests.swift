import Core
import Optim
import Testing

/// Learning-rate schedulers against `torch.optim.lr_scheduler` (fixtures from
/// tools/fixtures/optimizer_fixtures.py): the rate right after construction and after each of
/// 12 steps, OneCycle's momentum, ReduceLROnPlateau on a metric sequence, and resuming from
/// `state`.
@Suite("Learning-rate schedulers against PyTorch")
struct SchedulerTests {
    func optimizer() -> SGD { SGD(parameters: [("w", Tensor.zeros([2], requiresGrad: true))], learningRate: 0.1, momentum: 0.9) }

    /// The optimizer's rates at construction and after each of `steps` steps.
    func rates(_ scheduler: some LearningRateScheduler, steps: Int = 12) -> [Double] {
        [scheduler.currentLearningRate] + (0..<steps).map { _ in
            scheduler.step()
            return scheduler.currentLearningRate
        }
    }

    func expectClose(_ actual: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        for (step, (a, e)) in zip(actual, expected).enumerated() {
            // The optimizer keeps Float32 hyper-parameters, PyTorch Python floats.
            #expect(abs(a - e) <= 2e-6 * max(abs(e), 1e-3), "step \(step): \(a) vs PyTorch \(e)", sourceLocation: sourceLocation)
        }
    }

    @Test("StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR")
    func closedForms() {
        expectClose(rates(StepLR(optimizer(), stepSize: 3, gamma: 0.5)), PyTorchFixtures.stepLRRates)
        expectClose(rates(MultiStepLR(optimizer(), milestones: [2, 5, 9], gamma: 0.3)), PyTorchFixtures.multiStepLRRates)
        expectClose(rates(ExponentialLR(optimizer(), gamma: 0.8)), PyTorchFixtures.exponentialLRRates)
        expectClose(rates(CosineAnnealingLR(optimizer(), maxSteps: 8, minimumLearningRate: 0.001)), PyTorchFixtures.cosineAnnealingLRRates)
        expectClose(rates(LinearLR(optimizer(), startFactor: 0.25, totalSteps: 4)), PyTorchFixtures.linearLRRates)
    }

    @Test("OneCycleLR sets the rate and cycles the momentum")
    func oneCycle() {
        let sgd = optimizer()
        let scheduler = OneCycleLR(sgd, maxLearningRate: 1, totalSteps: 13)
        var momenta = [Double(sgd.momentum)]
        var rates = [scheduler.currentLearningRate]
        for _ in 0..<12 {
            scheduler.step()
            rates.append(scheduler.currentLearningRate)
            momenta.append(Double(sgd.momentum))
        }
        expectClose(rates, PyTorchFixtures.oneCycleLRRates)
        expectClose(momenta, PyTorchFixtures.oneCycleLRMomenta)
    }

    @Test("ReduceLROnPlateau: patience, relative threshold, cooldown")
    func plateau() {
        let sgd = SGD(parameters: [("w", Tensor.zeros([2], requiresGrad: true))], learningRate: 0.1)
        let scheduler = ReduceLROnPlateau(sgd, factor: 0.5, patience: 2, cooldown: 1)
        var rates: [Double] = []
        for metric in PyTorchFixtures.plateauMetrics {
            scheduler.step(metric: metric)
            rates.append(Double(sgd.learningRate))
        }
        expectClose(rates, PyTorchFixtures.plateauRates)
    }

    @Test("a scheduler restored from its state continues the schedule")
    func resume() {
        let first = CosineAnnealingLR(optimizer(), maxSteps: 8)
        for _ in 0..<5 { first.step() }
        let restored = CosineAnnealingLR(optimizer(), maxSteps: 8)
        restored.state = first.state
        #expect(restored.currentLearningRate == first.currentLearningRate)
        first.step()
        restored.step()
        #expect(restored.currentLearningRate == first.currentLearningRate)
    }
}
