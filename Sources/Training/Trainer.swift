import Core
import Data
import IO
import NN
import Optim

/// Runs the training loop for any model, loss and optimizer: batches from a `BatchSource`
/// (usually a `DataLoader`), one optimizer step per batch, an optional learning-rate schedule,
/// metrics, validation after every epoch, early stopping, checkpoints every N steps or epochs
/// and at the end, TensorBoard logs, and a progress display.
///
/// A checkpoint carries everything the loop depends on — weights and buffers, optimizer state,
/// the counters, the process's generator (dropout masks), the batch source's position (epoch,
/// batch), the scheduler's state and early stopping's best figure — so `resume()` followed by
/// `fit` ends with the same bits as a run that never stopped, even when it stopped mid-epoch.
///
///     let loader = DataLoader(TensorDataset(inputs: x, targets: y), batchSize: 32, shuffle: true)
///     let trainer = Trainer(model: model, optimizer: Adam(parameters: model.namedParameters),
///                           loss: { CrossEntropyLoss()($0, $1) }, data: loader, checkpoint: "run.ckpt.h5")
///     trainer.metrics = [.accuracy]
///     trainer.display = ProgressDisplay(epochs: 10, stepsPerEpoch: loader.batchesPerEpoch)
///     if FileManager.default.fileExists(atPath: "run.ckpt.h5") { try trainer.resume() }
///     try trainer.fit(epochs: 10)
public final class Trainer {
    /// The model being trained (weights, buffers and mode).
    public let model: Module
    /// The model's output for a batch's input (`model(input)` for a `Layer`).
    public let forward: (Tensor) -> Tensor
    /// The optimizer that updates `model`'s parameters after every batch.
    public let optimizer: any Optimizer
    /// The loss of (output, target).
    public let loss: (Tensor, Tensor) -> Tensor
    /// Where the batches come from (a `DataLoader`, `IndexedBatches`, a rank's `ShardedBatches`).
    public let data: any BatchSource
    /// The learning-rate schedule and when it steps (`nil`: the optimizer's rate throughout).
    public let schedule: LearningRateSchedule?
    /// Where checkpoints go (`nil`: none).
    public let checkpoint: String?
    /// Also checkpoint every this many optimizer steps (0: not by steps).
    public let checkpointEverySteps: Int
    /// Checkpoint after every this many epochs (0: only at the end of `fit`).
    public var checkpointEveryEpochs = 1
    /// Extra metadata written into every checkpoint (a run's settings).
    public var metadata: [String: String] = [:]
    /// Traces the model's graph into each checkpoint, so that `synapse export` can write it.
    public var graph: (() throws -> TracedGraph)?
    /// Completed epochs and optimizer steps.
    public private(set) var progress = TrainingProgress()
    /// Figures measured per batch and averaged per epoch, on training and validation data.
    public var metrics: [Metric] = []
    /// Examples to evaluate on after every epoch (in evaluation mode, without gradients).
    public var validation: (any Dataset)?
    /// Validation examples per forward pass.
    public var validationBatchSize = 64
    /// Stop when `earlyStopMonitor` has not improved for this many epochs (`nil`: never stop
    /// early).
    public var earlyStopPatience: Int?
    /// The figure early stopping watches: `val_loss` (lower is better), `val_` + a metric's
    /// name, `loss` or a metric's name (training figures, when there is no validation data).
    public var earlyStopMonitor = "val_loss"
    /// TensorBoard logs: `train/step_loss` per step; per epoch `epoch/loss`,
    /// `epoch/learning_rate`, `epoch/<metric>`, `validation/loss`, `validation/<metric>`, and a
    /// histogram of every parameter (`weights/<name>`).
    public var log: SummaryWriter?
    /// Progress for a person (a bar on a terminal, a line per epoch).
    public var display: ProgressDisplay?
    /// Called after every optimizer step with (progress, the step's loss); throwing stops
    /// training (the last checkpoint stays as it was).
    public var onStep: (TrainingProgress, Float) throws -> Void = { _, _ in }
    /// Called after every epoch with its summary.
    public var onEpoch: (EpochSummary) throws -> Void = { _ in }
    /// Scale the gradients so that their global L2 norm is at most this (`clipGradNorm`, after
    /// data-parallel synchronisation, before the step; `nil`: never).
    public var clipGradientNorm: Float?
    /// Data-parallel training: gradients combined across processes after every backward pass;
    /// only the leader writes checkpoints and logs and shows progress.
    public var synchronizer: (any GradientSynchronizer)?
    /// Whether this process writes checkpoints and logs (not the other ranks of an MPI job).
    public var isLeader: Bool { synchronizer?.isLeader ?? true }
    /// What happens when a step's loss is NaN or infinite: stop with a `DivergenceError`
    /// (default) or skip the step.
    public var nonFiniteLoss = NonFiniteLossPolicy.stop
    /// Steps skipped because their loss was not finite (with `nonFiniteLoss = .skipStep`).
    public private(set) var skippedSteps = 0
    /// The last finite loss and its step.
    private var lastFiniteLoss: (step: Int, loss: Float)?
    /// What the checkpoint file holds, as far as this trainer knows (saved or resumed from).
    public private(set) var savedProgress: TrainingProgress?
    /// The summaries of the epochs this trainer ran.
    public private(set) var history: [EpochSummary] = []
    /// The validation loss after each epoch run so far (with `validation`).
    public var validationLosses: [Float] { history.compactMap(\.validationLoss) }
    /// Whether `fit` stopped early.
    public private(set) var stoppedEarly = false
    /// The best value of `earlyStopMonitor` so far and the epochs since it.
    private var earlyStop: (best: Float, since: Int)?
    /// The running sums of the epoch under way, kept across `fit` calls and in checkpoints so
    /// that an epoch interrupted and resumed reports the figures of all its batches.
    private var running = RunningEpoch()

