"""Sequence models between PyTorch and Synapse.

- PyTorch → Synapse: `nn.LSTM` (2 layers, bidirectional), `nn.GRU`, `nn.RNN`, Embedding +
  LSTM, LayerNorm + GELU MLP and `nn.TransformerEncoderLayer`, written by both exporters
  where PyTorch can, import and predict what onnxruntime predicts, at batch 1 and 5 where
  the export left the batch dynamic.
- Synapse → PyTorch: models trained by `synapse train` (the char-transformer, char-lstm with
  the LSTM layer) load into the same `nn` modules with `strict=True` and predict what
  Synapse and onnxruntime predict.
"""
import json

import numpy as np
import onnxruntime as ort
import pytest

from synapse_io import to_state_dict
from torch_support import ONNXSCRIPT, TORCH, export, nn, torch

pytestmark = pytest.mark.skipif(TORCH is not None, reason=TORCH or "")

if TORCH is None:
    class First(nn.Module):
        """The output sequence of a recurrent layer (its final state dropped)."""

        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(x)[0]

    class EmbeddingLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 6)
            self.lstm = nn.LSTM(6, 5, num_layers=2, batch_first=True)
            self.head = nn.Linear(5, 10)

        def forward(self, ids):
            return self.head(self.lstm(self.embed(ids))[0])


def models():
    """name → (module factory, input shape without the batch, token ids or not)."""
    return {
        "lstm_2_bidirectional": (lambda: First(nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)), (7, 3), False),
        "gru": (lambda: First(nn.GRU(3, 4, batch_first=True)), (7, 3), False),
        "rnn_relu": (lambda: First(nn.RNN(3, 4, nonlinearity="relu", batch_first=True)), (7, 3), False),
        "embedding_lstm": (lambda: EmbeddingLSTM(), (7,), True),
        "layernorm_gelu": (lambda: nn.Sequential(nn.Linear(5, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3)), (4, 5), False),
        "transformer_encoder_layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), (6, 8), False),
    }


def predict(synapse, model, x, cwd):
    np.save(cwd / "x.npy", x.astype(np.float32))
    ours = json.loads(synapse("predict", str(model), "--input", str(cwd / "x.npy"), "--json", cwd=cwd).stdout)
    (value,) = ours.values()
    return np.array(value, np.float32)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", list(models()))
def test_pytorch_sequence_model_imports_and_predicts_like_onnxruntime(synapse, tmp_path, name, dynamo):
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)
    factory, shape, ids = models()[name]
    torch.manual_seed(1)
    module = factory().eval()
    source = tmp_path / "torch.onnx"
    if ids:
        example = torch.randint(0, 10, (3, *shape))
        kwargs = {"input_names": ["input"], "output_names": ["output"]}
        if dynamo:
            torch.onnx.export(module, (example,), str(source), dynamo=True,
                              dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=1024)},), **kwargs)
        else:
            torch.onnx.export(module, (example,), str(source), dynamo=False, opset_version=17,
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kwargs)
    else:
        try:
            export(module, shape, source, dynamo)
        except Exception as error:  # PyTorch's own limits, e.g. the TorchScript exporter and is_causal
            pytest.skip(f"PyTorch cannot export it this way: {str(error)[:120]}")
    synapse("import", str(source), "-o", name, cwd=tmp_path)
    session = ort.InferenceSession(str(source))
    declared = session.get_inputs()[0].shape[0]
    rng = np.random.default_rng(2)
    for batch in ((1, 5) if not isinstance(declared, int) else (declared,)):
        if ids:
            x = rng.integers(0, 10, (batch, *shape)).astype(np.int64)
        else:
            x = rng.standard_normal((batch, *shape)).astype(np.float32)
        (theirs,) = session.run(None, {session.get_inputs()[0].name: x})[:1]
        ours = predict(synapse, tmp_path / f"{name}.onnx", x, tmp_path)
        np.testing.assert_allclose(ours.reshape(theirs.shape), theirs, atol=1e-5)
        with torch.no_grad():
            expected = module(torch.from_numpy(x))
        np.testing.assert_allclose(theirs, expected.numpy(), atol=1e-5)


