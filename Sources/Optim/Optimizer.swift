import Core


/// Updates parameters from their gradients.
///
/// An optimizer knows its parameters by the names their model gives them, and keeps its
/// per-parameter state under the same names (`state["0.weight"]["momentum_buffer"]`), so a
/// checkpoint can save and restore it and a model rebuilt from code lines up with it.
public protocol Optimizer: AnyObject {
    /// The tensors this optimizer updates, with their names.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
    /// Per-parameter state: parameter name → slot name (`momentum_buffer`, `exp_avg`,
    /// `exp_avg_sq`, `step`) → tensor. A parameter has no entry before its first update.
    var state: [String: [String: Tensor]] { get set }
    /// One update of every parameter that has a gradient, recording no graph.
    func step()
    /// The optimizer's name as checkpoints record it (`SGD`, `Adam`).
    var kind: String { get }
    /// The hyper-parameters by name (`learning_rate`, `momentum`, …), settable so that a
    /// checkpoint can restore them; setting an unknown name is a misuse. A `DeclaredOptimizer`
    /// derives it from its table.
    var hyperparameters: [String: Double] { get set }
    /// The step size lr: what learning-rate schedules set.
    var learningRate: Float { get set }
    /// The momentum-like hyper-parameter that `OneCycleLR` cycles against the learning rate —
    /// SGD's and RMSprop's `momentum`, Adam's β₁ — or `nil` when the optimizer has none
    /// (setting it then does nothing).
    var cycledMomentum: Float? { get set }
    /// The shape of state slot `slot` for a parameter of `parameterShape`, or `nil` when this
    /// optimizer has no such slot.
    func shape(ofSlot slot: String, parameterShape: [Int]) -> [Int]?
}

extension Optimizer {
    /// The tensors this optimizer updates.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// Forgets every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`), so the
    /// next `backward()` starts from zero.
    public func zeroGrad() {
        for parameter in parameters { parameter.grad = nil }
    }
}

/// An optimizer whose update of one parameter reads only that parameter, its gradient and
/// its own state slots (SGD, Adam): the protocol owns the loop over parameters, skips those
/// without a gradient, records no graph and keeps the slots; an optimizer writes `update`.
public protocol ParameterwiseOptimizer: Optimizer {
    /// Updates `parameter` (named `name`) in place from `gradient`.
    func update(_ parameter: Tensor, named name: String, gradient: Tensor)
}

extension ParameterwiseOptimizer {
    /// One update of every parameter that has a gradient, recording no graph.
    public func step() {
        Tensor.withoutGradients {
            for (name, parameter) in namedParameters {
                guard let gradient = parameter.grad else { continue }
                update(parameter, named: name, gradient: gradient)
            }
        }
    }

    /// State slot `slot` of parameter `name`, created as zeros in the parameter's shape the
    /// first time it is asked for; `isNew` tells which happened.
    public func slot(_ slot: String, of name: String, like parameter: Tensor) -> (tensor: Tensor, isNew: Bool) {
        stateSlot(&state, name: name, slot: slot, like: parameter)
    }
}

/// Names for parameters passed without names: their positions, `"0"`, `"1"`, ….
func namedByPosition(_ parameters: [Tensor]) -> [(name: String, tensor: Tensor)] {
    parameters.enumerated().map { ("\($0.offset)", $0.element) }
}

/// Checks that every name is used once: state is keyed by name.
func requireUniqueNames(_ parameters: [(name: String, tensor: Tensor)], optimizer: String) {
    var seen = Set<String>()
    for (name, _) in parameters {
        require(seen.insert(name).inserted, "\(optimizer): parameter name \(name) appears twice")
    }
}

/// The state slot `slot` of parameter `name`, created filled with zeros in the parameter's
/// shape the first time it is asked for; `isNew` tells which happened.
func stateSlot(
    _ state: inout [String: [String: Tensor]], name: String, slot: String, like parameter: Tensor
) -> (tensor: Tensor, isNew: Bool) {
    if let existing = state[name]?[slot] { return (existing, false) }
    let created = Tensor.zeros(parameter.shape)
    state[name, default: [:]][slot] = created
    return (created, true)
}
