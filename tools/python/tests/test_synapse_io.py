"""The synapse_io package against files the Swift CLI wrote; PyTorch models load Synapse
weights with load_state_dict and give the same outputs, and PyTorch weights written with
from_state_dict predict the same in Synapse."""
import json
import os

import numpy as np
import onnxruntime as ort
import pytest

import synapse_io

try:
    import torch
    from torch import nn
    TORCH = None
except ImportError:  # the venv gets torch from a local CPU-only wheel when the machine has one
    TORCH = "torch is not installed (no CPU-only wheel in /opt/wheels; the index's wheel pulls GBs of CUDA libraries)"

needs_torch = pytest.mark.skipif(TORCH is not None, reason=TORCH or "")
DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "data")


@pytest.fixture(scope="module")
def files(synapse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("io")
    synapse("train", "xor", "--epochs", "800", "--checkpoint", "xor.ckpt.h5", cwd=folder)
    synapse("export", "xor.ckpt.h5", "-o", "xor", cwd=folder)
    synapse("train", "digits", "--epochs", "1", "--optimizer", "adam", "--checkpoint", "digits.ckpt.h5", cwd=folder)
    synapse("export", "digits.ckpt.h5", "-o", "digits", cwd=folder)
    return folder


def predict(synapse, folder, model, value):
    out = synapse("predict", model, "--json", "--input", value, cwd=folder).stdout
    return np.array(next(iter(json.loads(out).values())), np.float32)


def test_load_checkpoint_reads_every_field(synapse, files):
    c = synapse_io.load_checkpoint(files / "digits.ckpt.h5")
    report = json.loads(synapse("inspect", "digits.ckpt.h5", "--json", cwd=files).stdout)
    assert (c.epoch, c.step, c.format_version) == (report["epoch"], report["step"], 3)
    assert c.metadata == report["metadata"]
    assert c.state == report["state"] and set(c.state["data"]) == {"epoch", "batch"}
    assert "data_epoch" not in c.metadata, "the trainer's state is kept apart from the user's metadata"
    assert c.random_state == report["random_state"]
    assert c.optimizer_kind == "Adam"
    assert c.hyperparameters == pytest.approx(report["optimizer"]["hyperparameters"])
    assert sorted(c.weights) == [w["name"] for w in report["weights"]]
    for w in report["weights"]:
        assert list(c.weights[w["name"]].shape) == w["shape"]
        assert float(c.weights[w["name"]].astype(np.float64).sum()) == pytest.approx(w["sum"], abs=1e-9)
    assert set(c.optimizer_state["0.weight"]) == {"exp_avg", "exp_avg_sq", "step"}


def test_load_checkpoint_refuses_other_files(files, tmp_path):
    (tmp_path / "noise.h5").write_bytes(b"not hdf5")
    with pytest.raises(synapse_io.SynapseFileError, match="noise.h5: the file: not an HDF5 file Synapse wrote"):
        synapse_io.load_checkpoint(tmp_path / "noise.h5")
    with pytest.raises(synapse_io.SynapseFileError, match="attribute format"):
        synapse_io.load_checkpoint(files / "xor.h5")


def test_load_model_and_to_onnx(synapse, files):
    model = synapse_io.load_model(files / "xor.onnx")
    assert all(i.raw_data for i in model.graph.initializer)
    synapse_io.to_onnx(files / "xor.onnx", files / "xor_single.onnx")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    single = ort.InferenceSession(str(files / "xor_single.onnx")).run(None, {"input": x})[0]
    np.testing.assert_allclose(single, predict(synapse, files, "xor.onnx", json.dumps(x.tolist())), atol=1e-5)


def test_load_model_refuses_a_changed_pair(files, tmp_path):
    for name in ("xor.onnx", "xor.h5"):
        (tmp_path / name).write_bytes((files / name).read_bytes())
    with open(tmp_path / "xor.h5", "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(b"\x00" if last != b"\x00" else b"\x01")
    with pytest.raises(synapse_io.SynapseFileError, match="changed since export"):
        synapse_io.load_model(tmp_path / "xor.onnx")


@needs_torch
def test_pytorch_xor_loads_synapse_weights(synapse, files):
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    net.load_state_dict(synapse_io.to_state_dict(files / "xor.ckpt.h5"), strict=True)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, predict(synapse, files, "xor.onnx", json.dumps(x.tolist())), atol=1e-6)
    # The same weights through the model file's .onnx and its .h5.
    for source in ("xor.onnx", "xor.h5"):
        net.load_state_dict(synapse_io.to_state_dict(files / source), strict=True)


@needs_torch
def test_pytorch_digits_loads_synapse_weights(synapse, files):
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    net.load_state_dict(synapse_io.to_state_dict(files / "digits.ckpt.h5"), strict=True)
    rows = np.loadtxt(os.path.join(DATA, "digits", "test.csv"), delimiter=",", dtype=np.float32)[:20, 1:] / 16
    np.save(files / "rows.npy", rows)
    with torch.no_grad():
        theirs = net(torch.from_numpy(rows)).numpy()
    np.testing.assert_allclose(theirs, predict(synapse, files, "digits.onnx", str(files / "rows.npy")), atol=1e-4)


@needs_torch
def test_pytorch_weights_predict_the_same_in_synapse(synapse, files):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    synapse_io.from_state_dict(net.state_dict(), files / "from_torch", template=files / "xor.onnx")
    x = np.array([[0.5, -1], [2, 0.25], [1, 1]], np.float32)
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(predict(synapse, files, "from_torch.onnx", json.dumps(x.tolist())), theirs, atol=1e-6)
    np.testing.assert_allclose(ort.InferenceSession(str(files / "from_torch.onnx")).run(None, {"input": x})[0], theirs, atol=1e-6)
    with pytest.raises(synapse_io.SynapseFileError, match="differ"):
        synapse_io.from_state_dict({"0.weight": net[0].weight}, files / "bad", template=files / "xor.onnx")
