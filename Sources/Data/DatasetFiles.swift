import Core

extension TensorDataset {
    /// A dataset read from files: `inputs` and `targets` are `.npy` files (float32 or float64,
    /// C order) or `.csv` files (one example per line), with the same number of rows. A file
    /// that cannot be read, or rows that do not match, is a `TensorInputError` naming the file.
    public init(inputsFile inputs: String, targetsFile targets: String) throws {
        for path in [inputs, targets] where !(path.hasSuffix(".npy") || path.hasSuffix(".csv")) {
            throw TensorInputError(message: "\(path): expected a .npy or .csv file")
        }
        let x = try TensorInput.parse(inputs)
        let y = try TensorInput.parse(targets)
        guard x.rank >= 1, y.rank >= 1, x.shape[0] == y.shape[0] else {
            throw TensorInputError(message: "\(inputs) holds \(x.rank >= 1 ? x.shape[0] : 0) rows, \(targets) \(y.rank >= 1 ? y.shape[0] : 0): they must match")
        }
        self.init(inputs: x, targets: y)
    }
}
