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

    @Flag(help: "Print a JSON object of all outputs by name (an empty output as {\"shape\": [0, 3], \"dtype\": \"int64\", \"values\": []}).")
    var json = false

    func run() throws {
        // The graph rewritten for inference (folded batch norms, fused activations).
        let session = try ModelFile.loadForInference(model)
        let graph = session.graph
        let feeds = try graphFeeds(input, flag: "--input", graph: graph, model: model)
        let outputs = try session.run(feeds)
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
