"""Models built in PyTorch and written by `torch.onnx.export` — the TorchScript exporter
(`dynamo=False`, opset 17) and the default dynamo exporter (onnxscript) — import into Synapse
(`synapse import`) and predict (`synapse predict`) what onnxruntime predicts, at batch sizes
other than the one exported: the batch dimension stays symbolic."""
import json

import numpy as np
import onnxruntime as ort
import pytest

from torch_support import ONNXSCRIPT, TORCH, export, nn, torch

pytestmark = pytest.mark.skipif(TORCH is not None, reason=TORCH or "")


def models():
    """name → (module factory, example input shape without the batch)."""
    return {
        "mlp": (lambda: nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4), nn.Tanh(), nn.Linear(4, 3)), (6,)),
        "flatten": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 10), nn.Sigmoid(), nn.Linear(10, 2)), (1, 8, 8)),
        "sequence_gelu": (lambda: nn.Sequential(nn.Linear(5, 12), nn.GELU(), nn.Linear(12, 3), nn.Softmax(dim=-1)), (4, 5)),
        "tanh_gelu": (lambda: nn.Sequential(nn.Linear(5, 7), nn.GELU(approximate="tanh"), nn.LogSoftmax(dim=1)), (4, 5)),
        "reshape": (lambda: Reshaper(), (3, 4)),
        "masks": (lambda: Masker(), (4, 5)),
        # 3-D convolutions: stride, pads and dilation per axis, groups, then 3-D pooling.
        "conv3d": (lambda: nn.Sequential(nn.Conv3d(2, 4, 3, stride=(2, 1, 1), padding=(1, 0, 1)), nn.ReLU(),
                                         nn.Conv3d(4, 4, 2, groups=2, dilation=(2, 1, 1)), nn.MaxPool3d(2), nn.Flatten()), (2, 7, 6, 6)),
    }


if TORCH is None:
    class Reshaper(nn.Module):
        """Shape arithmetic: x.shape read at run time, reshape, transpose, squeeze, max."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 6)

        def forward(self, x):
            n = x.shape[0]
            y = self.linear(x).reshape(n, 3, 2, 3).transpose(1, 3)  # [n, 3, 2, 3]
            y = torch.sqrt(y * y + 1).unsqueeze(1).squeeze(1)
            return y.amax(dim=2) + torch.clamp(y.mean(dim=2), min=-0.5, max=0.5)


    class Masker(nn.Module):
        """Values made from shapes: arange, comparisons, where, zeros expanded to the batch."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(5, 5)

        def forward(self, x):
            positions = torch.arange(x.shape[-1], dtype=torch.float32)
            y = torch.where(positions.unsqueeze(0) < 3, self.linear(x), torch.zeros_like(x))
            z = torch.zeros(x.shape[0], 1, x.shape[2]).expand(-1, x.shape[1], -1)
            return torch.erf(y) + z + (x > 0.5).float() + torch.max(x, dim=1).values.unsqueeze(1)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", list(models()))
def test_import_then_predict_matches_onnxruntime(synapse, tmp_path, name, dynamo):
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)
    factory, shape = models()[name]
    torch.manual_seed(1)
    module = factory().eval()
    source = tmp_path / f"{name}_torch.onnx"
    export(module, shape, source, dynamo)
    synapse("import", str(source), "-o", name, cwd=tmp_path)
    session = ort.InferenceSession(str(source))
    input_name = session.get_inputs()[0].name
    rng = np.random.default_rng(2)
    for batch in (1, 5):
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        np.save(tmp_path / "x.npy", x)
        ours = json.loads(synapse("predict", f"{name}.onnx", "--input", str(tmp_path / "x.npy"), "--json", cwd=tmp_path).stdout)
        (theirs,) = session.run(None, {input_name: x})
        (value,) = ours.values()
        np.testing.assert_allclose(np.array(value, np.float32).reshape(theirs.shape), theirs, atol=1e-5)
        with torch.no_grad():
            np.testing.assert_allclose(theirs, module(torch.from_numpy(x)).numpy(), atol=1e-5)
