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
