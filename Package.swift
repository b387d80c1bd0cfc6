// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Synapse",
    products: [
        .library(name: "Synapse", targets: ["Synapse"]),
        // Data-parallel training over Open MPI: a product of its own, so that programs that never
        // run under mpirun build without libopenmpi.
        .library(name: "SynapseDistributed", targets: ["Distributed"]),
        .executable(name: "synapse", targets: ["synapse"]),
        .plugin(name: "ExportModel", targets: ["ExportModel"]),
        .plugin(name: "ImportModel", targets: ["ImportModel"]),
        .executable(name: "xor", targets: ["xor"]),
        .executable(name: "digits", targets: ["digits"]),
        .executable(name: "char-lstm", targets: ["char-lstm"]),
        .executable(name: "delayed-recall", targets: ["delayed-recall"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // `make docs`: swift package generate-documentation (DocC).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS, opened with dlopen on first use (see Sources/CBLAS/include/synapse_blas.h).
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // libhdf5 (Debian's libhdf5-dev) with a shim for the macros Swift cannot import.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // libcrypto (Debian's libssl-dev) for SHA-256 at the speed of the CPU's SHA extensions.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Open MPI (Debian's libopenmpi-dev) with a shim for the handles Swift cannot import.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "Core", dependencies: ["CBLAS"]),
        .target(name: "NN", dependencies: ["Core"]),
        .target(name: "Optim", dependencies: ["Core"]),
        .target(name: "Data", dependencies: ["Core"]),
        .target(
            name: "IO",
            dependencies: ["Core", "NN", "Optim", "CHDF5", "CCrypto", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(name: "Training", dependencies: ["Core", "NN", "Optim", "Data", "IO"]),
        .target(name: "Synapse", dependencies: ["Core", "NN", "Optim", "Data", "IO", "Training"]),
        .target(name: "Distributed", dependencies: ["CMPI", "Core", "NN", "Data", "Training"]),

        // The command-line tool: train, inspect (and, with the model file, export, import).
        // Sources/SynapseTool: not Sources/synapse, which differs from the library's
        // Sources/Synapse only in case (the two collide on case-insensitive file systems).
        .executableTarget(
            name: "synapse",
            dependencies: ["Synapse", "Distributed", "ExampleTasks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/SynapseTool"
        ),

        // `swift package export-model` / `import-model`: run the synapse tool in the package folder.
        .plugin(
            name: "ExportModel",
            capability: .command(
                intent: .custom(verb: "export-model", description: "Export a checkpoint as NAME.onnx + NAME.h5 (synapse export)"),
                permissions: [.writeToPackageDirectory(reason: "writes the model files into the package folder")]),
            dependencies: ["synapse"],
            path: "Plugins/ExportModel"
        ),
        .plugin(
            name: "ImportModel",
            capability: .command(
                intent: .custom(verb: "import-model", description: "Check an ONNX model and rewrite it as NAME.onnx + NAME.h5 (synapse import)"),
                permissions: [.writeToPackageDirectory(reason: "writes the model files into the package folder")]),
            dependencies: ["synapse"],
            path: "Plugins/ImportModel"
        ),

        // The examples' training code is a library so that tests run exactly what users run.
        .target(
            name: "ExampleTasks", dependencies: ["Synapse", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Examples/Tasks"),
        .executableTarget(
            name: "xor",
            dependencies: ["ExampleTasks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Examples/xor"
        ),
        .executableTarget(
            name: "digits",
            dependencies: ["ExampleTasks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Examples/digits"
        ),
        .executableTarget(
            name: "cnn",
            dependencies: ["ExampleTasks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Examples/cnn"
        ),
        .executableTarget(
            name: "char-transformer",
            dependencies: ["ExampleTasks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Examples/char-transformer"
        ),
        .executableTarget(
            name: "char-lstm",
            dependencies: ["ExampleTasks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Examples/char-lstm"
        ),
        .executableTarget(
            name: "delayed-recall",
            dependencies: ["ExampleTasks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Examples/delayed-recall"
        ),

        // Benchmark driver: one line per workload, beside tools/bench/pytorch (make bench).
        .executableTarget(name: "synapse-bench", dependencies: ["ExampleTasks", "Distributed"], path: "tools/bench/swift"),

        // Finite-difference checks and small helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Core"], path: "Tests/TestSupport"),
        .testTarget(name: "CoreTests", dependencies: ["Core", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["Core", "NN", "Optim", "ExampleTasks", "TestSupport"]),
        .testTarget(name: "IOTests", dependencies: ["Core", "NN", "Optim", "Data", "IO", "TestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Core", "NN", "Optim", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Core", "Data"]),
        // Fixtures/ holds checkpoints of earlier formats, read by path (#filePath), not as resources.
        .testTarget(name: "TrainingTests", dependencies: ["Synapse"], exclude: ["Fixtures"]),
        // Runs the synapse tool under mpirun (Open MPI installed by make test).
        .testTarget(name: "DistributedTests", dependencies: ["Core", "IO"]),
    ]
)
