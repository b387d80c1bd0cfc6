import Core

/// In training mode, zeroes each element with probability `p` and scales the rest by
/// 1/(1 − p), so that expectations are unchanged; in evaluation mode, the identity
/// (PyTorch's `nn.Dropout`). The mask is drawn from Synapse's seeded generator, so a seeded
/// run — and a run resumed from a checkpoint, which keeps the generator's state — repeats bit
/// for bit.
public final class Dropout: Module, Layer {
    override public var settingsDescription: String { "p: \(p)" }

    /// The probability of zeroing an element, in [0, 1].
    public let p: Float

    /// Zeros each element with probability `p` while training and scales the rest by 1/(1 − p);
    /// the identity in evaluation mode. The mask is drawn from `Random`.
    public init(_ p: Float = 0.5) {
        require(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got \(p)")
        self.p = p
    }

    public func forward(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        return input * dropoutMask(input.shape, p: p)
    }
}

/// In training mode, zeroes whole channels (dimension 1 of `[N, C, …]`) with probability `p`
/// and scales the rest by 1/(1 − p); in evaluation mode, the identity (PyTorch's
/// `nn.Dropout2d`, which is used on `[N, C, H, W]`).
public final class Dropout2d: Module, Layer {
    /// The probability of zeroing a channel, in [0, 1].
    public let p: Float

    /// Zeros whole channels with probability `p` while training (scaling the rest by
    /// 1/(1 − p)); the identity in evaluation mode. Shapes: `[N, C, …]` in, the same out.
    public init(_ p: Float = 0.5) {
        require(p >= 0 && p <= 1, "Dropout2d: p must be in [0, 1], got \(p)")
        self.p = p
    }

    public func forward(_ input: Tensor) -> Tensor {
        require(input.rank >= 3, "Dropout2d: expects input [N, C, H, W], got \(describe(input.shape))")
        guard isTraining, p > 0 else { return input }
        let shape = [input.shape[0], input.shape[1]] + Array(repeating: 1, count: input.rank - 2)
        return input * dropoutMask(shape, p: p)
    }
}

/// A constant of `shape` holding 0 with probability `p` and 1/(1 − p) otherwise, drawn from
/// the generator in use.
func dropoutMask(_ shape: [Int], p: Float) -> Tensor {
    let mask = Tensor.uniform(shape)
    let keep = p < 1 ? 1 / (1 - p) : 0
    mask.withUnsafeMutableBufferPointer { values in
        for i in values.indices { values[i] = values[i] >= p ? keep : 0 }
    }
    return mask
}
