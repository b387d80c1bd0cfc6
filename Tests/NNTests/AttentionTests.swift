import Core
import NN
import Testing
import TestSupport

/// MultiheadAttention and TransformerEncoderLayer against PyTorch
/// (tools/fixtures/sequence_fixtures.py): with PyTorch's weights loaded by name, outputs and
/// input gradients agree; LayerNorm and the encoder stack by hand.
@Suite("Attention and Transformer layers against PyTorch")
struct AttentionTests {
    typealias F = PyTorchSequenceFixtures

    /// Copies `state` into the module's tensors of the same names; every name must match.
    func load(_ state: [String: [Float]], into module: Module, sourceLocation: SourceLocation = #_sourceLocation) {
        let names = Set(module.namedState.map(\.name))
        #expect(names == Set(state.keys), "names differ: \(names.symmetricDifference(state.keys).sorted())", sourceLocation: sourceLocation)
        for (name, tensor) in module.namedState { if let values = state[name] { tensor.replaceScalars(with: values) } }
    }

    @Test("cross-attention with a key padding mask and an additive mask; attention weights")
    func crossAttention() {
        let attention = MultiheadAttention(embedDim: 8, heads: 2)
        load(F.attentionState, into: attention)
        let q = Tensor(F.attentionQuery, shape: [3, 2, 8], requiresGrad: true)
        let kv = Tensor(F.attentionKeyValue, shape: [4, 2, 8], requiresGrad: true)
        let (y, weights) = attention.forward(
            query: q, key: kv, value: kv, keyPaddingMask: Tensor(F.attentionPadding, shape: [2, 4]),
            attentionMask: .additive(Tensor(F.attentionAdditive, shape: [3, 4])), needWeights: true)
        #expect(close(y.scalars, F.attentionOutput, tolerance: 1e-5))
        #expect(close(weights!.scalars, F.attentionWeights, tolerance: 1e-5))
        y.backward(gradient: Tensor(F.attentionUpstream, shape: y.shape))
        #expect(close(q.grad!.scalars, F.attentionQueryGradient, tolerance: 1e-5))
        #expect(close(kv.grad!.scalars, F.attentionKeyValueGradient, tolerance: 1e-5))
    }

    @Test("causal self-attention (one packed projection), blocking mask equivalent")
    func causalSelfAttention() {
        let attention = MultiheadAttention(embedDim: 8, heads: 2)
        load(F.attentionState, into: attention)
        let x = Tensor(F.causalInput, shape: [5, 2, 8], requiresGrad: true)
        let y = attention.forward(query: x, key: x, value: x, isCausal: true).output
        #expect(close(y.scalars, F.causalOutput, tolerance: 1e-5))
        y.backward(gradient: Tensor(F.causalUpstream, shape: y.shape))
        #expect(close(x.grad!.scalars, F.causalInputGradient, tolerance: 1e-5))
        let blocking = Tensor((0..<25).map { Float($0 % 5 > $0 / 5 ? 1 : 0) }, shape: [5, 5])
        let masked = attention.forward(query: x, key: x, value: x, attentionMask: .blocking(blocking)).output
        #expect(close(masked.scalars, F.causalOutput, tolerance: 1e-5))
    }

    @Test("TransformerEncoderLayer, norm last (ReLU) and norm first (GELU)", arguments: [false, true])
    func encoderLayer(normFirst: Bool) {
        let layer = TransformerEncoderLayer(dModel: 8, heads: 2, feedforward: 16, dropout: 0, activation: normFirst ? .gelu : .relu, normFirst: normFirst)
        load(normFirst ? F.encoderPreState : F.encoderPostState, into: layer)
        let x = Tensor(normFirst ? F.encoderPreInput : F.encoderPostInput, shape: [5, 2, 8], requiresGrad: true)
        let y = layer(x)
        #expect(close(y.scalars, normFirst ? F.encoderPreOutput : F.encoderPostOutput, tolerance: 1e-5))
        y.backward(gradient: Tensor(normFirst ? F.encoderPreUpstream : F.encoderPostUpstream, shape: y.shape))
        #expect(close(x.grad!.scalars, normFirst ? F.encoderPreInputGradient : F.encoderPostInputGradient, tolerance: 1e-4))
    }

    @Test("attention with padding, additive and causal masks: gradients match finite differences")
    func attentionGradients() {
        let attention = Random.withSeed(8) { MultiheadAttention(embedDim: 4, heads: 2, batchFirst: true) }
        let padding = Tensor([0, 0, 1, 0, 0, 0], shape: [2, 3])
        let additive = Tensor([0, -0.5, 0.25, 0.1, 0, -1, 0.3, 0.2, 0], shape: [3, 3])
        let x = parameter([2, 3, 4], seed: 9)
        let weights = attention.inProjectionWeight
        expectGradientsMatchFiniteDifferences([x, weights], tolerance: 5e-3) { t in
            attention.forward(query: t[0], key: t[0], value: t[0], keyPaddingMask: padding, attentionMask: .additive(additive), isCausal: true).output
        }
    }

    @Test("TransformerEncoder copies its layer; batch-first runs equal sequence-first ones")
    func encoderStack() {
        let layer = Random.withSeed(3) { TransformerEncoderLayer(dModel: 8, heads: 4, feedforward: 12, dropout: 0, batchFirst: true) }
        let encoder = TransformerEncoder(layer: layer, count: 2, norm: LayerNorm(8))
        #expect(encoder.namedParameters.first?.name == "layers.0.self_attn.in_proj_weight")
        #expect(encoder.namedParameters.map(\.name).contains("norm.weight"))
        #expect(encoder.layers[0].linear1.weight.scalars == encoder.layers[1].linear1.weight.scalars)
        #expect(encoder.layers[0].linear1.weight !== encoder.layers[1].linear1.weight)
        let x = Random.withSeed(4) { Tensor.uniform([2, 5, 8]) }
        let stacked = encoder(x)
        let byHand = encoder.norm!(encoder.layers[1](encoder.layers[0](x)))
        #expect(close(stacked.scalars, byHand.scalars))
        let sequenceFirst = TransformerEncoderLayer(dModel: 8, heads: 4, feedforward: 12, dropout: 0)
        for ((_, a), (_, b)) in zip(sequenceFirst.namedState, layer.namedState) { a.replaceScalars(with: b.scalars) }
        #expect(close(sequenceFirst(x.transposed(0, 1)).transposed(0, 1).scalars, layer(x).scalars, tolerance: 1e-5))
    }
}
