import Synchronization

// Weights transformed once for the kernels that read them in another form (a 3×3
// convolution's Winograd-transformed weight), kept beside the weight's storage while the
// scalars stay as they were. Inference turns it on (`InferenceGraph`, `InferenceSession`):
// there the same weights serve every call, while a training step changes them every time
// and a kept form would only double their memory.

/// The prepared forms of one storage, by kind, each with the storage version it was made from.
final class PreparedForms {
    var forms: [PreparedWeights.Kind: KeptForm] = [:]
}

/// One prepared form; only read and replaced under `PreparedWeights`' lock, and never
/// written once made, so it may pass between threads.
struct KeptForm: @unchecked Sendable {
    let version: Int
    let form: Tensor
}

/// Where kernels find and keep prepared forms of constant weights.
package enum PreparedWeights {
    /// What a prepared form is for.
    enum Kind: Hashable {
        /// `Kernels.winogradWeights` of a `[O, C, 3, 3]` weight, not flipped: `[16, O, C]`.
        case winogradForward(outputs: Int, channels: Int)
        /// A convolution's `[O, K]` weight (K = C·kH·kW) read as `Wᵀ` `[K, O]` and packed in
        /// panels (`synapse_pack_b`): `Kernels.convolutionWithPackedWeight`.
        case packedTransposed(outputs: Int, depth: Int)
    }

    /// Whether kernels keep the forms they prepare (inference) for the scope of
    /// `withPreparedWeights`.
    @TaskLocal package static var keepsForms = false

    /// One lock for every storage's forms: they are looked up once per kernel call.
    private static let lock = Mutex(())

    /// Runs `body` with prepared forms kept: weights read in it must not change meanwhile
    /// except through the public mutation API (which makes their forms be made again).
    package static func withPreparedWeights<R>(_ body: () throws -> R) rethrows -> R {
        try $keepsForms.withValue(true) { try body() }
    }

    /// `weight`'s form of `kind`: the kept one when its scalars have not changed since it
    /// was made, otherwise `make()`'s (kept when `keepsForms`).
    static func form(of weight: Tensor, _ kind: Kind, make: () -> Tensor) -> Tensor {
        guard keepsForms else { return make() }
        let storage = weight.storage
        let version = storage.version
        if let kept = lock.withLock({ _ in storage.preparedForms?.forms[kind] }), kept.version == version { return kept.form }
        let form = make()
        lock.withLock { _ in
            let forms = storage.preparedForms ?? PreparedForms()
            forms.forms[kind] = KeptForm(version: version, form: form)
            storage.preparedForms = forms
        }
        return form
    }
}
