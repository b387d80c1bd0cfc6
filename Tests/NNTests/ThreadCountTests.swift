@testable import Core
import Glibc
import NN
import Optim
import Testing

/// Synapse's thread pool: every task runs once, on several threads, and training gives the
/// same bits at any thread count (the pieces of every parallel kernel are fixed by the sizes).
@Suite("Thread count", .serialized)
struct ThreadCountTests {
    /// Convolutions (im2col + blocked sgemm, Winograd), batch norm, ReLU, a depthwise one, an
    /// LSTM, a Transformer encoder layer (attention, layer norm, GELU) and a linear head: each
    /// large enough that its kernels split into several pieces.
    final class Mixed: Module, Layer {
        let conv = Conv2d(inputs: 3, outputs: 32, kernelSize: 3, padding: 1)
        let norm = BatchNorm2d(features: 32)
        let winograd = Conv2d(inputs: 32, outputs: 32, kernelSize: 3, padding: 1)
        let depthwise = Conv2d(inputs: 32, outputs: 32, kernelSize: 3, stride: 2, padding: 1, groups: 32)
        let lstm = LSTM(inputs: 32, hidden: 256, batchFirst: true)
        let encoder = TransformerEncoderLayer(dModel: 256, heads: 4, feedforward: 1_024, dropout: 0, activation: .gelu, batchFirst: true)
        let head = Linear(inputs: 256, outputs: 10)

        func forward(_ x: Tensor) -> Tensor {
            let h = depthwise(winograd(norm(conv(x)).relu()))  // [8, 32, 16, 16]
            let sequence = h.mean(dim: 3).permuted([0, 2, 1])   // [8, 16, 32]
            return head(encoder(lstm(sequence)).mean(dim: 1))   // [8, 10]
        }
    }

    /// The bits of every parameter and loss after two Adam steps at `threads` threads.
    static func trainedBits(threads: Int) -> [UInt32] {
        let saved = Threads.count
        Threads.count = threads
        defer { Threads.count = saved }
        let (model, x, y) = Random.withSeed(7) {
            (Mixed(), Tensor.normal([8, 3, 32, 32]), Tensor((0..<8).map { Float($0 % 10) }))
        }
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 1e-3)
        var bits: [UInt32] = []
        for _ in 0..<2 {
            optimizer.zeroGrad()
            let loss = CrossEntropyLoss()(model(x), y)
            loss.backward()
            optimizer.step()
            bits.append(loss.scalar.bitPattern)
        }
        for (_, parameter) in model.namedParameters { bits += parameter.scalars.map(\.bitPattern) }
        return bits
    }

    @Test("Winograd inference gives the same bits at 1, 2 and 3 threads, whatever its blocks")
    func winogradBlocksDoNotChangeBits() {
        // 49 and 400 tiles: one block or several, their sizes chosen by the thread count.
        for (shape, outputs) in [([1, 32, 14, 14], 48), ([1, 16, 40, 40], 24)] {
            let (x, w, b) = Random.withSeed(3) { (Tensor.normal(shape), Tensor.normal([outputs, shape[1], 3, 3]), Tensor.normal([outputs])) }
            let window = SlidingWindow(size: (3, 3), padding: (1, 1, 1, 1))
            func bits(threads: Int) -> [UInt32] {
                let saved = Threads.count
                Threads.count = threads
                defer { Threads.count = saved }
                return Tensor.withoutGradients {
                    PreparedWeights.withPreparedWeights { x.conv2d(weight: w, bias: b, window: window).scalars.map(\.bitPattern) }
                }
            }
            let one = bits(threads: 1)
            for threads in [2, 3] { #expect(bits(threads: threads) == one, "\(shape) at \(threads) threads") }
        }
    }

    @Test("training gives the same bits at 1, 2 and 3 threads")
    func trainingIsBitIdenticalAtAnyThreadCount() {
        let one = Self.trainedBits(threads: 1)
        #expect(one.count > 1_000_000)
        for threads in [2, 3] {
            let other = Self.trainedBits(threads: threads)
            let differing = zip(one, other).filter { $0 != $1 }.count
            #expect(other.count == one.count && differing == 0, "\(differing) of \(one.count) values differ at \(threads) threads")
        }
    }

    @Test("a product split into blocks agrees with a float64 reference")
    func blockedProductMatchesReference() {
        let (m, n, k) = (32, 1_024, 256)
        #expect(Kernels.productBlocks(split: n, work: Double(m * n * k)).count == 4)
        let (a, b) = Random.withSeed(3) { (Tensor.normal([m, k]), Tensor.normal([n, k])) }
        let product = a.matmul(b.transposed()).scalars
        let (pa, pb) = (a.scalars, b.scalars)
        var worst: Double = 0
        for row in 0..<m {
            for column in 0..<n {
                var sum: Double = 0
                for i in 0..<k { sum += Double(pa[row * k + i]) * Double(pb[column * k + i]) }
                worst = max(worst, abs(sum - Double(product[row * n + column])))
            }
        }
        #expect(worst <= 1e-3, "largest difference \(worst)")
    }

    @Test("every task runs exactly once, on more than one thread")
    func everyTaskRunsOnceOnSeveralThreads() {
        let saved = Threads.count
        Threads.count = 3
        defer { Threads.count = saved }
        var sawSeveralThreads = false
        // Another test's kernel may hold the pool for a moment (then a loop runs on its caller
        // alone, by design): a few attempts.
        for _ in 0..<20 where !sawSeveralThreads {
            let count = 64
            let runs = UnsafeMutablePointer<Int>.allocate(capacity: count)
            let threads = UnsafeMutablePointer<pthread_t>.allocate(capacity: count)
            runs.initialize(repeating: 0, count: count)
            defer { runs.deallocate(); threads.deallocate() }
            Kernels.parallelFor(count) { index in
                runs[index] += 1
                threads[index] = pthread_self()
                usleep(200)
            }
            #expect((0..<count).allSatisfy { runs[$0] == 1 })
            sawSeveralThreads = Set((0..<count).map { UInt(threads[$0]) }).count > 1
        }
        #expect(sawSeveralThreads)
    }

    @Test("a loop inside a task runs on that task's thread")
    func nestedLoopsRunInline() {
        let saved = Threads.count
        Threads.count = 2
        defer { Threads.count = saved }
        let outer = 8, inner = 16
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: outer)
        sums.initialize(repeating: 0, count: outer)
        defer { sums.deallocate() }
        Kernels.parallelFor(outer) { o in
            let owner = pthread_self()
            var total = 0
            Kernels.parallelFor(inner) { i in
                #expect(pthread_equal(pthread_self(), owner) != 0)
                total += i
            }
            sums[o] = total
        }
        #expect((0..<outer).allSatisfy { sums[$0] == inner * (inner - 1) / 2 })
    }

    @Test("the setting is at least one thread")
    func settingIsClamped() {
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 0
        #expect(Threads.count == 1)
        Threads.count = 4
        #expect(Threads.count == 4 && BLAS.threads == 4)
    }
}
