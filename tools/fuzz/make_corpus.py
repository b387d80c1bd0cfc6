"""Writes the fuzzers' seed corpora from real files (`make fuzz-corpus`; the output is
committed): files the synapse CLI writes, a version-1 checkpoint as Synapse 0.1 wrote it,
models exported by torch.onnx (both exporters) and tensor inputs.

Usage: python make_corpus.py SYNAPSE_BINARY"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
synapse = os.path.abspath(sys.argv[1])


def folder(name):
    path = os.path.join(CORPUS, name)
    os.makedirs(path, exist_ok=True)
    return path


def run(*args, cwd):
    subprocess.run([synapse, *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


work = tempfile.mkdtemp()
run("train", "xor", "--epochs", "20", "--checkpoint", "xor.ckpt.h5", cwd=work)
run("export", "xor.ckpt.h5", "-o", "model", cwd=work)
run("export", "xor.ckpt.h5", "-o", "embedded", "--embed", cwd=work)
run("train", "cnn-bn", "--epochs", "0", "--checkpoint", "cnn.ckpt.h5", cwd=work)
run("export", "cnn.ckpt.h5", "-o", "cnn", "--embed", cwd=work)
os.makedirs(CORPUS, exist_ok=True)
shutil.copy(os.path.join(work, "model.h5"), os.path.join(CORPUS, "model.h5"))
checkpoints, models, graphs, inputs = folder("fuzz-checkpoint"), folder("fuzz-model-file"), folder("fuzz-onnx-graph"), folder("fuzz-tensor-input")
shutil.copy(os.path.join(work, "xor.ckpt.h5"), os.path.join(checkpoints, "xor-v2.ckpt.h5"))
shutil.copy(os.path.join(work, "cnn.ckpt.h5"), os.path.join(checkpoints, "cnn-bn-v2.ckpt.h5"))

# A version-1 checkpoint: the same layout without the integrity record (no user block).
with h5py.File(os.path.join(checkpoints, "xor-v1.ckpt.h5"), "w") as f:
    f.attrs["format"] = "synapse-checkpoint"
    f.attrs["format_version"] = np.int64(1)
    f.attrs["library_version"] = "0.1.0"
    f.attrs["epoch"], f.attrs["step"] = np.int64(3), np.int64(3)
    weights = f.create_group("weights")
    for name, shape in [("0.weight", (3, 2)), ("0.bias", (3,)), ("2.weight", (1, 3)), ("2.bias", (1,))]:
        weights.create_dataset(name, data=np.linspace(-1, 1, int(np.prod(shape)), dtype="<f4").reshape(shape))
    f.create_dataset("random", data=np.array([1, 2, 3, 4], dtype=np.uint64))
    f.create_group("metadata").attrs["note"] = "seed"

for name in ("model.onnx", "embedded.onnx", "cnn.onnx"):
    shutil.copy(os.path.join(work, name), os.path.join(models, name))
    shutil.copy(os.path.join(work, name), os.path.join(graphs, name))

try:
    import torch
    from torch import nn

    class Shapes(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 6)

        def forward(self, x):
            y = self.linear(x).reshape(x.shape[0], 3, 2).transpose(1, 2)
            mask = torch.arange(y.shape[-1], dtype=torch.float32) < 2
            return torch.where(mask, torch.nn.functional.gelu(y), torch.zeros_like(y)).amax(dim=1)

    class Sequence(nn.Module):
        """A bidirectional LSTM, layer norm and a GRU: ONNX LSTM/GRU nodes, LayerNormalization."""

        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(2, 3, bidirectional=True, batch_first=True)
            self.norm = nn.LayerNorm(6)
            self.gru = nn.GRU(6, 2, batch_first=True)

        def forward(self, x):
            return self.gru(self.norm(self.lstm(x)[0]))[0]

    cnn = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, stride=(1, 2)), nn.BatchNorm2d(2), nn.ReLU(),
                        nn.MaxPool2d(2, ceil_mode=True), nn.AvgPool2d(2, padding=1, count_include_pad=False),
                        nn.Conv2d(2, 2, 1, groups=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2), nn.BatchNorm1d(2))
    for name, module, shape in [("mlp", nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=-1)), (2,)),
                                ("shapes", Shapes(), (2,)), ("cnn", cnn, (1, 6, 6)), ("sequence", Sequence(), (4, 2))]:
        for dynamo in (False, True):
            path = os.path.join(graphs, f"torch-{name}-{'dynamo' if dynamo else 'torchscript'}.onnx")
            kwargs = {"input_names": ["x"], "output_names": ["y"]}
            if dynamo:
                kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch", min=1, max=64)},)
            else:
                kwargs["dynamic_axes"] = {"x": {0: "batch"}}
                kwargs["opset_version"] = 17
            torch.onnx.export(module.eval(), (torch.zeros(3, *shape),), path, dynamo=dynamo, **kwargs)
            shutil.copy(path, os.path.join(models, os.path.basename(path)))
            if os.path.exists(path + ".data"):  # the dynamo exporter's (empty) external-data file
                os.remove(path + ".data")
except ImportError:
    print("torch is not installed: no torch.onnx seeds")

with open(os.path.join(inputs, "json.txt"), "w") as f:
    f.write("[[0, 1], [1, 0.5], [-2e3, 3.25]]")
np.save(os.path.join(inputs, "rows.npy"), np.arange(12, dtype="<f4").reshape(3, 4))
os.rename(os.path.join(inputs, "rows.npy"), os.path.join(inputs, "rows-npy.bin"))
with open(os.path.join(inputs, "rows-csv.txt"), "w") as f:
    f.write("1,2,3\n4,5,6\n")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import operator_seeds  # noqa: E402

operator_seeds.write(graphs)
shutil.rmtree(work)
print("corpus written to", CORPUS)
