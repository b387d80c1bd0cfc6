import Core
import Dispatch
import NN
import Testing

@Suite("One model, inference from many threads at once")
struct InferenceSessionTests {
    @Test("4 threads through one InferenceSession equal the sequential results bit for bit; the model is in eval mode")
    func concurrent() {
        let (model, rows) = Random.withSeed(4) {
            (Sequential(Linear(inputs: 5, outputs: 16), ReLU(), Dropout(0.5), Linear(inputs: 16, outputs: 3)),
             (0..<40).map { _ in Tensor.uniform([3, 5], low: -1, high: 1).scalars })
        }
        let session = InferenceSession(model)
        #expect(!model.isTraining)
        let expected = rows.map { session(Tensor($0, shape: [3, 5])).scalars }
        // One slot per thread, written by that thread only.
        nonisolated(unsafe) let agree = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 4)
        defer { agree.deallocate() }
        agree.initialize(repeating: false)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            agree[thread] = (0..<rows.count).allSatisfy { index in
                let row = (index + thread * 11) % rows.count
                return session(Tensor(rows[row], shape: [3, 5])).scalars == expected[row]
            }
        }
        #expect(Array(agree) == [true, true, true, true])
        #expect(model.parameters.allSatisfy { $0.grad == nil }, "no gradient was recorded")
    }
}
