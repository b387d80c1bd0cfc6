import ArgumentParser
import Foundation
import Synapse

/// `synapse inspect FILE`: what a checkpoint holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show what a checkpoint holds: weights, optimizer, counters, metadata.")

    @Argument(help: "A checkpoint (.h5) or a model file (.onnx).")
    var file: String

    @Flag(help: "Print JSON for tools instead of a table.")
    var json = false

    func run() throws {
        if file.hasSuffix(".onnx") { return try inspectModel() }
        if file.hasSuffix(".safetensors") { return try inspectSafeTensors() }
        let contents = try CheckpointContents(contentsOf: file)
        if json {
            let data = try JSONSerialization.data(withJSONObject: jsonObject(contents), options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(table(contents))
        }
    }

    /// min, max, sum and mean of a tensor's scalars (sum in Double).
    func statistics(_ tensor: Tensor) -> (min: Float, max: Float, sum: Double, mean: Double) {
        let values = tensor.scalars
        let sum = values.reduce(0.0) { $0 + Double($1) }
        return (values.min() ?? 0, values.max() ?? 0, sum, values.isEmpty ? 0 : sum / Double(values.count))
    }

    func jsonObject(_ contents: CheckpointContents) -> [String: Any] {
        var object: [String: Any] = [
            "file": file,
            "format": Checkpoint.formatName,
            "format_version": contents.formatVersion,
            "library_version": contents.libraryVersion,
            "epoch": contents.progress.epoch,
            "step": contents.progress.step,
            "metadata": contents.metadata,
            "state": contents.state,
            "weights": contents.weights.map { name, tensor in
                let s = statistics(tensor)
                return ["name": name, "shape": tensor.shape, "dtype": "float32", "min": Double(s.min), "max": Double(s.max), "sum": s.sum] as [String: Any]
            },
        ]
        if let random = contents.randomState {
            object["random_state"] = random.words.map { NSNumber(value: $0) }
        }
        if let optimizer = contents.optimizer {
            object["optimizer"] = [
                "kind": optimizer.kind,
                "hyperparameters": optimizer.hyperparameters,
                "state": optimizer.state.keys.sorted().flatMap { name in
                    optimizer.state[name]!.keys.sorted().map { slot in
                        let tensor = optimizer.state[name]![slot]!
                        return ["parameter": name, "slot": slot, "shape": tensor.shape, "sum": statistics(tensor).sum] as [String: Any]
                    }
                },
            ] as [String: Any]
        }
        return object
    }

    func table(_ contents: CheckpointContents) -> String {
        var lines = [
            "checkpoint \(file): \(Checkpoint.formatName) version \(contents.formatVersion), written by Synapse \(contents.libraryVersion)",
            "progress: epoch \(contents.progress.epoch), step \(contents.progress.step)",
        ]
        if let random = contents.randomState {
            lines.append("random generator: xoshiro256** state " + random.words.map { String($0, radix: 16) }.joined(separator: " "))
        }
        lines.append("metadata:" + (contents.metadata.isEmpty ? " (none)" : ""))
        for (key, value) in contents.metadata.sorted(by: { $0.key < $1.key }) { lines.append("  \(key) = \(value)") }
        if !contents.state.isEmpty {
            lines.append("training state:")
            for (namespace, values) in contents.state.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(namespace): " + values.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
        }
        let count = contents.weights.reduce(0) { $0 + $1.tensor.count }
        lines.append("weights: \(contents.weights.count) tensors, \(count) scalars, float32")
        let nameWidth = max(4, contents.weights.map(\.name.count).max() ?? 0)
        lines.append("  " + "name".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  shape         min         max        mean")
        for (name, tensor) in contents.weights {
            let s = statistics(tensor)
            lines.append(String(
                format: "  %@  %@ %11.5g %11.5g %11.5g", name.padding(toLength: nameWidth, withPad: " ", startingAt: 0),
                describe(tensor.shape).padding(toLength: 12, withPad: " ", startingAt: 0), s.min, s.max, s.mean))
        }
        if let optimizer = contents.optimizer {
            let hyper = optimizer.hyperparameters.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\(String(format: "%g", $0.value))" }
            lines.append("optimizer: \(optimizer.kind) " + hyper.joined(separator: " "))
            let slots = optimizer.state.values.reduce(0) { $0 + $1.count }
            lines.append("  state: \(optimizer.state.count) parameters, \(slots) tensors ("
                + Set(optimizer.state.values.flatMap(\.keys)).sorted().joined(separator: ", ") + ")")
        } else {
            lines.append("optimizer: (none)")
        }
        return lines.joined(separator: "\n")
    }

    /// A model file: its inputs, outputs, nodes and weights.
    func inspectModel() throws {
        let model = try ModelFile.load(file)
        let nodes = model.nodeOpTypes
        var counts: [String: Int] = [:]
        for op in nodes { counts[op, default: 0] += 1 }
        let weights = model.namedState.map { name, tensor -> [String: Any] in
            let s = statistics(tensor)
            return ["name": name, "shape": tensor.shape, "min": Double(s.min), "max": Double(s.max), "sum": s.sum]
        }
        if json {
            let object: [String: Any] = [
                "file": file,
                "inputs": model.inputs.map { ["name": $0.name, "shape": $0.shape.map { $0.map { $0 as Any } ?? "batch" }] },
                "outputs": model.outputNames, "nodes": nodes, "weights": weights, "metadata": model.metadata,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("model \(file): \(nodes.count) nodes (" + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")")
        for (name, shape) in model.inputs {
            print("  input  \(name) [" + shape.map { $0.map(String.init) ?? "batch" }.joined(separator: ", ") + "]")
        }
        for name in model.outputNames { print("  output \(name)") }
        print("weights: \(model.namedState.count) tensors, \(model.namedState.reduce(0) { $0 + $1.tensor.count }) scalars")
        for (name, tensor) in model.namedState {
            let s = statistics(tensor)
            print(String(format: "  %@ %@ min %.5g max %.5g sum %.6g", name, describe(tensor.shape), s.min, s.max, s.sum))
        }
        for (key, value) in model.metadata.sorted(by: { $0.key < $1.key }) { print("  \(key) = \(value)") }
    }

    func inspectSafeTensors() throws {
        let contents = try SafeTensorsFile(contentsOf: file)
        if json {
            let object: [String: Any] = [
                "file": file, "metadata": contents.metadata,
                "tensors": contents.entries.map { entry -> [String: Any] in
                    let s = statistics(entry.tensor)
                    return ["name": entry.name, "dtype": entry.dtype, "shape": entry.tensor.shape, "min": Double(s.min), "max": Double(s.max), "sum": s.sum]
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("safetensors \(file): \(contents.entries.count) tensors, \(contents.entries.reduce(0) { $0 + $1.tensor.count }) scalars")
        for entry in contents.entries.sorted(by: { $0.name < $1.name }) {
            let s = statistics(entry.tensor)
            print(String(format: "  %@ %@ %@ min %.5g max %.5g sum %.6g", entry.name, entry.dtype, describe(entry.tensor.shape), s.min, s.max, s.sum))
        }
        for (key, value) in contents.metadata.sorted(by: { $0.key < $1.key }) { print("  \(key) = \(value)") }
    }
}
