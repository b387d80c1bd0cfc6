/// Whether ops record a graph on the current thread.
///
/// Per thread, as in PyTorch: evaluation in one thread never stops another from training.
/// The state is a nesting depth of `withoutGradients` scopes kept in a pthread key, which
/// costs a few nanoseconds per op and no allocation.
enum GradientMode {
    static let depthKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        require(status == 0, "GradientMode: pthread_key_create failed (\(status))")
        return key
    }()

    static var suspensionDepth: Int {
        get { Int(bitPattern: pthread_getspecific(depthKey)) }
        set { pthread_setspecific(depthKey, UnsafeRawPointer(bitPattern: newValue)) }
    }

    static var isRecording: Bool { suspensionDepth == 0 }
}

extension Tensor {
    /// Whether ops on this thread currently record a graph for `backward()`.
    public static var isRecordingGradients: Bool { GradientMode.isRecording }

    /// Runs `body` without recording a graph (PyTorch's `torch.no_grad()`): results of ops
    /// inside it do not require gradients. Evaluation and optimizer updates use it. Scopes
    /// nest; the setting is per thread.
    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        GradientMode.suspensionDepth += 1
        defer { GradientMode.suspensionDepth -= 1 }
        return try body()
    }

    /// Makes `result` the output of `op` applied to `creators` when a graph is being
    /// recorded and any creator requires gradients; otherwise leaves it a plain leaf.
    @usableFromInline
    func recorded(_ op: Op, _ creators: [Tensor]) -> Tensor {
        guard creators.contains(where: \.requiresGrad), GradientMode.isRecording else { return self }
        requiresGrad = true
        self.creators = creators
        creationOp = op
        return self
    }
}
