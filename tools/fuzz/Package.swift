// swift-tools-version:6.0
// Coverage-guided fuzzing of Synapse's readers with libFuzzer (`make fuzz`; see README.md here).
// Built only with `-sanitize=fuzzer,address`: each target's main hands its test function to
// libFuzzer's driver (Sources/FuzzDriver).
import PackageDescription

let fuzzTarget: (String) -> Target = { name in
    .executableTarget(
        name: name, dependencies: ["FuzzSupport", .product(name: "Synapse", package: "Synapse")], path: "Sources/\(name)")
}

let package = Package(
    name: "SynapseFuzz",
    dependencies: [.package(name: "Synapse", path: "../..")],
    targets: ["fuzz-checkpoint", "fuzz-model-file", "fuzz-onnx-graph", "fuzz-tensor-input"].map(fuzzTarget) + [
        .target(name: "FuzzDriver", path: "Sources/FuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["FuzzDriver", .product(name: "Synapse", package: "Synapse")], path: "Sources/FuzzSupport"),
    ]
)
