import Foundation
import FuzzSupport
import Synapse

// The ONNX graph interpreter: graphs from fuzzed protobuf bytes (no files involved), loaded,
// folded and run on zeros of the declared input shapes.
func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input ?? UnsafePointer(bitPattern: 1) else { return 0 }
    expecting(ModelFileError.self) { try withFuzzingBounds {
        let model = try ModelFile.load(onnxBytes: Array(UnsafeBufferPointer(start: data, count: size)), path: "/nonexistent/fuzz.onnx")
        runOnZeros(model)
    } }
    return 0
}

@main
struct Main {
    static func main() { exit(runFuzzer(fuzz)) }
}
