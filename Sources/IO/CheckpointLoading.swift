import Core
import NN
import Optim

extension Checkpoint {
    /// Restores `model` (and `optimizer`, and the random generator unless told not to) from
    /// the checkpoint at `path`, in place.
    ///
    /// Everything is checked before anything changes: the format and its version, every
    /// weight the model expects present with its shape and float32, nothing extra, and the
    /// optimizer's kind and state shapes. On any mismatch this throws a `CheckpointError`
    /// and the model, the optimizer and the generator are untouched.
    ///
    /// - Returns: the whole contents, for the counters and metadata.
    @discardableResult
    public static func load(
        from path: String, into model: Module, optimizer: (any Optimizer)? = nil,
        restoreRandomState: Bool = true
    ) throws -> CheckpointContents {
        let contents = try CheckpointContents(contentsOf: path)
        let stored = Dictionary(contents.weights.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let parameters = model.namedState
        let expected = Set(parameters.map(\.name))
        for (name, parameter) in parameters {
            guard let tensor = stored[name] else {
                throw CheckpointError.missing(
                    file: path, object: "/weights/\(name)", expected: "a float32 dataset of shape \(describe(parameter.shape))")
            }
            guard tensor.shape == parameter.shape else {
                throw CheckpointError.shapeMismatch(
                    file: path, object: "/weights/\(name)", found: tensor.shape, expected: parameter.shape)
            }
        }
        if let extra = contents.weights.first(where: { !expected.contains($0.name) }) {
            throw CheckpointError.unexpected(file: path, object: "/weights/\(extra.name)", reason: "is not a parameter of the model")
        }
        if let optimizer {
            try check(contents.optimizer, against: optimizer, parameters: parameters, file: path)
        }
        if restoreRandomState && contents.randomState == nil {
            throw CheckpointError.missing(file: path, object: "/random", expected: "the random generator's state")
        }

        // Everything matches: now change things.
        for (name, parameter) in parameters {
            stored[name]!.withUnsafeBufferPointer { source in
                parameter.withUnsafeMutableBufferPointer { target in
                    _ = target.update(fromContentsOf: source)
                }
            }
        }
        if let optimizer, let record = contents.optimizer {
            optimizer.hyperparameters = record.hyperparameters
            optimizer.state = record.state
        }
        if restoreRandomState, let state = contents.randomState {
            Random.state = state
        }
        return contents
    }

    private static func check(
        _ record: CheckpointContents.OptimizerRecord?, against optimizer: any Optimizer,
        parameters: [(name: String, tensor: Tensor)], file: String
    ) throws {
        guard let record else {
            throw CheckpointError.missing(file: file, object: "/optimizer", expected: "the state of a \(optimizer.kind) optimizer")
        }
        guard record.kind == optimizer.kind else {
            throw CheckpointError.typeMismatch(
                file: file, object: "/optimizer", found: "a \(record.kind) optimizer", expected: "a \(optimizer.kind) optimizer")
        }
        let known = Set(optimizer.hyperparameters.keys)
        if let unknown = record.hyperparameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw CheckpointError.unexpected(
                file: file, object: "/optimizer attribute \(unknown)", reason: "is not a hyper-parameter of \(optimizer.kind)")
        }
        if let absent = known.sorted().first(where: { record.hyperparameters[$0] == nil }) {
            throw CheckpointError.missing(file: file, object: "/optimizer attribute \(absent)", expected: "a number")
        }
        let shapes = Dictionary(optimizer.namedParameters.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        for (name, slots) in record.state.sorted(by: { $0.key < $1.key }) {
            guard let parameterShape = shapes[name] else {
                throw CheckpointError.unexpected(
                    file: file, object: "/optimizer/\(name)", reason: "is not a parameter of the optimizer")
            }
            for (slot, tensor) in slots.sorted(by: { $0.key < $1.key }) {
                guard let expected = optimizer.shape(ofSlot: slot, parameterShape: parameterShape) else {
                    throw CheckpointError.unexpected(
                        file: file, object: "/optimizer/\(name)/\(slot)", reason: "is not a state slot of \(optimizer.kind)")
                }
                guard tensor.shape == expected else {
                    throw CheckpointError.shapeMismatch(
                        file: file, object: "/optimizer/\(name)/\(slot)", found: tensor.shape, expected: expected)
                }
            }
        }
    }
}