    /// A trainer for a module with a forward function of its own (`forward(input)` → output).
    public init(
        model: Module, forward: @escaping (Tensor) -> Tensor, optimizer: any Optimizer, loss: @escaping (Tensor, Tensor) -> Tensor,
        data: any BatchSource, schedule: LearningRateSchedule? = nil, checkpoint: String? = nil, checkpointEverySteps: Int = 0
    ) {
        require(checkpointEverySteps >= 0, "Trainer: checkpointEverySteps must not be negative")
        (self.model, self.forward, self.optimizer, self.loss, self.data) = (model, forward, optimizer, loss, data)
        (self.schedule, self.checkpoint, self.checkpointEverySteps) = (schedule, checkpoint, checkpointEverySteps)
    }

    /// A trainer for a layer (output = `model(input)`).
    public convenience init(
        model: any Layer, optimizer: any Optimizer, loss: @escaping (Tensor, Tensor) -> Tensor, data: any BatchSource,
        schedule: LearningRateSchedule? = nil, checkpoint: String? = nil, checkpointEverySteps: Int = 0
    ) {
        self.init(
            model: model, forward: { model($0) }, optimizer: optimizer, loss: loss, data: data, schedule: schedule,
            checkpoint: checkpoint, checkpointEverySteps: checkpointEverySteps)
    }

    /// Continues from `checkpoint`: weights, optimizer, counters, generator, the batch source's
    /// position, the schedule's state and early stopping's best figure. Returns the checkpoint's
    /// user metadata (the trainer's own state is kept apart from it).
    @discardableResult
    public func resume() throws -> [String: String] {
        guard let checkpoint else { return [:] }
        return try resume(from: checkpoint)
    }

    /// `resume()` from the checkpoint at `path` (a copy of `checkpoint`: what the other ranks of
    /// an MPI job read after rank 0 broadcast its bytes).
    @discardableResult
    public func resume(from path: String) throws -> [String: String] {
        let contents = try Checkpoint.load(from: path, into: model, optimizer: optimizer)
        progress = contents.progress
        savedProgress = contents.progress
        // Each piece of the loop's state under its own namespace (format version 3; older
        // checkpoints' flat keys are read into the same places by CheckpointContents).
        let saved = contents.state
        if let position = saved["data"], !data.restore(position) {
            throw CheckpointError.unexpected(
                file: path, object: "/state/data",
                reason: "position \(position["epoch"] ?? "?")/\(position["batch"] ?? "?") is not a place in this data (\(data.batchesPerEpoch) batches per epoch)")
        }
        if let schedule, let state = saved["schedule"]?["state"] { schedule.state = SchedulerStateText.decode(state) }
        if let best = saved["early_stop"]?["best"].flatMap(Float.init), let since = saved["early_stop"]?["since"].flatMap(Int.init) {
            earlyStop = (best, since)
        }
        running = RunningEpoch(state: saved["epoch"] ?? [:], metrics: metrics)
        return contents.metadata
    }

