import Synapse

/// An example that trains epoch by epoch, so that a driver (the examples' own `train`
/// functions, the `synapse train` command) can report progress, checkpoint and resume it.
///
/// Everything an epoch depends on lives in the model, the optimizer and the process's random
/// generator, which is what a checkpoint carries: resuming after epoch k and training on
/// gives the same bits as never stopping.
public protocol EpochTraining: AnyObject {
    /// The network being trained.
    var model: Module { get }
    /// Its optimizer.
    var optimizer: any Optimizer { get }
    /// Optimizer steps in one epoch.
    var stepsPerEpoch: Int { get }
    /// Runs one epoch, calling `stepDone(step, loss)` after each optimizer step (counting
    /// from 1); returns the epoch's mean loss.
    func runEpoch(_ stepDone: (Int, Float) -> Void) -> Float
    /// The figures to print after training (predictions, accuracy, a sample).
    func report() -> String
    /// The model's graph, traced on a small example input, for checkpoints and export.
    func traceGraph() throws -> TracedGraph
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

    /// A fresh training run, its weights drawn from the generator in use.
    ///
    /// - Parameters:
    ///   - optimizer: `sgd` or `adam`; `nil` for the example's own choice.
    ///   - learningRate: `nil` for the example's default for that optimizer.
    ///   - shuffle: reshuffle the training rows every epoch (digits), drawing from the
    ///     process's generator.
    public func makeTraining(optimizer: String? = nil, learningRate: Float? = nil, shuffle: Bool = false) throws -> any EpochTraining {
        switch self {
        case .xor: XORTraining(optimizer: optimizer, learningRate: learningRate)
        case .digits: try DigitsTraining(optimizer: optimizer, learningRate: learningRate, shuffle: shuffle)
        case .cnn:
            try DigitsTraining(
                network: DigitsCNN.makeModel(), imageShape: [1, 8, 8], optimizer: optimizer, learningRate: learningRate, shuffle: shuffle)
        case .cnnBatchNorm:
            try DigitsTraining(
                network: DigitsCNN.makeBatchNormModel(), imageShape: [1, 8, 8], optimizer: optimizer, learningRate: learningRate,
                shuffle: shuffle)
        case .charLSTM: try CharLSTMTraining(learningRate: learningRate)
        case .charLSTMLayer: try CharLSTMTraining(learningRate: learningRate, layer: true)
        case .charTransformer: try CharTransformerTraining(learningRate: learningRate)
        }
    }
}

/// `sgd` (SGD with `momentum`) or `adam` over `model`'s named parameters.
func makeOptimizer(
    _ name: String?, default defaultName: String, for model: Module, sgdRate: Float, adamRate: Float,
    momentum: Float, learningRate: Float?
) -> any Optimizer {
    switch name ?? defaultName {
    case "adam": Adam(parameters: model.namedParameters, learningRate: learningRate ?? adamRate)
    default: SGD(parameters: model.namedParameters, learningRate: learningRate ?? sgdRate, momentum: momentum)
    }
}
