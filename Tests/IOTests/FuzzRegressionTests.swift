import Core
import Data
import Foundation
@testable import IO
import Testing

/// Every input the fuzzers (tools/fuzz, `make fuzz`) found to crash a reader, kept in
/// tools/fuzz/regressions/TARGET/ and replayed here: each is a typed error now.
@Suite("Fuzzing findings stay fixed")
struct FuzzRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../tools/fuzz/regressions").standardized.path

    func inputs(_ target: String) throws -> [(String, [UInt8])] {
        let folder = Self.regressions + "/" + target
        return try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map {
            ($0, [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0))))
        }
    }

    @Test("ONNX graphs: a Reshape whose requested sizes overflow when multiplied; a reflect Pad of 6 million columns; GridSample reflecting a coordinate of 1e30; overflowing Col2Im and Pad sizes; Unique along a scalar; integer arithmetic past 2^63")
    func graphs() throws {
        let found = try inputs("fuzz-onnx-graph")
        #expect(!found.isEmpty)
        // The fuzzer's bound on made values (the Pad is legal under the default 2²⁸, and slow).
        try OpImport.$largestMadeValue.withValue(1 << 20) { try replay(found) }
    }

    func replay(_ found: [(String, [UInt8])]) throws {
        for (name, bytes) in found {
            do {
                let model = try ModelFile.load(onnxBytes: bytes, path: "/nonexistent/\(name)")
                var feeds: [String: Tensor] = [:]
                for (input, shape) in model.inputs { feeds[input] = Tensor.zeros(shape.map { min($0 ?? 2, 64) }) }
                _ = try model.run(feeds)
            } catch is ModelFileError {}
        }
    }

    @Test("tensor inputs: rows that get deeper after a row of numbers")
    func tensorInputs() throws {
        for (name, bytes) in try inputs("fuzz-tensor-input") {
            #expect(throws: TensorInputError.self, "\(name)") { try TensorInput.parse(String(decoding: bytes, as: UTF8.self)) }
        }
    }

    @Test("checkpoints: damaged version-1 files that libhdf5 leaks on are refused")
    func checkpoints() throws {
        let folder = temporaryFolder()
        for (name, bytes) in try inputs("fuzz-checkpoint") {
            let path = folder + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: CheckpointError.self, "\(name)") { try CheckpointContents(contentsOf: path) }
        }
    }
}
