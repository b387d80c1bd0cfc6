import Foundation
import FuzzSupport
import Synapse

// The checkpoint reader on arbitrary bytes: the integrity record is checked first, version-1
// files (starting with the HDF5 signature) are read in a child process first. Any outcome but
// a CheckpointError or success is a finding.
let scratch = FuzzScratch("checkpoint")

func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input ?? UnsafePointer(bitPattern: 1) else { return 0 }
    let path = scratch.write(data, size, as: "input.ckpt.h5")
    expecting(CheckpointError.self) {
        _ = try CheckpointContents(contentsOf: path)
    }
    return 0
}

@main
struct Main {
    static func main() { exit(runFuzzer(fuzz)) }
}
