import Core
import NN

extension Module {
    /// Writes every parameter and buffer to a `.safetensors` file by its PyTorch name (the
    /// names `namedState` gives): float32, except BatchNorm's `num_batches_tracked`, which is
    /// the int64 scalar PyTorch keeps — so `torch.nn.Module.load_state_dict(
    /// safetensors.torch.load_file(path), strict=True)` takes it. Written atomically.
    public func saveSafeTensors(to path: String, metadata: [String: String] = ["format": "pt"]) throws {
        try SafeTensorsFile(stateDict: namedState, metadata: metadata).write(to: path)
    }

    /// Loads every parameter and buffer from a `.safetensors` state dict by PyTorch name, as
    /// `load_state_dict(strict=True)` does: every tensor the module has must be there with its
    /// shape (any float, integer or bool dtype, converted to float32; a one-element counter
    /// such as `num_batches_tracked` may be a scalar), and nothing else. Everything is checked
    /// before anything changes; a mismatch is a `SafeTensorsError` naming the tensor.
    public func loadSafeTensors(from path: String) throws {
        let file = try SafeTensorsFile(contentsOf: path)
        let stored = Dictionary(file.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let state = namedState
        for (name, tensor) in state {
            guard let entry = stored[name] else {
                throw SafeTensorsError(file: path, place: "tensor \"\(name)\"", reason: "is missing (the model has it, shape \(describe(tensor.shape)))")
            }
            guard entry.tensor.shape == tensor.shape || (SafeTensorsFile.isCounter(name) && entry.tensor.count == 1 && tensor.count == 1) else {
                throw SafeTensorsError(file: path, place: "tensor \"\(name)\"", reason: "has shape \(describe(entry.tensor.shape)); the model's is \(describe(tensor.shape))")
            }
        }
        let names = Set(state.map(\.name))
        if let extra = file.entries.first(where: { !names.contains($0.name) }) {
            throw SafeTensorsError(file: path, place: "tensor \"\(extra.name)\"", reason: "is not a parameter or buffer of the model")
        }
        for (name, tensor) in state { tensor.replaceScalars(with: stored[name]!.tensor.scalars) }
    }
}

extension SafeTensorsFile {
    /// A state dict of `state` (PyTorch names): float32 tensors, and BatchNorm's
    /// `num_batches_tracked` as the int64 scalar PyTorch keeps.
    public init(stateDict state: [(name: String, tensor: Tensor)], metadata: [String: String] = ["format": "pt"]) {
        self.init(entries: state.map { name, tensor in
            Self.isCounter(name) && tensor.count == 1
                ? Entry(name: name, dtype: "I64", tensor: tensor.reshaped([]))
                : Entry(name: name, dtype: "F32", tensor: tensor)
        }, metadata: metadata)
    }

    /// Whether `name` is a counter PyTorch keeps as an integer (`num_batches_tracked`).
    static func isCounter(_ name: String) -> Bool { name == "num_batches_tracked" || name.hasSuffix(".num_batches_tracked") }

    /// Fails now, naming the reason, when `path` could not be written (a missing folder, a
    /// read-only file system): checked before work whose result would be lost.
    public static func checkWritable(_ path: String) throws { try AtomicFile.checkWritable(path) }
}
