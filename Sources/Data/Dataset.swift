import Core

/// A collection of examples, each an input and a target (PyTorch's map-style `Dataset`).
public protocol Dataset {
    /// The number of examples.
    var count: Int { get }
    /// Example `index`: its input and target, without a batch dimension.
    func example(at index: Int) -> (input: Tensor, target: Tensor)
    /// The examples at `indices` stacked along a new first dimension; by default one
    /// `example(at:)` at a time.
    func batch(_ indices: [Int]) -> (input: Tensor, target: Tensor)
}

extension Dataset {
    public func batch(_ indices: [Int]) -> (input: Tensor, target: Tensor) {
        let examples = indices.map { example(at: $0) }
        return (Tensor.concat(examples.map { $0.input.unsqueezed(dim: 0) }, dim: 0),
                Tensor.concat(examples.map { $0.target.unsqueezed(dim: 0) }, dim: 0))
    }
}

/// Examples held in two tensors whose first dimension is the example (PyTorch's
/// `TensorDataset`): `inputs` `[N, …]` and `targets` `[N, …]`. A batch is one row gather.
public struct TensorDataset: Dataset {
    /// The inputs, `[N, …]`.
    public let inputs: Tensor
    /// The targets, `[N, …]`.
    public let targets: Tensor

    /// The examples of `inputs` and `targets`, row by row (same first dimension).
    public init(inputs: Tensor, targets: Tensor) {
        require(inputs.rank >= 1 && targets.rank >= 1 && inputs.shape[0] == targets.shape[0],
                "TensorDataset: inputs \(describe(inputs.shape)) and targets \(describe(targets.shape)) must have the same first dimension")
        (self.inputs, self.targets) = (inputs, targets)
    }

    public var count: Int { inputs.shape[0] }

    public func example(at index: Int) -> (input: Tensor, target: Tensor) {
        require(index >= 0 && index < count, "TensorDataset: index \(index) is out of range 0..<\(count)")
        return (inputs.slice(dim: 0, range: index..<index + 1).squeezed(dim: 0), targets.slice(dim: 0, range: index..<index + 1).squeezed(dim: 0))
    }

    public func batch(_ indices: [Int]) -> (input: Tensor, target: Tensor) {
        require(indices.allSatisfy { $0 >= 0 && $0 < count }, "TensorDataset: an index is out of range 0..<\(count)")
        func rows(_ t: Tensor) -> Tensor {
            let picked = Tensor.withoutGradients { t.reshaped([count, -1]).gatherRows(Tensor(indices.map(Float.init))) }
            return picked.reshaped([indices.count] + t.shape.dropFirst())
        }
        return (rows(inputs), rows(targets))
    }
}
