"""Convolutional networks between Synapse and PyTorch, both ways.

- Synapse → PyTorch: `synapse train cnn-bn` (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout,
  Flatten, Linear on the digits), exported; PyTorch loads weights and buffers with
  `strict=True` and predicts what Synapse and onnxruntime predict.
- PyTorch → Synapse: CNNs exported by both exporters (BatchNorm, grouped and strided
  convolutions, AdaptiveAvgPool2d(1), 1-D convolutions, pooling with ceil mode and padding)
  import and predict like onnxruntime at batch 1 and 5; `synapse fine-tune` trains an imported
  CNN, and the result runs in onnxruntime and loads back into PyTorch, which — fine-tuned the
  same way — agrees with it.
"""
import json
import os

import numpy as np
import onnxruntime as ort
import pytest

from synapse_io import to_state_dict

from torch_support import ONNXSCRIPT, TORCH, export, nn, torch

pytestmark = pytest.mark.skipif(TORCH is not None, reason=TORCH or "")
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def digits_test_rows(count):
    d = np.loadtxt(os.path.join(ROOT, "data", "digits", "test.csv"), delimiter=",", dtype=np.float32)[:count]
    return (d[:, 1:] / 16).reshape(-1, 1, 8, 8).astype(np.float32), d[:, 0].astype(np.int64)


def predict(synapse, model, x, cwd):
    np.save(cwd / "x.npy", x)
    ours = json.loads(synapse("predict", str(model), "--input", str(cwd / "x.npy"), "--json", cwd=cwd).stdout)
    (value,) = ours.values()
    return np.array(value, np.float32)


def test_synapse_cnn_loads_into_pytorch_strict(synapse, tmp_path):
    synapse("train", "cnn-bn", "--epochs", "1", "--checkpoint", "cnn.ckpt.h5", cwd=tmp_path)
    synapse("export", "cnn.ckpt.h5", "-o", "cnn", cwd=tmp_path)
    torch_model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(128, 10))
    for source in ("cnn.h5", "cnn.ckpt.h5"):
        state = to_state_dict(tmp_path / source)
        assert state["1.num_batches_tracked"].dtype == torch.int64
        assert int(state["1.num_batches_tracked"]) == 47  # one epoch of 1,500 rows in batches of 32
        torch_model.load_state_dict(state, strict=True)
    assert not torch.allclose(torch_model[1].running_var, torch.ones(16)), "training moved the running statistics"
    torch_model.eval()
    x, labels = digits_test_rows(64)
    with torch.no_grad():
        theirs = torch_model(torch.from_numpy(x)).numpy()
    ours = predict(synapse, tmp_path / "cnn.onnx", x, tmp_path)
    (runtime,) = ort.InferenceSession(str(tmp_path / "cnn.onnx")).run(None, {"input": x})
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    np.testing.assert_allclose(runtime, theirs, atol=1e-4)
    assert (theirs.argmax(1) == labels).mean() > 0.8, "one epoch already classifies most digits"
    nodes = [n.op_type for n in __import__("onnx").load(str(tmp_path / "cnn.onnx"), load_external_data=False).graph.node]
    assert "BatchNormalization" in nodes and "MaxPool" in nodes and "Conv" in nodes
    assert "Dropout" not in nodes and "RandomUniform" not in nodes, "exported in eval mode: dropout vanishes"


