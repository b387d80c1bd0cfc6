"""The C reader (tools/c, libprotobuf-c + libhdf5) against model files the Swift CLI wrote:
its printout matches `synapse inspect --json`, number for number; bad files give an error."""
import json
import os
import re
import subprocess

import numpy as np
import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
READER = os.path.join(ROOT, "tools", "c", "build", "synapse-inspect-c")


@pytest.fixture(scope="module")
def models(synapse, tmp_path_factory):
    if not os.path.exists(READER):
        pytest.fail(f"{READER} is missing: run `make c-reader` (make test does)")
    folder = tmp_path_factory.mktemp("c")
    synapse("train", "xor", "--epochs", "300", "--checkpoint", "xor.ckpt.h5", cwd=folder)
    synapse("export", "xor.ckpt.h5", "-o", "xor", cwd=folder)
    synapse("train", "digits", "--epochs", "1", "--checkpoint", "digits.ckpt.h5", cwd=folder)
    synapse("export", "digits.ckpt.h5", "-o", "digits", cwd=folder)
    return folder


def read_c(path):
    return subprocess.run([READER, str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("name", ["xor", "digits"])
def test_printout_matches_synapse_inspect(synapse, models, name):
    result = read_c(models / f"{name}.onnx")
    assert result.returncode == 0, result.stderr
    report = json.loads(synapse("inspect", f"{name}.onnx", "--json", cwd=models).stdout)
    weights = {}
    for line in result.stdout.splitlines():
        m = re.fullmatch(r"weight (\S+) \[([\d, ]*)\] min (\S+) max (\S+) sum (\S+)", line)
        if m:
            shape = [int(d) for d in m.group(2).split(", ")] if m.group(2) else []
            weights[m.group(1)] = (shape, float(m.group(3)), float(m.group(4)), float(m.group(5)))
    assert sorted(weights) == sorted(w["name"] for w in report["weights"])
    for w in report["weights"]:
        shape, lo, hi, total = weights[w["name"]]
        assert shape == w["shape"]
        # float32 values: 9 significant digits identify each one exactly
        assert (np.float32(lo), np.float32(hi)) == (np.float32(w["min"]), np.float32(w["max"]))
        assert total == pytest.approx(w["sum"], rel=1e-12, abs=1e-12)
    nodes = [line.split(":")[0][5:] for line in result.stdout.splitlines() if line.startswith("node ")]
    assert nodes == report["nodes"]
    assert [l[6:] for l in result.stdout.splitlines() if l.startswith("input ")] == [i["name"] for i in report["inputs"]]


def test_bad_files_are_errors_not_crashes(models, tmp_path):
    (tmp_path / "random.onnx").write_bytes(os.urandom(2000))
    data = (models / "xor.onnx").read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
    (tmp_path / "xor.onnx").write_bytes(data)
    (tmp_path / "xor.h5").write_bytes((models / "xor.h5").read_bytes()[:600])
    expected = {"random.onnx": "not an ONNX model", "cut.onnx": "not an ONNX model", "xor.onnx": "is damaged",
                "missing.onnx": "cannot open it"}
    for name, message in expected.items():
        result = read_c(tmp_path / name)
        assert result.returncode == 1, (name, result.stderr)
        assert message in result.stderr, (name, result.stderr)
