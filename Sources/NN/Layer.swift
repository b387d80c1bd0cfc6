import Core

/// Anything with trainable tensors or state: layers, recurrent cells, whole models
/// (PyTorch's `nn.Module`).
///
/// A module's parameters, buffers and submodules are found from its stored properties, in
/// declaration order, so a model lists nothing by hand:
///
///     final class Model: Module, Layer {
///         let hidden = Linear(inputs: 3, outputs: 8)
///         let head = Sequential(Tanh(), Linear(inputs: 8, outputs: 1))
///         func forward(_ x: Tensor) -> Tensor { head(hidden(x)) }
///     }
///     // namedParameters: hidden.weight, hidden.bias, head.1.weight, head.1.bias
///
/// - A stored `Tensor` (or `Tensor?` when present, or `[Tensor]`) is a parameter, named after
///   the property.
/// - A stored `Module` (or optional, or array: `blocks.0`, `blocks.1`, …) is a submodule whose
///   names are prefixed with the property's name and a dot.
/// - `@Buffer` marks a tensor that is state but not trained (BatchNorm's running
///   statistics): it is in `namedBuffers`, saved in checkpoints and model files, and never
///   given to an optimizer.
/// - `@Key("name")` gives a property another name in files (`@Key("w_ho") var output = …`).
/// - Properties whose names start with `_` (caches) and values of any other type are skipped.
///
/// A module may still override `namedParameters` (or `members`) to list its state itself.
/// Names are what checkpoints and model files key tensors by, so they are stable.
///
/// Members are found once, when first asked for, and remembered (a training step asks for
/// the parameters every time). Changing a tensor's values — what optimizers and
/// `Checkpoint.load` do — needs nothing; a module that *replaces* a stored tensor or
/// submodule after its members were first asked for calls `membersChanged()`.
///
/// `print(model)` shows the module tree with each layer's settings and the parameter count,
/// as PyTorch's `print(model)` does.
open class Module: CustomStringConvertible {
    /// Whether the module is in training mode (the default) rather than evaluation mode:
    /// Dropout and BatchNorm behave differently in each. Set by `train()` and `eval()`.
    public private(set) var isTraining = true
    /// The members found by reflection, once (the leading `_` keeps reflection off it).
    private var _reflectedMembers: [(name: String, member: ModuleMember)]?

    /// A module; subclasses declare their tensors and submodules as stored properties.
    public init() {}

    /// Forgets the members found so far, so that the next use finds them again: call it after
    /// replacing a stored tensor or submodule (not after changing a tensor's values).
    public func membersChanged() { _reflectedMembers = nil }

    /// The module's direct members, in declaration order: found by reflection (once) unless
    /// overridden (`Sequential` names its layers by position).
    open var members: [(name: String, member: ModuleMember)] {
        if let found = _reflectedMembers { return found }
        let found = reflectedMembers()
        _reflectedMembers = found
        return found
    }

    private func reflectedMembers() -> [(name: String, member: ModuleMember)] {
        var chain: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror, current.subjectType != Module.self {
            chain.append(current)
            mirror = current.superclassMirror
        }
        var found: [(name: String, member: ModuleMember)] = []
        for current in chain.reversed() {
            for child in current.children {
                guard let label = child.label else { continue }
                ModuleMember.collect(label, child.value, isBuffer: false, into: &found)
            }
        }
        return found
    }

    /// Every trainable tensor with its dotted name (`hidden.weight`, `head.1.bias`), in a
    /// fixed order; a tensor reachable under two names is listed once, under the first.
    open var namedParameters: [(name: String, tensor: Tensor)] {
        collectTensors { member in if case .parameter(let t) = member { return t } else { return nil } } parametersOf: { $0.namedParameters }
    }

    /// Every buffer (state that is saved but not trained) with its dotted name.
    open var namedBuffers: [(name: String, tensor: Tensor)] {
        collectTensors { member in if case .buffer(let t, _) = member { return t } else { return nil } } parametersOf: { $0.namedBuffers }
    }

    /// The buffers that data-parallel training averages across processes after every step
    /// (running statistics); not those declared `@Buffer(…, averaged: false)` (counters such as
    /// `num_batches_tracked`, the same on every process).
    open var namedAveragedBuffers: [(name: String, tensor: Tensor)] {
        collectTensors { member in if case .buffer(let t, true) = member { return t } else { return nil } } parametersOf: { $0.namedAveragedBuffers }
    }

