import Synapse

/// An array given to a flag (`--input`, `--inputs`, `--targets`): `TensorInput`'s neutral
/// message, with the flag's name added.
func flagValue(_ flag: String, _ text: String) throws -> GraphValue {
    do {
        return try TensorInput.parseValue(text)
    } catch let error as TensorInputError {
        throw UsageError(message: "\(flag) \(error.message)")
    }
}

/// `flagValue` as a float tensor.
func flagTensor(_ flag: String, _ text: String) throws -> Tensor { try flagValue(flag, text).asTensor }

/// Inputs that may be left out: the state of a recurrent step (zeros, as PyTorch's default).
let defaultedStateInputs: Set<String> = ["h", "c"]

/// The graph's inputs from `NAME=VALUE` flags (a bare VALUE only for a graph of one input):
/// every input must be given, once, by a name the graph has; only `h` and `c` (a recurrent
/// step's state) default to zeros shaped from the other inputs' batch.
func graphFeeds(_ flags: [String], flag: String, graph: GraphModel, model: String) throws -> [String: GraphValue] {
    let names = graph.inputs.map(\.name)
    var feeds: [String: GraphValue] = [:]
    for text in flags {
        if let equals = text.firstIndex(of: "="), !text.hasPrefix("[") {
            let name = String(text[..<equals])
            guard names.contains(name) else {
                throw UsageError(message: "model \(model): \(flag) \(name)=…: the graph has no input \(name) (its inputs: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
            }
            guard feeds[name] == nil else { throw UsageError(message: "\(flag) \(name)=… is given twice") }
            feeds[name] = try flagValue("\(flag) \(name)=", String(text[text.index(after: equals)...]))
        } else {
            guard names.count == 1 else {
                throw UsageError(message: "model \(model): \(flag) \(text.prefix(40)) has no NAME=: the graph has \(names.isEmpty ? "no inputs" : "inputs \(names.joined(separator: ", "))"), give each as NAME=VALUE")
            }
            guard feeds[names[0]] == nil else { throw UsageError(message: "\(flag) for \(names[0]) is given twice") }
            feeds[names[0]] = try flagValue(flag, text)
        }
    }
    let missing = graph.inputs.filter { feeds[$0.name] == nil }
    if let needed = missing.first(where: { !defaultedStateInputs.contains($0.name) }) {
        throw UsageError(message: "model \(model): no \(flag) \(needed.name)=… was given (the graph's inputs: \(names.joined(separator: ", ")))")
    }
    for (name, shape) in missing {
        // The batch is the other inputs' first dimension, whatever order they were given in.
        guard let batch = graph.inputs.compactMap({ feeds[$0.name]?.shape.first }).first, !shape.dropFirst().contains(nil) else {
            throw UsageError(message: "model \(model): \(flag) \(name)=… is needed (its shape cannot be told from the other inputs)")
        }
        feeds[name] = .tensor(Tensor.zeros([batch] + shape.dropFirst().map { $0! }))
    }
    return feeds
}

/// Rows `range` of `value` (its first axis), whole numbers exactly.
func selectingRows(_ value: GraphValue, _ range: Range<Int>) -> GraphValue {
    switch value {
    case .tensor(let tensor): return .tensor(tensor.slice(dim: 0, range: range))
    case let .integers(values, shape, type):
        let width = shape.dropFirst().reduce(1, *)
        return .integers(Array(values[(range.lowerBound * width)..<(range.upperBound * width)]), shape: [range.count] + shape.dropFirst(), type: type)
    }
}
