import Synapse

/// What the character models' `train` functions share: a `Trainer` run for `iterations`
/// optimizer steps, `progress(iteration, mean loss since the last report)` every `reportEvery`
/// iterations and at the end, and the figures their outcomes report.
struct IterationRun {
    /// The loss of the first iteration.
    let firstLoss: Float
    /// The mean loss of the last 20 iterations.
    let finalLoss: Float
    /// Wall-clock seconds of the loop alone.
    let seconds: Double

    init(trainer: Trainer, iterations: Int, reportEvery: Int, progress: (Int, Float) -> Void) throws {
        var losses: [Float] = []
        var sinceReport: Float = 0
        let clock = ContinuousClock()
        let start = clock.now
        try withoutActuallyEscaping(progress) { progress in
            trainer.onStep = { state, loss in
                losses.append(loss)
                sinceReport += loss
                let iteration = state.step
                if iteration % reportEvery == 0 || iteration == iterations {
                    progress(iteration, sinceReport / Float(((iteration - 1) % reportEvery) + 1))
                    sinceReport = 0
                }
            }
            defer { trainer.onStep = { _, _ in } }
            try trainer.fit(epochs: .max, maxSteps: iterations)
        }
        seconds = elapsedSeconds(clock.now - start)
        let tail = losses.suffix(20)
        firstLoss = losses.first ?? .nan
        finalLoss = tail.reduce(0, +) / Float(max(tail.count, 1))
    }
}

/// `duration` in seconds (a name that does not clash with `IterationRun.seconds`).
private func elapsedSeconds(_ duration: Duration) -> Double { seconds(duration) }
