import Core
import Data
import Foundation
@testable import IO
import Testing

/// Datasets from .npy and .csv files, and the errors a bad pair of files gives.
@Suite("TensorDataset from files")
struct DatasetFileTests {
    @Test("a .csv of inputs and a .csv of targets batch through a DataLoader; mismatched rows are an error naming the files")
    func csvFiles() throws {
        let folder = temporaryFolder()
        try "1,2\n3,4\n5,6\n".write(toFile: folder + "/x.csv", atomically: true, encoding: .utf8)
        try "0\n1\n0\n".write(toFile: folder + "/y.csv", atomically: true, encoding: .utf8)
        try "0\n1\n".write(toFile: folder + "/short.csv", atomically: true, encoding: .utf8)
        let dataset = try TensorDataset(inputsFile: folder + "/x.csv", targetsFile: folder + "/y.csv")
        #expect(dataset.count == 3)
        let batches = DataLoader(dataset, batchSize: 2).map { $0.input.scalars }
        #expect(batches == [[1, 2, 3, 4], [5, 6]])
        do {
            _ = try TensorDataset(inputsFile: folder + "/x.csv", targetsFile: folder + "/short.csv")
            Issue.record("mismatched rows were accepted")
        } catch let error as TensorInputError {
            #expect(error.message.contains("x.csv holds 3 rows") && error.message.contains("short.csv 2"), "\(error)")
        }
        #expect(throws: TensorInputError.self) { try TensorDataset(inputsFile: folder + "/x.txt", targetsFile: folder + "/y.csv") }
        #expect(throws: TensorInputError.self) { try TensorDataset(inputsFile: folder + "/missing.npy", targetsFile: folder + "/y.csv") }
    }
}