if TORCH is None:
    class Conv1dNet(nn.Module):
        """1-D convolutions, BatchNorm1d, MaxPool1d with ceil mode, average pooling over length."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(3, 6, 3, padding=2, dilation=2)
            self.norm = nn.BatchNorm1d(6)
            self.pool = nn.MaxPool1d(3, stride=2, ceil_mode=True)
            self.conv2 = nn.Conv1d(6, 4, 2, stride=2, groups=2)
            self.head = nn.Linear(4, 3)

        def forward(self, x):
            y = self.pool(torch.relu(self.norm(self.conv(x))))
            return self.head(self.conv2(y).mean(dim=2))


def cnn_models():
    """name → (module factory, input shape without the batch)."""
    return {
        "cnn_bn_dropout": (lambda: nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, groups=4, padding=1, stride=2), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.3),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5), nn.BatchNorm1d(5)), (3, 12, 12)),
        "pools": (lambda: nn.Sequential(
            nn.Conv2d(2, 4, (3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1)), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), nn.AvgPool2d(2, padding=1, count_include_pad=False),
            nn.Conv2d(4, 6, 1, bias=False), nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(6 * 2 * 1, 3)), (2, 13, 11)),
        "conv1d": (lambda: Conv1dNet(), (3, 17)),
    }


def trained(factory, shape, seed=1):
    """The module after a few training steps, so batch-norm statistics are not fresh."""
    torch.manual_seed(seed)
    module = factory()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.05)
    for _ in range(3):
        optimizer.zero_grad()
        module(torch.randn(8, *shape)).square().mean().backward()
        optimizer.step()
    return module.eval()


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", list(cnn_models()))
def test_pytorch_cnn_imports_and_predicts_like_onnxruntime(synapse, tmp_path, name, dynamo):
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)
    factory, shape = cnn_models()[name]
    module = trained(factory, shape)
    source = tmp_path / "torch.onnx"
    export(module, shape, source, dynamo)
    synapse("import", str(source), "-o", name, cwd=tmp_path)
    session = ort.InferenceSession(str(source))
    rng = np.random.default_rng(2)
    for batch in (1, 5):
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        (theirs,) = session.run(None, {session.get_inputs()[0].name: x})
        ours = predict(synapse, tmp_path / f"{name}.onnx", x, tmp_path)
        np.testing.assert_allclose(ours.reshape(theirs.shape), theirs, atol=1e-4)
        with torch.no_grad():
            np.testing.assert_allclose(theirs, module(torch.from_numpy(x)).numpy(), atol=1e-4)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_fine_tuned_pytorch_cnn_goes_back_to_pytorch(synapse, tmp_path, dynamo):
    """A PyTorch CNN exported, fine-tuned by Synapse (full batch, plain SGD) and written back
    with its own graph: onnxruntime runs it, it agrees with the same fine-tuning done in
    PyTorch, and (dynamo, whose weights keep the module's names) its weights load back into
    the module with strict=True."""
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)

    def factory():
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 6, 3, padding=1, groups=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(6, 10), nn.BatchNorm1d(10))
    module = trained(factory, (1, 8, 8), seed=3)
    source = tmp_path / "torch.onnx"
    export(module, (1, 8, 8), source, dynamo)
    synapse("import", str(source), "-o", "imported", cwd=tmp_path)
    x, labels = digits_test_rows(40)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", labels.astype(np.float32))
    out = synapse("fine-tune", "imported.onnx", "--inputs", "x.npy", "--targets", "y.npy", "--epochs", "3",
                  "--batch-size", "0", "--learning-rate", "0.1", "-o", "tuned", cwd=tmp_path).stdout
    losses = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("Epoch")]
    assert len(losses) == 3 and losses[-1] < losses[0]

    session = ort.InferenceSession(str(tmp_path / "tuned.onnx"))
    (runtime,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(predict(synapse, tmp_path / "tuned.onnx", x, tmp_path), runtime, atol=1e-4)

    # The same fine-tuning in PyTorch on the module as the exporter wrote it: both exporters
    # fold BatchNorm2d into the convolution; dynamo folds BatchNorm1d into the Linear too,
    # while the TorchScript exporter keeps it (it trains with batch statistics on both sides).
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval
    reference = module
    reference[0], reference[1] = fuse_conv_bn_eval(module[0], module[1]), nn.Identity()
    if dynamo:
        reference[8], reference[9] = fuse_linear_bn_eval(module[8], module[9]), nn.Identity()
    reference.train()
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(reference(torch.from_numpy(x)), torch.from_numpy(labels)).backward()
        optimizer.step()
    reference.eval()
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(runtime, expected, atol=2e-4)
    if dynamo:
        reference.load_state_dict(to_state_dict(tmp_path / "tuned.h5"), strict=True)
        with torch.no_grad():
            np.testing.assert_allclose(reference(torch.from_numpy(x)).numpy(), runtime, atol=1e-5)
