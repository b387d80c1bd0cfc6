import Foundation
import FuzzSupport
import Synapse

// The model-file reader: the input is a `.onnx` file written beside a real pair's `.h5`
// (`model.h5` from the seed corpus, copied once), so pairs, self-contained models and
// external data offsets are all exercised. A loaded model is run on zeros.
let scratch = FuzzScratch("model-file")
let weightsReady: Bool = {
    let source = ProcessInfo.processInfo.environment["SYNAPSE_FUZZ_WEIGHTS"] ?? "tools/fuzz/corpus/model.h5"
    guard let bytes = FileManager.default.contents(atPath: source) else { return false }
    return FileManager.default.createFile(atPath: scratch.folder + "/model.h5", contents: bytes)
}()

func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input ?? UnsafePointer(bitPattern: 1) else { return 0 }
    _ = weightsReady
    let path = scratch.write(data, size, as: "model.onnx")
    expecting(ModelFileError.self) { try withFuzzingBounds {
        let model = try ModelFile.load(path)
        runOnZeros(model)
    } }
    return 0
}

@main
struct Main {
    static func main() { exit(runFuzzer(fuzz)) }
}
