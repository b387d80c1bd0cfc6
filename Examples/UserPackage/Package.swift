// swift-tools-version:6.0
// A package that uses Synapse as a user would: a dependency by path, `import Synapse`, and the
// export-model / import-model plugin verbs (`make plugin-check` runs them here).
import PackageDescription

let package = Package(
    name: "UserPackage",
    dependencies: [
        .package(name: "Synapse", path: "../.."),
    ],
    targets: [
        .executableTarget(name: "TrainXOR", dependencies: [.product(name: "Synapse", package: "Synapse")]),
        // A model of the user's own, declared without a parameter list: trains, checkpoints,
        // resumes bit-exactly and exports.
        .executableTarget(name: "CustomModel", dependencies: [.product(name: "Synapse", package: "Synapse")]),
        // Differentiable functions with their own backward (a straight-through estimator and a
        // gradient-reversal layer), checked and trained.
        .executableTarget(name: "CustomFunctions", dependencies: [.product(name: "Synapse", package: "Synapse")]),
        // One model shared by many tasks (InferenceSession), under Swift 6's strict concurrency.
        .executableTarget(name: "ConcurrentInference", dependencies: [.product(name: "Synapse", package: "Synapse")]),
    ]
)
