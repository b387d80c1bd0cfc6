import Foundation
import Synapse

// Differentiable functions of a user's own, with their own backward (DifferentiableFunction):
// a straight-through estimator and a gradient-reversal layer. Each is checked against finite
// differences or values worked by hand, then trained. Exits 1 on any failed check.

/// sign(x) forward; backward passes the gradient straight through where |x| ≤ 1 and stops it
/// elsewhere (Bengio et al. 2013, the "hard tanh" straight-through estimator): how binarised
/// networks train although sign has no useful derivative.
struct StraightThroughSign: DifferentiableFunction {
    var name: String { "StraightThroughSign" }
    func forward(_ inputs: [Tensor]) -> Tensor {
        Tensor.select(inputs[0] .>= Tensor(scalar: 0), Tensor(scalar: 1), Tensor(scalar: -1))
    }
    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let inside = Tensor.compare(inputs[0].clamped(min: -1, max: 1), inputs[0], .equal)
        return [gradient * inside]
    }
    // No exportNodes: ONNX's Sign has a zero gradient, and Synapse writes only what it reads back.
}

/// The identity forward; the gradient multiplied by −λ backward (Ganin & Lempitsky 2015): the
/// layers before it learn to make what comes after it fail (domain-adversarial training).
struct GradientReversal: DifferentiableFunction {
    var lambda: Float
    var name: String { "GradientReversal" }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].detached() }
    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] { [gradient * -lambda] }
    func exportNodes(inputs: [String], output: String, context: inout ExportContext) -> [ExportNode]? {
        [ExportNode("Identity", inputs, [output])]  // inference sees the identity
    }
}

var failures = 0
@MainActor func check(_ condition: Bool, _ message: String) {
    print((condition ? "ok: " : "FAILED: ") + message)
    if !condition { failures += 1 }
}

// 1. Gradient reversal against finite differences of its forward (the identity): the custom
//    gradient is −λ times the numerical one.
Random.seed(3)
let x = Tensor.uniform([2, 3], low: -1, high: 1, requiresGrad: true)
let weights = Tensor.uniform([2, 3], low: -1, high: 1)
@MainActor func objective(_ input: Tensor) -> Tensor { (input.apply(GradientReversal(lambda: 0.5)).tanh() * weights).sum() }
objective(x).backward()
let epsilon: Float = 1e-3
var worst: Float = 0
for index in 0..<x.count {
    @MainActor func shifted(_ delta: Float) -> Float {
        let copy = x.detached().copy()
        copy.withUnsafeMutableBufferPointer { $0[index] += delta }
        return Tensor.withoutGradients { objective(copy).scalar }
    }
    let numerical = (shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon)
    worst = max(worst, abs(x.grad!.scalars[index] - (-0.5 * numerical)))
}
check(worst < 1e-3, "GradientReversal: gradient = −λ · finite differences of the forward (largest error \(worst))")

// 2. The straight-through estimator, by hand: sign forward, gradient kept only where |x| ≤ 1.
let s = Tensor([-2, -0.5, 0, 0.5, 2], requiresGrad: true)
let binary = s.apply(StraightThroughSign())
check(binary.scalars == [-1, -1, 1, 1, 1], "StraightThroughSign forward: \(binary.scalars)")
(binary * Tensor([1, 2, 3, 4, 5])).sum().backward()
check(s.grad!.scalars == [0, 2, 3, 4, 0], "StraightThroughSign backward: \(s.grad!.scalars) (expected [0, 2, 3, 4, 0])")

// 3. Training through the estimator: a linear model with binarised weights learns targets that
//    a ±1 weight vector fits exactly (y = sign-weights · x with weights [1, −1, 1, 1]).
final class BinaryLinear: Module, Layer {
    // Every sign wrong at the start: the gradient must travel through the estimator to fix them.
    let weight = Tensor([[-0.05], [0.05], [-0.02], [-0.08]], requiresGrad: true)
    func forward(_ x: Tensor) -> Tensor { x.matmul(weight.apply(StraightThroughSign())) }
}
Random.seed(5)
let inputs = Tensor.uniform([64, 4], low: -1, high: 1)
let targets = inputs.matmul(Tensor([[1], [-1], [1], [1]]))
let model = BinaryLinear()
let optimizer = SGD(parameters: model.namedParameters, learningRate: 0.05)
var firstLoss: Float = 0, lastLoss: Float = 0
for step in 0..<200 {
    optimizer.zeroGrad()
    let loss = MSELoss()(model(inputs), targets)
    loss.backward()
    optimizer.step()
    if step == 0 { firstLoss = loss.scalar }
    lastLoss = loss.scalar
}
check(lastLoss < 1e-6 && firstLoss > 0.1, "training through StraightThroughSign: loss \(firstLoss) → \(lastLoss)")

// 4. Training through gradient reversal: the encoder before it moves to *raise* the loss of
//    the head after it, while the head lowers it; with λ = 1 the encoder's gradient is exactly
//    the negative of its gradient without the layer.
final class Adversarial: Module, Layer {
    let encoder = Linear(inputs: 3, outputs: 4)
    let head = Linear(inputs: 4, outputs: 1)
    var reverse = true
    func forward(_ x: Tensor) -> Tensor {
        let features = encoder(x).tanh()
        return head(reverse ? features.apply(GradientReversal(lambda: 1)) : features)
    }
}
Random.seed(8)
let adversarial = Adversarial()
let features = Tensor.uniform([16, 3], low: -1, high: 1)
let domains = Tensor.uniform([16, 1], low: 0, high: 1)
@MainActor func encoderGradient(reverse: Bool) -> [Float] {
    adversarial.reverse = reverse
    adversarial.encoder.weight.grad = nil
    adversarial.encoder.bias?.grad = nil
    MSELoss()(adversarial(features), domains).backward()
    return adversarial.encoder.weight.grad!.scalars
}
let reversed = encoderGradient(reverse: true)
let plain = encoderGradient(reverse: false)
check(zip(reversed, plain).allSatisfy { $0 == -$1 }, "GradientReversal(λ = 1): the encoder's gradient is the negative of the plain one")
adversarial.reverse = true
let encoderOnly = SGD(parameters: adversarial.encoder.namedParameters(prefixedWith: "encoder"), learningRate: 0.1)
@MainActor func headLoss() -> Float { Tensor.withoutGradients { MSELoss()(adversarial(features), domains).scalar } }
let before = headLoss()
for _ in 0..<20 {
    encoderOnly.zeroGrad()
    MSELoss()(adversarial(features), domains).backward()
    encoderOnly.step()
}
check(headLoss() > before, "training the encoder through GradientReversal raises the head's loss (\(before) → \(headLoss()))")

// 5. Export: the gradient-reversal model exports (Identity), the estimator says why it cannot.
adversarial.eval()
do {
    try ModelFile.save(adversarial, exampleInput: Tensor.zeros([1, 3]), to: "adversarial")
    check(true, "a model with GradientReversal exports as adversarial.onnx + adversarial.h5")
} catch {
    check(false, "export of the GradientReversal model: \(error)")
}
do {
    try ModelFile.save(model, exampleInput: Tensor.zeros([1, 4]), to: "binary")
    check(false, "a model with StraightThroughSign must not export")
} catch {
    check("\(error)".contains("custom function StraightThroughSign has no ONNX mapping"), "export refused: \(error)")
}
if failures > 0 { exit(1) }
