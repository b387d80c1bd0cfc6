"""Safetensors state dicts between PyTorch and Synapse, both ways.

- PyTorch → Synapse: a state dict saved with `safetensors.torch.save_file` (float32, float16,
  bfloat16, BatchNorm's int64 counter) reads in `synapse inspect` with PyTorch's names, shapes,
  dtypes and values; a damaged copy is a one-line error naming the file.
- Synapse → PyTorch: `synapse export CHECKPOINT -o W.safetensors` loads into the same
  architecture with `load_state_dict(strict=True)`, which then predicts what `synapse predict`
  does. (Module.saveSafeTensors/loadSafeTensors and the format's rules: SafeTensorsTests.swift.)
"""
import json
import os

import numpy as np
import pytest

from torch_support import TORCH, nn, torch

pytestmark = pytest.mark.skipif(TORCH is not None, reason=TORCH or "")
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
safetensors_torch = pytest.importorskip("safetensors.torch")


def torch_model():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model.train()
    model(torch.randn(8, 3))  # running statistics and the counter move
    return model


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16] if TORCH is None else [None])
def test_pytorch_state_dict_reads_with_names_dtypes_and_values(synapse, tmp_path, dtype):
    state = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in torch_model().state_dict().items()}
    safetensors_torch.save_file(state, str(tmp_path / "m.safetensors"))
    listed = json.loads(synapse("inspect", "m.safetensors", "--json", cwd=tmp_path).stdout)
    tensors = {t["name"]: t for t in listed["tensors"]}
    assert set(tensors) == set(state)
    spelled = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
    for name, value in state.items():
        exact = value.to(torch.float64).numpy()
        assert tensors[name]["dtype"] == spelled[value.dtype], name
        assert tensors[name]["shape"] == list(value.shape), name
        # Every one of these dtypes is exact in float32, so min and max are equal and the sum close.
        assert tensors[name]["min"] == exact.min() and tensors[name]["max"] == exact.max(), name
        assert tensors[name]["sum"] == pytest.approx(exact.sum(), rel=1e-6, abs=1e-6), name


def test_damaged_state_dict_is_a_one_line_error(synapse, tmp_path):
    safetensors_torch.save_file(torch_model().state_dict(), str(tmp_path / "m.safetensors"))
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-5])
    result = synapse.run_failing("inspect", "cut.safetensors", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synapse: safetensors cut.safetensors: "), result.stderr


def test_synapse_export_loads_into_pytorch_strict(synapse, tmp_path):
    synapse("train", "cnn-bn", "--epochs", "1", "--checkpoint", "cnn.ckpt.h5", cwd=tmp_path)
    synapse("export", "cnn.ckpt.h5", "-o", "cnn", cwd=tmp_path)
    synapse("export", "cnn.ckpt.h5", "-o", "cnn.safetensors", cwd=tmp_path)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(128, 10))
    state = safetensors_torch.load_file(str(tmp_path / "cnn.safetensors"))
    assert state["1.num_batches_tracked"].dtype == torch.int64 and state["1.num_batches_tracked"].shape == ()
    model.load_state_dict(state, strict=True)
    model.eval()
    rows = np.loadtxt(os.path.join(ROOT, "data", "digits", "test.csv"), delimiter=",", dtype=np.float32)[:6]
    x = (rows[:, 1:] / 16).reshape(-1, 1, 8, 8).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    (ours,) = json.loads(synapse("predict", "cnn.onnx", "--input", "x.npy", "--json", cwd=tmp_path).stdout).values()
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.array(ours, np.float32), theirs, atol=1e-4)
