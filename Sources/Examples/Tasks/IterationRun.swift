/// What the character models' training loops share: `iterations` calls of `step` (each
/// returning its loss), `progress(iteration, mean loss since the last report)` every
/// `reportEvery` iterations and at the end, and the figures their outcomes report.
struct IterationRun {
    /// The loss of the first iteration.
    let firstLoss: Float
    /// The mean loss of the last 20 iterations.
    let finalLoss: Float
    /// Wall-clock seconds of the loop alone.
    let seconds: Double

    init(iterations: Int, reportEvery: Int, progress: (Int, Float) -> Void, step: () -> Float) {
        var losses: [Float] = []
        var sinceReport: Float = 0
        let clock = ContinuousClock()
        let start = clock.now
        for iteration in 0..<iterations {
            let loss = step()
            losses.append(loss)
            sinceReport += loss
            if (iteration + 1) % reportEvery == 0 || iteration + 1 == iterations {
                progress(iteration + 1, sinceReport / Float((iteration % reportEvery) + 1))
                sinceReport = 0
            }
        }
        seconds = elapsedSeconds(clock.now - start)
        let tail = losses.suffix(20)
        firstLoss = losses.first ?? .nan
        finalLoss = tail.reduce(0, +) / Float(max(tail.count, 1))
    }
}

/// `duration` in seconds (a name that does not clash with `IterationRun.seconds`).
private func elapsedSeconds(_ duration: Duration) -> Double { seconds(duration) }

/// An epoch-by-epoch run made of single iterations (the character models): an epoch is
/// `stepsPerEpoch` calls of `runIteration`.
protocol IterationTraining: EpochTraining {
    /// One optimizer step; returns its loss.
    func runIteration() -> Float
}

extension IterationTraining {
    func runEpoch(_ stepDone: (Int, Float) -> Void) -> Float {
        var total: Float = 0
        for step in 1...stepsPerEpoch {
            let loss = runIteration()
            total += loss
            stepDone(step, loss)
        }
        return total / Float(stepsPerEpoch)
    }
}
