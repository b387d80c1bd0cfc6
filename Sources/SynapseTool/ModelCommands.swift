import ArgumentParser
import Foundation
import Synapse

/// `synapse predict NAME.onnx --input …`: runs a model file.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Run a model file (.onnx) on its inputs and print its outputs.")

    @Argument(help: "A model: NAME.onnx (with NAME.h5 beside it) or a self-contained ONNX file.")
    var model: String

    @Option(help: "An input: NAME=VALUE, VALUE being JSON ('[[0,1],[1,0]]'), a .csv or a .npy file (every numeric dtype and bool; token ids as int64). Give one per graph input; a bare VALUE only for a graph of one input. Inputs named h and c (the state of an LSTM or RNN step Synapse exported) default to zeros.")
    var input: [String] = []

    @Flag(help: "Print a JSON object of all outputs by name.")
    var json = false

    /// Inputs that may be left out: the state of a recurrent step (zeros, as PyTorch's default).
    static let defaultedState: Set<String> = ["h", "c"]

    func run() throws {
        let graph = try ModelFile.load(model)
        let names = graph.inputs.map(\.name)
        var feeds: [String: GraphValue] = [:]
        for text in input {
            if let equals = text.firstIndex(of: "="), !text.hasPrefix("[") {
                let name = String(text[..<equals])
                guard names.contains(name) else {
                    throw UsageError(message: "model \(model): --input \(name)=…: the graph has no input \(name) (its inputs: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
                }
                guard feeds[name] == nil else { throw UsageError(message: "--input \(name)=… is given twice") }
                feeds[name] = try flagValue("--input \(name)=", String(text[text.index(after: equals)...]))
            } else {
                guard names.count == 1 else {
                    throw UsageError(message: "model \(model): --input \(text.prefix(40)) has no NAME=: the graph has \(names.isEmpty ? "no inputs" : "inputs \(names.joined(separator: ", "))"), give each as NAME=VALUE")
                }
                guard feeds[names[0]] == nil else { throw UsageError(message: "--input for \(names[0]) is given twice") }
                feeds[names[0]] = try flagValue("--input", text)
            }
        }
        let missing = graph.inputs.filter { feeds[$0.name] == nil }
        if let needed = missing.first(where: { !Self.defaultedState.contains($0.name) }) {
            throw UsageError(message: "model \(model): no --input \(needed.name)=… was given (the graph's inputs: \(names.joined(separator: ", ")))")
        }
        for (name, shape) in missing {
            // The batch is the other inputs' first dimension, whatever order they were given in.
            guard let batch = graph.inputs.compactMap({ feeds[$0.name]?.shape.first }).first, !shape.dropFirst().contains(nil) else {
                throw UsageError(message: "model \(model): --input \(name)=… is needed (its shape cannot be told from the other inputs)")
            }
            feeds[name] = .tensor(Tensor.zeros([batch] + shape.dropFirst().map { $0! }))
        }
        let outputs = try Tensor.withoutGradients { try graph.run(values: feeds) }
        if json || outputs.count > 1 {
            let body = graph.outputNames.map { "\"\($0)\": \(TensorInput.json(outputs[$0]!))" }.joined(separator: ", ")
            print("{\(body)}")
        } else {
            print(TensorInput.json(outputs[graph.outputNames[0]]!))
        }
    }
}

/// `synapse import FILE.onnx -o NAME`: validates a foreign ONNX model and rewrites it as a
/// Synapse pair.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Check an ONNX model Synapse can run and rewrite it as NAME.onnx + NAME.h5.")

    @Argument(help: "An ONNX model (self-contained, or with external data beside it).")
    var file: String

    @Option(name: [.short, .customLong("output")], help: "Output name: writes NAME.onnx and NAME.h5.")
    var output: String

    @Flag(help: "Write one self-contained NAME.onnx instead.")
    var embed = false

    func run() throws {
        try ModelFile.checkWritable(output)
        let graph = try ModelFile.load(file)
        try ModelFile.rewrite(file, loaded: graph, to: output, embed: embed)
        let base = ModelFile.baseName(output)
        print("\(file): \(graph.inputs.count) inputs, \(graph.outputNames.count) outputs, \(graph.namedState.count) weights")
        print(embed ? "Wrote \(base).onnx (weights embedded)" : "Wrote \(base).onnx and \(base).h5")
    }
}
