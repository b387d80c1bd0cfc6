import Foundation
import FuzzSupport
import Synapse

// `synapse predict --input` on arbitrary bytes: as JSON text, as a .npy file and as a .csv file.
let scratch = FuzzScratch("tensor-input")

func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input ?? UnsafePointer(bitPattern: 1) else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for input in [text, scratch.write(data, size, as: "input.npy"), scratch.write(data, size, as: "input.csv")] {
        expecting(TensorInputError.self) {
            _ = try TensorInput.parse(input)
        }
    }
    return 0
}

@main
struct Main {
    static func main() { exit(runFuzzer(fuzz)) }
}
