import CBLAS

/// An activation applied to a tensor in place, for inference graphs that fuse it into the
/// node producing its input (a convolution, a product, a residual addition): one pass over
/// a buffer that was just written, and no new buffer. Never recorded for autograd.
package enum FusedActivation: Equatable, Sendable, CustomStringConvertible {
    /// max(x, 0)
    case relu
    /// min(max(x, low), high) (ONNX's Clip; ReLU6 is clip(0, 6))
    case clip(low: Float, high: Float)
    /// x ≥ 0 ? x : alpha·x
    case leakyRelu(alpha: Float)
    /// 1 / (1 + e⁻ˣ)
    case sigmoid
    /// x·σ(x) (SiLU, Swish)
    case silu
    /// x·min(max(x + 3, 0), 6) / 6 (ONNX's HardSwish)
    case hardSwish

    package var description: String {
        switch self {
        case .relu: return "Relu"
        case .clip: return "Clip"
        case .leakyRelu: return "LeakyRelu"
        case .sigmoid: return "Sigmoid"
        case .silu: return "SiLU"
        case .hardSwish: return "HardSwish"
        }
    }
}

extension FusedActivation {
    /// Applies the activation to `count` floats at `pointer` in place, in pieces on the pool
    /// (run inside another kernel's task, on that task's thread): for kernels that apply it
    /// to each piece of their output while it is still in cache.
    package func apply(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu: VectorMath.map(pointer, pointer, count: count, ReLUFunction.self)
        case .sigmoid: VectorMath.map(pointer, pointer, count: count, SigmoidFunction.self)
        case .silu: VectorMath.map(pointer, pointer, count: count, SiLUVector.self)
        case .hardSwish: VectorMath.map(pointer, pointer, count: count, HardSwishVector.self)
        case .clip(let low, let high):
            // Swift.min(Swift.max(x, low), high) in the CPU's widest vectors (a NaN stays NaN).
            Kernels.parallelChunks(count, grain: Kernels.elementGrain) { piece in
                synapse_vector_clamp(pointer + piece.lowerBound, pointer + piece.lowerBound, piece.count, low, high)
            }
        case .leakyRelu(let alpha):
            Kernels.parallelChunks(count, grain: Kernels.elementGrain) { piece in
                for i in piece where pointer[i] < 0 { pointer[i] *= alpha }
            }
        }
    }
}

extension FusedActivation {
    /// The form the C kernels apply to each output vector before its store (the bits of
    /// `apply`): ReLU, Clip, Sigmoid and SiLU as SYNAPSE_ACTIVATION_* with Clip's bounds, and
    /// what remains (`after`) for the caller to apply once the kernel has written its output.
    static func inKernel(_ activation: FusedActivation?) -> (kind: Int32, low: Float, high: Float, after: FusedActivation?) {
        switch activation {
        case .relu?: return (Int32(SYNAPSE_ACTIVATION_RELU), 0, 0, nil)
        case .clip(let low, let high)?: return (Int32(SYNAPSE_ACTIVATION_CLIP), low, high, nil)
        case .sigmoid?: return (Int32(SYNAPSE_ACTIVATION_SIGMOID), 0, 0, nil)
        case .silu?: return (Int32(SYNAPSE_ACTIVATION_SILU), 0, 0, nil)
        default: return (Int32(SYNAPSE_ACTIVATION_NONE), 0, 0, activation)
        }
    }
}

extension Tensor {
    /// Applies `activation` to every scalar in place, in pieces on the pool, when no other
    /// tensor shares this one's storage (a node's fresh output) and it records no graph;
    /// returns whether it did.
    package func activateInPlace(_ activation: FusedActivation) -> Bool {
        guard !requiresGrad, isKnownUniquelyReferenced(&storage) else { return false }
        activation.apply(storage.pointer, count: count)
        storage.version &+= 1
        return true
    }

    /// `activation` of this tensor, as a new tensor (no graph recorded).
    package func activated(_ activation: FusedActivation) -> Tensor {
        let result = Tensor(scalars, shape: shape)
        _ = result.activateInPlace(activation)
        return result
    }

    /// `activation` of this tensor: in place when `activateInPlace` may, else as a new tensor.
    package func activatedInPlaceIfUnshared(_ activation: FusedActivation) -> Tensor {
        activateInPlace(activation) ? self : activated(activation)
    }
}

/// x·σ(x) on eight lanes, with the sigmoid Synapse's Sigmoid op computes.
enum SiLUVector: VectorFunction {
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x * VectorMath.sigmoid(x) }
    static var kernel: Int32? { Int32(SYNAPSE_VECTOR_SILU) }
}

/// x·clip(x + 3, 0, 6)/6 on eight lanes.
enum HardSwishVector: VectorFunction {
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let gate = (x + 3).clamped(lowerBound: SIMD8(repeating: 0), upperBound: SIMD8(repeating: 6))
        return x * gate / 6
    }
}
