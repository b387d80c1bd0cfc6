import Core
import Testing
import TestSupport

/// Misuse in code stops the process with a message naming the op and the shapes; each
/// case runs in a child process (an exit test) whose standard error is read back.
@Suite("Misuse stops with a clear message")
struct MisuseTests {
    private func expectMessage(_ result: ExitTest.Result?, contains text: String) {
        let stderr = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(stderr.contains(text), "standard error was: \(stderr)")
    }

    @Test("shapes that cannot broadcast")
    func broadcast() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        expectMessage(result, contains: "add: shapes [2, 3] and [4] cannot broadcast")
    }

    @Test("matmul inner sizes that differ")
    func matmul() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([2, 3]))
        }
        expectMessage(result, contains: "matmul: inner sizes differ: [2, 3] · [2, 3] (3 vs 2)")
    }

    @Test("a gather index out of range")
    func gather() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([5, 3]).gatherRows(Tensor([1, 7]))
        }
        expectMessage(result, contains: "gatherRows: index 7.0 is out of range for a table of shape [5, 3]")
    }

    @Test("walking a freed graph a second time")
    func secondBackward() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor([1, 2], requiresGrad: true)
            let loss = (x * x).sum()
            loss.backward()
            loss.backward()
        }
        expectMessage(result, contains: "cannot backprop more than once")
    }
}
