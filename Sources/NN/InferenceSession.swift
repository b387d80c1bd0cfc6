import Core
import Synchronization

/// One model, run for inference from any number of tasks or threads at once: the sanctioned
/// way for Swift 6 code to share a model (a `Module` itself is not `Sendable`: training
/// mutates it).
///
///     let session = InferenceSession(model)          // switches the model to eval mode
///     await withTaskGroup(of: [Float].self) { group in
///         for batch in batches { group.addTask { session(Tensor(batch, shape: [4, 3])).scalars } }
///     }
///
/// Why this is safe (the invariants behind `@unchecked Sendable`): the model is put in
/// evaluation mode (Dropout draws nothing, BatchNorm only reads its running statistics); every
/// call runs without recording a graph (the gradient mode is per thread), so parameters are
/// only read and no `grad` is written; the module tree's members are found once, here; the
/// first call runs alone, so that layers that cache derived weights (`LSTMCell`'s packed gate
/// weights) fill their caches before calls overlap; kernels take their scratch memory from
/// per-thread pools; imported graphs (`GraphModel`) guard their own cache of shape values;
/// weights that kernels prepare once (`PreparedWeights`: Winograd-transformed convolution
/// weights) are kept behind one lock, checked against the weight's version.
///
/// What must not happen while a session is in use: training the model, `train()`/`eval()`,
/// `Checkpoint.load` into it, or changing its parameters in any other way — the session
/// cannot see such changes, and a call running meanwhile would read half-updated weights.
/// Measured before this existed: inference from 4 threads on one eval-mode model gave correct
/// results, as the tests of this type check bit for bit against sequential runs.
public final class InferenceSession<Model: Module>: @unchecked Sendable {
    private let model: Model
    /// Whether the first call has completed (until then calls run one at a time).
    private let warmed = Atomic<Bool>(false)
    private let firstCall = FirstCallLock()

    /// Puts `model` in evaluation mode and finds its members.
    public init(_ model: Model) {
        self.model = model
        model.eval()
        _ = model.namedState
    }

    /// Runs `body` on the model without recording a graph. `body` must only read the model
    /// (run it); what it returns belongs to the calling task.
    public func run<R>(_ body: (Model) throws -> R) rethrows -> R {
        if warmed.load(ordering: .acquiring) {
            return try Tensor.withoutGradients { try PreparedWeights.withPreparedWeights { try body(model) } }
        }
        firstCall.lock()
        defer { firstCall.unlock() }
        let result = try Tensor.withoutGradients { try PreparedWeights.withPreparedWeights { try body(model) } }
        warmed.store(true, ordering: .releasing)
        return result
    }
}

extension InferenceSession where Model: Layer {
    /// The model's output for `input`, without a graph.
    public func callAsFunction(_ input: Tensor) -> Tensor { run { $0(input) } }
}

/// A plain mutual-exclusion lock (pthread), for the first call of a session.
final class FirstCallLock: @unchecked Sendable {
    // Allocated, so that the mutex never moves.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