    /// Trains until `epochs` epochs are complete (or `maxSteps` optimizer steps, which may end
    /// mid-epoch), stopping early if asked to; saves a checkpoint at the end. Returns the mean
    /// loss of each epoch it completed.
    @discardableResult
    public func fit(epochs: Int, maxSteps: Int? = nil) throws -> [Float] {
        var means: [Float] = []
        model.train()
        epochLoop: while progress.epoch < epochs && !stoppedEarly {
            let epoch = progress.epoch + 1
            if running.steps == 0 { running = RunningEpoch(learningRate: Double(optimizer.learningRate), metrics: metrics.count) }
            var exhausted = false
            while maxSteps.map({ progress.step < $0 }) ?? true {
                guard let (input, target) = data.nextBatch() else {
                    try synchronizer?.finishEpoch()
                    exhausted = true
                    break
                }
                optimizer.zeroGrad()
                let output = forward(input)
                let value = loss(output, target)
                value.backward()
                let scalar = try synchronizer?.synchronize(loss: value.scalar) ?? value.scalar
                guard scalar.isFinite else {
                    // Every rank sees the same synchronised loss, so all of them decide alike.
                    switch nonFiniteLoss {
                    case .stop:
                        throw divergence(at: progress.step + 1, epoch: epoch, reason: "the loss is \(scalar.isNaN ? "NaN" : scalar > 0 ? "+infinity" : "-infinity")")
                    case .skipStep:
                        optimizer.zeroGrad()
                        skippedSteps += 1
                        continue
                    }
                }
                lastFiniteLoss = (progress.step + 1, scalar)
                if let clipGradientNorm { clipGradNorm(model.parameters, maxNorm: clipGradientNorm) }
                optimizer.step()
                schedule?.afterStep()
                progress.step += 1
                running.add(loss: scalar, metrics: metrics.map { $0.measure(output.detached(), target) })
                if isLeader {
                    log?.addScalar("train/step_loss", scalar, step: progress.step)
                    display?.update(epoch: epoch, step: running.steps, loss: scalar)
                }
                try onStep(progress, scalar)
                if checkpointEverySteps > 0 && progress.step % checkpointEverySteps == 0 { try save() }
            }
            // Stopped by `maxSteps` before the source said the epoch was over: not a whole epoch.
            if !exhausted { break epochLoop }
            progress.epoch = epoch
            let mean = running.steps > 0 ? running.loss / Float(running.steps) : .nan
            means.append(mean)
            let summary = summarize(epoch: epoch, loss: mean, learningRate: running.learningRate, measured: running.metrics)
            running = RunningEpoch()
            history.append(summary)
            schedule?.afterEpoch(metric: summary.validationLoss ?? mean)
            watchForEarlyStop(summary)
            if isLeader {
                writeEpochLog(summary)
                display?.finish(summary)
            }
            if checkpointEveryEpochs > 0 && epoch % checkpointEveryEpochs == 0 && epoch < epochs && !stoppedEarly { try save() }
            try onEpoch(summary)
        }
        try save()
        return means
    }

    private func summarize(epoch: Int, loss mean: Float, learningRate: Double, measured: [(total: Double, count: Int)]) -> EpochSummary {
        var trainFigures: [String: Float] = [:]
        for (metric, figure) in zip(metrics, measured) { trainFigures[metric.name] = Float(figure.total / Double(Swift.max(1, figure.count))) }
        var validationLoss: Float?
        var validationFigures: [String: Float] = [:]
        if let validation {
            let evaluation = evaluate(validation)
            validationLoss = evaluation.loss
            validationFigures = evaluation.metrics
        }
        return EpochSummary(
            epoch: epoch, loss: mean, learningRate: learningRate, metrics: trainFigures, validationLoss: validationLoss,
            validationMetrics: validationFigures)
    }

    private func watchForEarlyStop(_ summary: EpochSummary) {
        guard let patience = earlyStopPatience, let value = summary.figure(earlyStopMonitor) else { return }
        let name = earlyStopMonitor.hasPrefix("val_") ? String(earlyStopMonitor.dropFirst(4)) : earlyStopMonitor
        let higherIsBetter = metrics.first { $0.name == name }?.higherIsBetter ?? false
        if let (best, since) = earlyStop, !(higherIsBetter ? value > best : value < best) {
            earlyStop = (best, since + 1)
        } else {
            earlyStop = (value, 0)
        }
        if let since = earlyStop?.since, since >= patience { stoppedEarly = true }
    }

    private func writeEpochLog(_ summary: EpochSummary) {
        guard let log else { return }
        let epoch = summary.epoch
        log.addScalar("epoch/loss", summary.loss, step: epoch)
        log.addScalar("epoch/learning_rate", Float(summary.learningRate), step: epoch)
        for (name, value) in summary.metrics { log.addScalar("epoch/\(name)", value, step: epoch) }
        if let loss = summary.validationLoss { log.addScalar("validation/loss", loss, step: epoch) }
        for (name, value) in summary.validationMetrics { log.addScalar("validation/\(name)", value, step: epoch) }
        for (name, tensor) in model.namedParameters { log.addHistogram("weights/\(name)", tensor.scalars, step: epoch) }
    }