if TORCH is None:
    class CharTransformer(nn.Module):
        """shared/bench/char_transformer.py's model, with the names Synapse's example uses."""

        def __init__(self, vocabulary):
            super().__init__()
            self.embed = nn.Embedding(vocabulary, 64)
            self.position = nn.Embedding(32, 64)
            layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(64)
            self.head = nn.Linear(64, vocabulary)

        def forward(self, x):
            h = self.embed(x) + self.position(torch.arange(x.shape[1]))
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
            return self.head(self.norm(self.encoder(h, mask=mask, is_causal=True)))

    class CharLSTMLayer(nn.Module):
        """char-lstm with the LSTM layer: Embedding → nn.LSTM (time first) → Linear."""

        def __init__(self, vocabulary):
            super().__init__()
            self.embed = nn.Embedding(vocabulary, 32)
            self.lstm = nn.LSTM(32, 128)
            self.head = nn.Linear(128, vocabulary)

        def forward(self, ids):
            return self.head(self.lstm(self.embed(ids))[0]).reshape(-1, self.head.out_features)


def test_synapse_transformer_trains_and_loads_into_pytorch_strict(synapse, tmp_path):
    """The char-transformer built by Synapse, trained a few steps by `synapse fine-tune`,
    loads into the PyTorch model of the reference script and predicts what Synapse and
    onnxruntime predict."""
    synapse("train", "char-transformer", "--epochs", "0", "--checkpoint", "t.ckpt.h5", cwd=tmp_path)
    synapse("export", "t.ckpt.h5", "-o", "initial", cwd=tmp_path)
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 92, (4, 32)).astype(np.float32)
    np.save(tmp_path / "ids.npy", ids)
    session = ort.InferenceSession(str(tmp_path / "initial.onnx"))
    (logits,) = session.run(None, {"input": ids})
    np.save(tmp_path / "targets.npy", np.tanh(logits).astype(np.float32))
    out = synapse("fine-tune", "initial.onnx", "--inputs", "ids.npy", "--targets", "targets.npy", "--loss", "mse",
                  "--optimizer", "adam", "--learning-rate", "0.002", "--epochs", "3", "-o", "tuned", cwd=tmp_path).stdout
    losses = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("Epoch")]
    assert losses[-1] < losses[0]
    model = CharTransformer(92)
    model.load_state_dict(to_state_dict(tmp_path / "tuned.h5"), strict=True)
    model.eval()
    x = rng.integers(0, 92, (3, 32))
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    ours = predict(synapse, tmp_path / "tuned.onnx", x, tmp_path).reshape(theirs.shape)
    (runtime,) = ort.InferenceSession(str(tmp_path / "tuned.onnx")).run(None, {"input": x.astype(np.float32)})
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    np.testing.assert_allclose(runtime, theirs, atol=1e-4)