    private func collectTensors(
        _ pick: (ModuleMember) -> Tensor?, parametersOf nested: (Module) -> [(name: String, tensor: Tensor)]
    ) -> [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(name: String, tensor: Tensor)] = []
        for (name, member) in members {
            var found: [(String, Tensor)] = []
            if let tensor = pick(member) {
                found = [(name, tensor)]
            } else if case .module(let module) = member {
                found = nested(module).map { ("\(name).\($0.name)", $0.tensor) }
            }
            for (fullName, tensor) in found where seen.insert(ObjectIdentifier(tensor)).inserted {
                result.append((fullName, tensor))
            }
        }
        return result
    }

    /// The direct submodules with their names.
    public var namedChildren: [(name: String, module: Module)] {
        members.compactMap { name, member in
            if case .module(let module) = member { return (name, module) }
            return nil
        }
    }

    /// Switches this module and every submodule to training mode (`true`) or evaluation
    /// mode (`false`).
    public func train(_ mode: Bool = true) {
        var pending: [Module] = [self]
        var seen = Set<ObjectIdentifier>()
        while let module = pending.popLast() {
            guard seen.insert(ObjectIdentifier(module)).inserted else { continue }
            module.isTraining = mode
            pending.append(contentsOf: module.namedChildren.map(\.module))
        }
    }

    /// Switches this module and every submodule to evaluation mode (`train(false)`).
    public func eval() { train(false) }

    /// The module's own settings as `print(model)` shows them (PyTorch's `extra_repr`):
    /// `inputs: 3, outputs: 8, bias: true`. By default, the shapes of the tensors it holds
    /// itself (`weight: [8, 3], bias: [8]`); empty for a module of submodules only.
    open var settingsDescription: String {
        members.compactMap { name, member in
            switch member {
            case .parameter(let tensor), .buffer(let tensor, _): "\(name): \(describe(tensor.shape))"
            case .module: nil
            }
        }.joined(separator: ", ")
    }

    /// The module tree, each layer with its settings, then the number of parameters:
    ///
    ///     Model(
    ///       (hidden): Linear(inputs: 3, outputs: 8, bias: true)
    ///       (head): Sequential(
    ///         (0): Tanh()
    ///         (1): Linear(inputs: 8, outputs: 1, bias: true)
    ///       )
    ///     )
    ///     Parameters: 41 in 4 tensors
    open var description: String {
        let parameters = namedParameters
        let buffers = namedBuffers
        var total = "Parameters: \(UInt64(parameters.reduce(0) { $0 + $1.tensor.count }).grouped) in \(parameters.count) tensors"
        if !buffers.isEmpty { total += "; buffers: \(UInt64(buffers.reduce(0) { $0 + $1.tensor.count }).grouped) in \(buffers.count) tensors" }
        return tree() + "\n" + total
    }

    /// This module and its submodules, indented by nesting.
    func tree() -> String {
        let name = String(describing: type(of: self))
        let children = namedChildren
        guard !children.isEmpty else { return "\(name)(\(settingsDescription))" }
        var lines = ["\(name)(" + settingsDescription]
        for (childName, child) in children {
            lines.append("  (\(childName)): " + child.tree().split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  "))
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }

    /// Runs `body` with this module and every submodule in training mode (`true`) or
    /// evaluation mode (`false`), then gives each module back the mode it had: how a model is
    /// exported (in evaluation mode, as `torch.onnx.export` does) without changing it.
    public func withMode<R>(training: Bool, _ body: () throws -> R) rethrows -> R {
        var modules: [Module] = []
        var pending: [Module] = [self]
        var seen = Set<ObjectIdentifier>()
        while let module = pending.popLast() {
            guard seen.insert(ObjectIdentifier(module)).inserted else { continue }
            modules.append(module)
            pending.append(contentsOf: module.namedChildren.map(\.module))
        }
        let before = modules.map(\.isTraining)
        for module in modules { module.isTraining = training }
        defer { for (module, mode) in zip(modules, before) { module.isTraining = mode } }
        return try body()
    }
}

extension Module {
    /// The trainable tensors, in the order of `namedParameters`.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// Parameters then buffers: everything a checkpoint or model file stores for this
    /// module (PyTorch's `state_dict`).
    public var namedState: [(name: String, tensor: Tensor)] { namedParameters + namedBuffers }

    /// The parameters with every name prefixed by `prefix` and a dot: how a container names
    /// the parameters of what it contains (`w_ih.weight`, `0.bias`).
    public func namedParameters(prefixedWith prefix: String) -> [(name: String, tensor: Tensor)] {
        namedParameters.map { ("\(prefix).\($0.name)", $0.tensor) }
    }
}

/// What a module holds under one name.
public enum ModuleMember {
    case parameter(Tensor)
    /// State saved but not trained; `averaged`: whether data-parallel training averages it
    /// across processes.
    case buffer(Tensor, averaged: Bool)
    case module(Module)

    /// Adds what a stored property holds: tensors, modules, optionals and arrays of them,
    /// and the `@Key`/`@Buffer` wrappers; anything else is skipped.
    static func collect(
        _ label: String, _ value: Any, isBuffer: Bool, averaged: Bool = true, into found: inout [(name: String, member: ModuleMember)]
    ) {
        if let wrapper = value as? ModulePropertyWrapper {
            let name = wrapper.key ?? String(label.dropFirst())
            collect(name, wrapper.wrappedMember, isBuffer: isBuffer || wrapper.marksBuffer, averaged: averaged && wrapper.averaged, into: &found)
            return
        }
        guard !label.hasPrefix("_") else { return }
        if let tensor = value as? Tensor {
            found.append((label, isBuffer ? .buffer(tensor, averaged: averaged) : .parameter(tensor)))
        } else if let module = value as? Module {
            found.append((label, .module(module)))
        } else {
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                if let some = mirror.children.first { collect(label, some.value, isBuffer: isBuffer, averaged: averaged, into: &found) }
            case .collection:
                for (index, element) in mirror.children.enumerated() {
                    collect("\(label).\(index)", element.value, isBuffer: isBuffer, averaged: averaged, into: &found)
                }
            default:
                break
            }
        }
    }
}

