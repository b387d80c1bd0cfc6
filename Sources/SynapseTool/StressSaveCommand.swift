import ArgumentParser
import Foundation
import Synapse

/// `synapse _stress-save FILE`: saves a 16 MB checkpoint to FILE over and over, for the test
/// that kills it mid-write and checks FILE is always whole.
struct StressSaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_stress-save", shouldDisplay: false)

    @Argument var file: String

    func run() throws {
        let model = Sequential(Linear(inputs: 2048, outputs: 2048))
        var counter = 0
        while true {
            counter += 1
            model.parameters[1].replaceScalars(with: [Float](repeating: Float(counter), count: 2048))
            try Checkpoint.save(to: file, model: model, progress: TrainingProgress(epoch: counter, step: counter))
            FileHandle.standardOutput.write(Data("\(counter)\n".utf8))
        }
    }
}
