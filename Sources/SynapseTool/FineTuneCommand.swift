import ArgumentParser
import Foundation
import Synapse

/// `synapse fine-tune MODEL.onnx --input NAME=FILE … --targets Y [--graph-output NAME] -o OUT`:
/// trains a model file (one Synapse wrote, or one imported from PyTorch — a BERT-style
/// classifier on token ids and an attention mask) on arrays and writes it back with the same
/// graph and the new weights.
struct FineTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fine-tune",
        abstract: "Train a model file (.onnx) on inputs and targets; write the same graph with the trained weights.",
        discussion: """
            The graph keeps its nodes and weight names, so a model that came from PyTorch goes back \
            to PyTorch (synapse_io.to_state_dict). Batch norm uses batch statistics while training \
            and updates its running statistics; minibatches run in file order.
            """)

    @Argument(help: "A model: NAME.onnx (with NAME.h5 beside it) or a self-contained ONNX file.")
    var model: String

    @Option(help: "An input, batch first: NAME=VALUE, VALUE a .npy (every numeric dtype and bool: token ids as int64, masks), a .csv or JSON. One per graph input; a bare VALUE only for a graph of one input.")
    var input: [String] = []

    @Option(help: "The input of a one-input graph (the same as a bare --input).")
    var inputs: String?

    @Option(help: "The graph output the loss is computed on (default: the graph's only output). (-o names the file written.)")
    var graphOutput: String?

    @Option(help: "The targets: class indices [N] for cross-entropy, values shaped like the output for mse.")
    var targets: String

    @Option(help: "cross-entropy (the output is [N, classes] logits) or mse.")
    var loss = "cross-entropy"

    @Option(help: "\(OptimizerRegistry.names.joined(separator: ", ")).")
    var optimizer = "sgd"

    @Option(help: "Learning rate.")
    var learningRate: Float = 0.01

    @Option(help: "Momentum (SGD and RMSprop).")
    var momentum: Float = 0

    @Option(help: "Passes over the data.")
    var epochs = 1

    @Option(help: "Rows per optimizer step (0: all rows at once).")
    var batchSize = 32

    @Option(name: [.short, .customLong("output")], help: "Output name: writes NAME.onnx and NAME.h5.")
    var output: String

    func validate() throws {
        guard ["cross-entropy", "mse"].contains(loss) else { throw ValidationError("--loss must be cross-entropy or mse, got \(loss)") }
        guard OptimizerRegistry.names.contains(optimizer) else {
            throw ValidationError("--optimizer must be one of \(OptimizerRegistry.names.joined(separator: ", ")), got \(optimizer)")
        }
        guard learningRate > 0 && learningRate.isFinite else { throw ValidationError("--learning-rate must be a positive number") }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1)") }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard batchSize >= 0 else { throw ValidationError("--batch-size must be 0 (all rows) or positive") }
    }

    func run() throws {
        // An output location that cannot be written is found now, not after training.
        try ModelFile.checkWritable(output)
        let graph = try ModelFile.load(model)
        let outputName: String
        if let graphOutput {
            guard graph.outputNames.contains(graphOutput) else {
                throw UsageError(message: "model \(model): --graph-output \(graphOutput): the graph has no output \(graphOutput) (its outputs: \(graph.outputNames.joined(separator: ", ")))")
            }
            outputName = graphOutput
        } else {
            guard graph.outputNames.count == 1 else {
                throw UsageError(message: "model \(model): the graph has outputs \(graph.outputNames.joined(separator: ", ")): choose the one the loss is on with --graph-output NAME")
            }
            outputName = graph.outputNames[0]
        }
        guard !(inputs != nil && !input.isEmpty) else { throw UsageError(message: "give the inputs with --input NAME=VALUE or --inputs VALUE, not both") }
        let feeds = try graphFeeds(inputs.map { [$0] } ?? input, flag: inputs == nil ? "--input" : "--inputs", graph: graph, model: model)
        let y = try flagTensor("--targets", targets)
        let counts = feeds.mapValues { $0.shape.first ?? 0 }
        guard y.rank >= 1, y.shape[0] > 0, counts.values.allSatisfy({ $0 == y.shape[0] }) else {
            let listed = counts.sorted { $0.key < $1.key }.map { "\($0.key) has \($0.value)" }.joined(separator: ", ")
            throw UsageError(message: "every input and --targets \(describe(y.shape)) must have the same number of rows (at least one): \(listed)")
        }
        let rows = y.shape[0]
        let size = batchSize == 0 ? rows : min(batchSize, rows)
        func batch(_ range: Range<Int>) -> [String: GraphValue] { feeds.mapValues { selectingRows($0, range) } }
        let parameters = graph.namedParameters
        let optimizer = OptimizerRegistry.make(self.optimizer, parameters: parameters, learningRate: learningRate, momentum: momentum)!
        let lossFunction = try checkedLoss(graph, sample: batch(0..<min(rows, 2)), targets: y, outputName: outputName)
        print("fine-tune \(model): \(rows) rows, batch \(size), \(loss), \(self.optimizer) lr \(learningRate), \(parameters.count) trained tensors, \(graph.namedBuffers.count) buffers")
        graph.train()
        var step = 0
        var lastFinite: (step: Int, loss: Float)?
        for epoch in 1...epochs {
            var total: Float = 0
            var steps = 0
            for start in stride(from: 0, to: rows, by: size) {
                let range = start..<min(start + size, rows)
                optimizer.zeroGrad()
                let prediction = try graph.run(values: batch(range))[outputName]!.asTensor
                let value = lossFunction(prediction, y.slice(dim: 0, range: range))
                step += 1
                guard value.scalar.isFinite else {
                    throw DivergenceError(
                        step: step, epoch: epoch, reason: "the loss is \(value.scalar.isNaN ? "NaN" : "infinite")", lastFiniteLoss: lastFinite,
                        checkpoint: ModelFile.baseName(output) + ".onnx", saved: nil)
                }
                lastFinite = (step, value.scalar)
                value.backward()
                optimizer.step()
                total += value.scalar
                steps += 1
            }
            print("Epoch \(epoch), Loss: \(String(format: "%.6f", total / Float(steps)))")
        }
        graph.eval()
        if let (name, _) = graph.namedState.first(where: { !$0.tensor.isFinite }) {
            throw DivergenceError(step: step, epoch: epochs, reason: "\(name) holds values that are not finite", lastFiniteLoss: lastFinite,
                                  checkpoint: ModelFile.baseName(output) + ".onnx", saved: nil)
        }
        try ModelFile.rewrite(model, loaded: graph, to: output)
        let base = ModelFile.baseName(output)
        print("Wrote \(base).onnx and \(base).h5")
    }

    /// The loss, after checking on a couple of rows that the output and the targets fit it.
    func checkedLoss(_ graph: GraphModel, sample: [String: GraphValue], targets: Tensor, outputName: String) throws -> (Tensor, Tensor) -> Tensor {
        let output = try Tensor.withoutGradients { try graph.run(values: sample)[outputName]!.asTensor }
        if loss == "mse" {
            guard Array(output.shape.dropFirst()) == Array(targets.shape.dropFirst()) else {
                throw UsageError(message: "--targets rows are \(describe(Array(targets.shape.dropFirst()))), the model's output rows \(describe(Array(output.shape.dropFirst())))")
            }
            return { MSELoss()($0, $1) }
        }
        guard output.rank == 2, targets.rank == 1 else {
            throw UsageError(message: "cross-entropy needs an output [N, classes] and targets [N], got \(describe(output.shape)) and \(describe(targets.shape))")
        }
        let classes = output.shape[1]
        if let bad = targets.scalars.first(where: { $0 != $0.rounded() || $0 < 0 || $0 >= Float(classes) }) {
            throw UsageError(message: "--targets: \(bad) is not a class index in 0..<\(classes)")
        }
        return { CrossEntropyLoss()($0, $1) }
    }
}