/// The property wrappers reflection looks into.
protocol ModulePropertyWrapper {
    var key: String? { get }
    var marksBuffer: Bool { get }
    /// Whether data-parallel training averages the buffer it marks.
    var averaged: Bool { get }
    var wrappedMember: Any { get }
}

extension ModulePropertyWrapper {
    var averaged: Bool { true }
}

/// Gives a module's property another name in `namedParameters` and files:
/// `@Key("w_ho") var output = Linear(inputs: 8, outputs: 2)` names its weight `w_ho.weight`.
@propertyWrapper
public struct Key<Value>: ModulePropertyWrapper {
    public var wrappedValue: Value
    /// The name used instead of the property's.
    public let name: String

    /// `wrappedValue`, named `name` in `namedParameters` and files.
    public init(wrappedValue: Value, _ name: String) {
        self.wrappedValue = wrappedValue
        self.name = name
    }

    var key: String? { name }
    var marksBuffer: Bool { false }
    var wrappedMember: Any { wrappedValue }
}

/// Marks a tensor as a buffer: state saved in checkpoints and model files but never trained
/// (BatchNorm's `running_mean`). `@Buffer("running_mean") var runningMean = Tensor.zeros([4])`
/// names it in files; without a name the property's name is used. Data-parallel training
/// averages buffers across processes after every step; `averaged: false` is for state that is
/// the same on every process (a counter such as `num_batches_tracked`).
@propertyWrapper
public struct Buffer<Value>: ModulePropertyWrapper {
    public var wrappedValue: Value
    /// The name used instead of the property's, if any.
    public let name: String?
    /// Whether data-parallel training averages it across processes.
    public let averaged: Bool

    /// `wrappedValue` as a buffer, named `name` (or the property's name); `averaged`: whether
    /// data-parallel training averages it across processes.
    public init(wrappedValue: Value, _ name: String? = nil, averaged: Bool = true) {
        self.wrappedValue = wrappedValue
        self.name = name
        self.averaged = averaged
    }

    var key: String? { name }
    var marksBuffer: Bool { true }
    var wrappedMember: Any { wrappedValue }
}

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
    /// The layer's output for `input`.
    func forward(_ input: Tensor) -> Tensor
}

extension Layer {
    /// `layer(x)` is `layer.forward(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }
}

/// A layer without parameters (activations). Kept for source compatibility: reflection finds
/// that such a layer has no tensors.
public protocol ParameterlessLayer: Layer {}
