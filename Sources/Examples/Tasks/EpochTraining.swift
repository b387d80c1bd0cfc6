import Synapse

/// An example's training run as the ingredients of a `Trainer`: the model, its optimizer, the
/// batches, the forward function, the loss and metrics — so that the examples' own `train`
/// functions and `synapse train` run the same loop, with checkpoints, resume, schedules, logs
/// and progress.
///
/// Everything an epoch depends on lives in the model, the optimizer, the batch source's position
/// and the process's random generator, which is what a checkpoint carries: resuming gives the
/// same bits as never stopping.
public protocol EpochTraining: AnyObject {
    /// The network being trained.
    var model: Module { get }
    /// Its optimizer.
    var optimizer: any Optimizer { get }
    /// The training batches.
    var batches: any BatchSource { get }
    /// The model's output for a batch's input.
    func forward(_ input: Tensor) -> Tensor
    /// The loss of (output, target).
    func loss(_ output: Tensor, _ target: Tensor) -> Tensor
    /// Figures measured besides the loss (accuracy for the classifiers).
    var metrics: [Metric] { get }
    /// Held-out examples to validate on after every epoch, if the run keeps some.
    var validation: (any Dataset)? { get }
    /// Whether a checkpoint taken mid-epoch resumes exactly (not when a state is carried from
    /// one batch to the next within an epoch).
    var resumesMidEpoch: Bool { get }
    /// The figures to print after training (predictions, accuracy, a sample).
    func report() -> String
    /// The model's graph, traced on a small example input, for checkpoints and export.
    func traceGraph() throws -> TracedGraph
}

extension EpochTraining {
    public var metrics: [Metric] { [] }
    public var validation: (any Dataset)? { nil }
    public var resumesMidEpoch: Bool { true }

    /// Optimizer steps in one epoch.
    public var stepsPerEpoch: Int { batches.batchesPerEpoch }

    /// A `Trainer` over this run's model, optimizer, batches, loss, metrics and validation data,
    /// tracing the graph into every checkpoint.
    /// `data` replaces the run's own batches (with this process's shard of them, under mpirun).
    public func makeTrainer(
        schedule: LearningRateSchedule? = nil, checkpoint: String? = nil, checkpointEverySteps: Int = 0, data: (any BatchSource)? = nil
    ) -> Trainer {
        let trainer = Trainer(
            model: model, forward: { self.forward($0) }, optimizer: optimizer, loss: { self.loss($0, $1) }, data: data ?? batches,
            schedule: schedule, checkpoint: checkpoint, checkpointEverySteps: checkpointEverySteps)
        trainer.metrics = metrics
        trainer.validation = validation
        trainer.graph = { try self.traceGraph() }
        return trainer
    }
}

/// The examples `synapse train` knows.
public enum Example: String, CaseIterable, Sendable {
    case xor
    case digits
    case cnn
    case cnnBatchNorm = "cnn-bn"
    case charLSTM = "char-lstm"
    /// char-lstm with PyTorch's fused `LSTM` layer instead of the stepped cell.
    case charLSTMLayer = "char-lstm-layer"
    case charTransformer = "char-transformer"

    /// Whether the example's training rows can give up some for validation (`--validation-split`)
    /// and come in minibatches of a size one chooses (`--batch`).
    public var canHoldOutExamples: Bool { [.digits, .cnn, .cnnBatchNorm].contains(self) }

    /// Whether its batches are rows that ranks can share (data-parallel training): not the LSTM
    /// models, whose batches are time-major and carry a state from one batch to the next.
    public var canShardBatches: Bool { ![.charLSTM, .charLSTMLayer].contains(self) }

    /// A fresh training run, its weights drawn from the generator in use.
    ///
    /// - Parameters:
    ///   - optimizer: `sgd` or `adam`; `nil` for the example's own choice.
    ///   - learningRate: `nil` for the example's default for that optimizer.
    ///   - shuffle: reshuffle the training rows every epoch (digits and the CNNs), in an order
    ///     drawn from `seed` and the epoch.
    ///   - validationSplit: the fraction of the training rows (the last ones) held out for
    ///     validation (digits and the CNNs).
    ///   - batchSize: rows per minibatch (digits and the CNNs; `nil`: 32).
    public func makeTraining(
        optimizer: String? = nil, learningRate: Float? = nil, shuffle: Bool = false, seed: UInt64 = Random.defaultSeed,
        validationSplit: Double = 0, batchSize: Int? = nil
    ) throws -> any EpochTraining {
        var digits = DigitsTraining.Settings(optimizer: optimizer, learningRate: learningRate, shuffle: shuffle, seed: seed, validationSplit: validationSplit)
        if let batchSize { digits.batchSize = batchSize }
        switch self {
        case .xor: return XORTraining(optimizer: optimizer, learningRate: learningRate)
        case .digits: return try DigitsTraining(settings: digits)
        case .cnn: return try DigitsTraining(network: DigitsCNN.makeModel(), imageShape: [1, 8, 8], settings: digits)
        case .cnnBatchNorm: return try DigitsTraining(network: DigitsCNN.makeBatchNormModel(), imageShape: [1, 8, 8], settings: digits)
        case .charLSTM: return try CharLSTMTraining(learningRate: learningRate)
        case .charLSTMLayer: return try CharLSTMTraining(learningRate: learningRate, layer: true)
        case .charTransformer: return try CharTransformerTraining(learningRate: learningRate)
        }
    }
}

/// The optimizer `name` from `OptimizerRegistry` (SGD with `momentum`) over `model`'s named
/// parameters; the example's rate for it unless `learningRate` is given (`sgdRate` for SGD and
/// RMSprop, `adamRate` for Adam and AdamW).
func makeOptimizer(
    _ name: String?, default defaultName: String, for model: Module, sgdRate: Float, adamRate: Float,
    momentum: Float, learningRate: Float?
) -> any Optimizer {
    let name = name ?? defaultName
    let rate = learningRate ?? (name.hasPrefix("adam") ? adamRate : sgdRate)
    guard let optimizer = OptimizerRegistry.make(name, parameters: model.namedParameters, learningRate: rate, momentum: name == "sgd" ? momentum : 0) else {
        misuse("makeOptimizer: \(name) is not one of \(OptimizerRegistry.names)")
    }
    return optimizer
}
