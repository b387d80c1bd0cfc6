import Core

/// Scales the gradients of `parameters` together so that their joint L2 norm is at most
/// `maxNorm`, as `torch.nn.utils.clip_grad_norm_` does: each gradient is multiplied by
/// min(1, maxNorm / (norm + 10⁻⁶)). Parameters without a gradient are skipped.
///
/// - Returns: the joint norm √(Σ‖∇p‖²) before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var squares: Double = 0
    for parameter in parameters {
        parameter.grad?.withUnsafeBufferPointer { g in
            for x in g { squares += Double(x) * Double(x) }
        }
    }
    let norm = Float(squares.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for parameter in parameters {
            parameter.grad?.withUnsafeMutableBufferPointer { g in
                for i in g.indices { g[i] *= coefficient }
            }
        }
    }
    return norm
}