def test_synapse_lstm_layer_loads_into_pytorch_strict(synapse, tmp_path):
    """char-lstm with the LSTM layer: its weights load into Embedding → nn.LSTM → Linear with
    strict=True, and the exported graph (an ONNX LSTM node) predicts what PyTorch predicts,
    in Synapse and in onnxruntime."""
    synapse("train", "char-lstm-layer", "--epochs", "0", "--checkpoint", "l.ckpt.h5", cwd=tmp_path)
    synapse("export", "l.ckpt.h5", "-o", "lstm", cwd=tmp_path)
    model = CharLSTMLayer(92)
    model.load_state_dict(to_state_dict(tmp_path / "l.ckpt.h5"), strict=True)
    model.eval()
    x = np.random.default_rng(4).integers(0, 92, (4, 2))
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    np.save(tmp_path / "x.npy", x.astype(np.float32))
    np.save(tmp_path / "zeros.npy", np.zeros((2, 128), np.float32))
    ours = json.loads(synapse("predict", "lstm.onnx", "--input", "x=x.npy", "--input", "h=zeros.npy", "--input", "c=zeros.npy",
                              "--json", cwd=tmp_path).stdout)
    np.testing.assert_allclose(np.array(ours["y"], np.float32), theirs, atol=1e-4)
    session = ort.InferenceSession(str(tmp_path / "lstm.onnx"))
    zeros = np.zeros((2, 128), np.float32)
    (runtime, *_) = session.run(None, {"x": x.astype(np.float32), "h": zeros, "c": zeros})
    np.testing.assert_allclose(runtime, theirs, atol=1e-4)
    assert "LSTM" in [n.op_type for n in __import__("onnx").load(str(tmp_path / "lstm.onnx"), load_external_data=False).graph.node]


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", ["lstm_2_bidirectional", "gru", "transformer_encoder_layer"])
def test_sequence_length_left_dynamic_runs_at_other_lengths(synapse, tmp_path, name, dynamo):
    """Exported with both the batch and the sequence length symbolic, the imported model runs
    at sequence lengths other than the traced one, like onnxruntime."""
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)
    factory, shape, _ = models()[name]
    torch.manual_seed(1)
    module = factory().eval()
    source = tmp_path / "torch.onnx"
    example = torch.randn(3, *shape)
    names = {"input_names": ["input"], "output_names": ["output"]}
    try:
        if dynamo:
            # An earlier export of the same module class (batch only symbolic) leaves cached
            # specialisations behind that would fix the length again.
            torch._dynamo.reset()
            dims = {0: torch.export.Dim("batch", min=1, max=64), 1: torch.export.Dim("seq", min=2, max=64)}
            torch.onnx.export(module, (example,), str(source), dynamo=True, dynamic_shapes=(dims,), **names)
        else:
            axes = {0: "batch", 1: "seq"}
            torch.onnx.export(module, (example,), str(source), dynamo=False, opset_version=17,
                              dynamic_axes={"input": axes, "output": axes}, **names)
    except Exception as error:
        pytest.skip(f"PyTorch cannot export it this way: {str(error)[:120]}")
    synapse("import", str(source), "-o", "model", cwd=tmp_path)
    session = ort.InferenceSession(str(source))
    for length in (4, 9):
        x = np.random.default_rng(length).standard_normal((2, length, shape[1])).astype(np.float32)
        (theirs,) = session.run(None, {"input": x})[:1]
        np.testing.assert_allclose(predict(synapse, tmp_path / "model.onnx", x, tmp_path).reshape(theirs.shape), theirs, atol=1e-5)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_imported_recurrent_model_trains(synapse, tmp_path, dynamo):
    """A PyTorch GRU + Linear, exported and imported, trains under `synapse fine-tune` (the
    gradients reach the weights through the ONNX GRU node and its gate reordering), and the
    result runs in onnxruntime as Synapse runs it."""
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 5, batch_first=True, bidirectional=True)
            self.head = nn.Linear(10, 2)

        def forward(self, x):
            return self.head(self.gru(x)[0][:, -1])

    torch.manual_seed(5)
    export(Model().eval(), (6, 3), tmp_path / "torch.onnx", dynamo)
    synapse("import", "torch.onnx", "-o", "imported", cwd=tmp_path)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((16, 6, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.stack([x[:, :, 0].sum(1), x[:, :, 1].mean(1)], 1).astype(np.float32))
    out = synapse("fine-tune", "imported.onnx", "--inputs", "x.npy", "--targets", "y.npy", "--loss", "mse", "--optimizer", "adam",
                  "--learning-rate", "0.01", "--epochs", "30", "--batch-size", "0", "-o", "tuned", cwd=tmp_path).stdout
    losses = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("Epoch")]
    assert losses[-1] < 0.7 * losses[0]
    session = ort.InferenceSession(str(tmp_path / "tuned.onnx"))
    (runtime,) = session.run(None, {session.get_inputs()[0].name: x[:3]})
    np.testing.assert_allclose(predict(synapse, tmp_path / "tuned.onnx", x[:3], tmp_path), runtime, atol=1e-5)