    /// The mean loss and metrics over `dataset`, `validationBatchSize` examples at a time, in
    /// evaluation mode without gradients.
    public func evaluate(_ dataset: any Dataset) -> (loss: Float, metrics: [String: Float]) {
        Tensor.withoutGradients {
            model.withMode(training: false) {
                var total: Double = 0
                var measured = [(total: Double, count: Int)](repeating: (0, 0), count: metrics.count)
                for start in stride(from: 0, to: dataset.count, by: Swift.max(1, validationBatchSize)) {
                    let indices = Array(start..<Swift.min(start + validationBatchSize, dataset.count))
                    let (input, target) = dataset.batch(indices)
                    let output = forward(input)
                    total += Double(loss(output, target).scalar) * Double(indices.count)
                    for (index, metric) in metrics.enumerated() {
                        let (sum, n) = metric.measure(output, target)
                        measured[index] = (measured[index].total + sum, measured[index].count + n)
                    }
                }
                var figures: [String: Float] = [:]
                for (metric, figure) in zip(metrics, measured) { figures[metric.name] = Float(figure.total / Double(Swift.max(1, figure.count))) }
                return (dataset.count > 0 ? Float(total / Double(dataset.count)) : .nan, figures)
            }
        }
    }

    /// The mean loss over `dataset` (see `evaluate`).
    public func validationLoss(_ dataset: any Dataset) -> Float { evaluate(dataset).loss }

    private func divergence(at step: Int, epoch: Int, reason: String) -> DivergenceError {
        DivergenceError(step: step, epoch: epoch, reason: reason, lastFiniteLoss: lastFiniteLoss, checkpoint: checkpoint, saved: savedProgress)
    }

    /// Writes the checkpoint now (atomically), if there is one and this process is the leader.
    /// Weights that are not finite are never saved: that throws a `DivergenceError` and the
    /// file keeps its last good state.
    public func save() throws {
        guard let checkpoint, isLeader else { return }
        if let (name, _) = model.namedState.first(where: { !$0.tensor.isFinite }) {
            throw divergence(at: max(progress.step, 1), epoch: progress.epoch + (running.steps > 0 ? 1 : 0),
                             reason: "\(name) holds values that are not finite")
        }
        var state: [String: [String: String]] = ["data": data.resumeState, "epoch": running.resumeState(metrics: metrics)]
        if let schedule { state["schedule"] = ["state": SchedulerStateText.encode(schedule.state)] }
        if let earlyStop { state["early_stop"] = ["best": "\(earlyStop.best)", "since": "\(earlyStop.since)"] }
        log?.flush()
        try Checkpoint.save(
            to: checkpoint, model: model, optimizer: optimizer, progress: progress, metadata: metadata, state: state, graph: try graph?())
        savedProgress = progress
    }
}

/// The sums of an epoch under way: its steps, their summed loss, the metrics' (total, count), and
/// the learning rate its first step used.
struct RunningEpoch {
    var steps = 0
    var loss: Float = 0
    var learningRate: Double = .nan
    var metrics: [(total: Double, count: Int)] = []

    init() {}

    init(learningRate: Double, metrics: Int) {
        self.learningRate = learningRate
        self.metrics = Array(repeating: (0, 0), count: metrics)
    }

    mutating func add(loss value: Float, metrics measured: [(total: Double, count: Int)]) {
        steps += 1
        loss += value
        if metrics.count != measured.count { metrics = Array(repeating: (0, 0), count: measured.count) }  // metrics changed mid-epoch
        for (index, figure) in measured.enumerated() { metrics[index] = (metrics[index].total + figure.total, metrics[index].count + figure.count) }
    }

    /// As the checkpoint's `epoch` state (`steps`, `loss_sum`, `learning_rate`,
    /// `<metric>_total`, `<metric>_count`); numbers print in their shortest exact form.
    func resumeState(metrics names: [Metric]) -> [String: String] {
        guard steps > 0 else { return ["steps": "0"] }
        var result = ["steps": "\(steps)", "loss_sum": "\(loss)", "learning_rate": "\(learningRate)"]
        for (metric, figure) in zip(names, metrics) {
            result["\(metric.name)_total"] = "\(figure.total)"
            result["\(metric.name)_count"] = "\(figure.count)"
        }
        return result
    }

    /// The sums `resumeState` saved (none when they are missing or unreadable).
    init(state: [String: String], metrics names: [Metric]) {
        guard let steps = state["steps"].flatMap(Int.init), steps > 0, let loss = state["loss_sum"].flatMap(Float.init),
              let rate = state["learning_rate"].flatMap(Double.init) else { return }
        var figures: [(total: Double, count: Int)] = []
        for metric in names {
            guard let total = state["\(metric.name)_total"].flatMap(Double.init),
                  let count = state["\(metric.name)_count"].flatMap(Int.init) else { return }
            figures.append((total, count))
        }
        (self.steps, self.loss, self.learningRate, self.metrics) = (steps, loss, rate, figures)
    }
}
