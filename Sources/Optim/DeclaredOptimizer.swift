import Core

/// One hyper-parameter of an optimizer: its name in checkpoints (`learning_rate`, `beta1`) and
/// the property it reads and writes, declared once for the getter, the setter, checkpoints and
/// schedulers.
public struct Hyperparameter<Owner: AnyObject> {
    /// The name checkpoints record it under.
    public let name: String
    let get: (Owner) -> Double
    let set: (Owner, Double) -> Void

    /// A Float property.
    public init(_ name: String, _ path: ReferenceWritableKeyPath<Owner, Float>) {
        self.name = name
        get = { Double($0[keyPath: path]) }
        set = { $0[keyPath: path] = Float($1) }
    }

    /// A flag, saved as 1 or 0.
    public init(_ name: String, _ path: ReferenceWritableKeyPath<Owner, Bool>) {
        self.name = name
        get = { $0[keyPath: path] ? 1 : 0 }
        set = { $0[keyPath: path] = $1 != 0 }
    }
}

/// A state slot an optimizer keeps per parameter, declared once: its name in checkpoints and
/// its shape.
public struct StateSlot: Sendable, Equatable {
    /// The slot's shape: the parameter's, or a scalar (a step count).
    public enum Shape: Sendable, Equatable { case parameter, scalar }
    public let name: String
    public let shape: Shape

    /// A slot named `name` (PyTorch's state name) of `shape`.
    public init(_ name: String, _ shape: Shape = .parameter) { (self.name, self.shape) = (name, shape) }
}

/// An optimizer that declares its hyper-parameters and state slots as tables, from which the
/// base derives `hyperparameters` (get and set: a name missing from one side cannot happen)
/// and `shape(ofSlot:parameterShape:)`; it writes its update rule and `kind`.
public protocol DeclaredOptimizer: Optimizer {
    /// Every hyper-parameter, in the order checkpoints list them.
    static var hyperparameterTable: [Hyperparameter<Self>] { get }
    /// Every state slot a parameter can have.
    static var slots: [StateSlot] { get }
}

extension DeclaredOptimizer {
    public var hyperparameters: [String: Double] {
        get { Dictionary(uniqueKeysWithValues: Self.hyperparameterTable.map { ($0.name, $0.get(self)) }) }
        set {
            for (name, value) in newValue {
                guard let entry = Self.hyperparameterTable.first(where: { $0.name == name }) else {
                    misuse("\(kind): unknown hyper-parameter \(name) (it has \(Self.hyperparameterTable.map(\.name).joined(separator: ", ")))")
                }
                entry.set(self, value)
            }
        }
    }

    public func shape(ofSlot slot: String, parameterShape: [Int]) -> [Int]? {
        Self.slots.first { $0.name == slot }.map { $0.shape == .parameter ? parameterShape : [] }
    }
}

/// The optimizers the command line, `fine-tune` and the examples offer, by name: one list.
public enum OptimizerRegistry {
    /// The names, as `--optimizer` takes them.
    public static let names = ["sgd", "adam", "adamw", "rmsprop"]

    /// The optimizer `name` over `parameters` (SGD with `momentum`; the others with their
    /// PyTorch defaults), or `nil` for a name not in `names`.
    public static func make(
        _ name: String, parameters: [(name: String, tensor: Tensor)], learningRate: Float, momentum: Float = 0
    ) -> (any Optimizer)? {
        switch name {
        case "sgd": SGD(parameters: parameters, learningRate: learningRate, momentum: momentum)
        case "adam": Adam(parameters: parameters, learningRate: learningRate)
        case "adamw": AdamW(parameters: parameters, learningRate: learningRate)
        case "rmsprop": RMSprop(parameters: parameters, learningRate: learningRate, momentum: momentum)
        default: nil
        }
    }
}
