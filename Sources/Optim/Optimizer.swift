import Core

/// Updates parameters from their gradients.
public protocol Optimizer: AnyObject {
    /// The tensors this optimizer updates.
    var parameters: [Tensor] { get }
    /// One update of every parameter that has a gradient.
    func step()
}

extension Optimizer {
    /// Forgets every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`), so the
    /// next `backward()` starts from zero.
    public func zeroGrad() {
        for parameter in parameters { parameter.grad = nil }
    }
}
