import ArgumentParser
import Synapse

/// `synapse export CHECKPOINT -o NAME`: the checkpoint's model as NAME.onnx + NAME.h5, or its
/// weights alone as a `.safetensors` state dict by PyTorch names (`-o NAME.safetensors`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's model as NAME.onnx (graph) + NAME.h5 (weights), one .onnx with --embed, or its weights as NAME.safetensors.")

    @Argument(help: "A checkpoint written by `synapse train` (it carries the traced graph).")
    var checkpoint: String

    @Option(name: [.short, .customLong("output")], help: "Output name: writes NAME.onnx and NAME.h5 (NAME.safetensors: the weights and buffers by PyTorch name, for load_state_dict).")
    var output: String

    @Flag(help: "Write one self-contained NAME.onnx with the weights inside (raw_data).")
    var embed = false

    func run() throws {
        if output.hasSuffix(".safetensors") {
            try SafeTensorsFile.checkWritable(output)
            let contents = try CheckpointContents(contentsOf: checkpoint)
            try SafeTensorsFile(stateDict: contents.weights).write(to: output)
            print("Wrote \(output) (\(contents.weights.count) tensors)")
            return
        }
        try ModelFile.checkWritable(output)
        let contents = try CheckpointContents(contentsOf: checkpoint)
        guard let graph = contents.graph else {
            throw UsageError(message: "checkpoint \(checkpoint): /graph is missing (expected the model's traced graph; "
                + "checkpoints written by this version of synapse train carry it)")
        }
        try ModelFile.write(graph, parameters: contents.weights, to: output, embed: embed)
        let base = ModelFile.baseName(output)
        print(embed ? "Wrote \(base).onnx (weights embedded)" : "Wrote \(base).onnx and \(base).h5")
    }
}
