"""Damaged copies of real files: the Python reader raises SynapseFileError and the C reader
exits 1 with a message — never a crash, never wrong weights handed out as if whole."""
import os
import signal
import subprocess

import pytest
import synapse_io

from damage import copies
from test_c_reader import READER


@pytest.fixture(scope="module")
def files(synapse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("damage")
    synapse("train", "xor", "--epochs", "50", "--checkpoint", "xor.ckpt.h5", cwd=folder)
    synapse("export", "xor.ckpt.h5", "-o", "xor", cwd=folder)
    return folder


def test_checkpoint_record_is_verified(files):
    good = (files / "xor.ckpt.h5").read_bytes()
    assert good[:12] == b"SYNAPSE-SEAL"
    assert synapse_io.load_checkpoint(files / "xor.ckpt.h5").format_version == 3
    refused = 0
    for index, (kind, data) in enumerate(copies(good, 300, seed=5)):
        path = files / f"damaged-{index}.h5"
        path.write_bytes(data)
        try:
            synapse_io.load_checkpoint(path)
            assert data == good, f"{kind} copy {index} loaded"
        except synapse_io.SynapseFileError as error:
            refused += 1
            assert "damaged" in str(error) or "not an HDF5 file" in str(error), str(error)
        path.unlink()
    assert refused >= 295


def test_c_reader_refuses_damaged_weight_files(files, tmp_path):
    if not os.path.exists(READER):
        pytest.fail(f"{READER} is missing: run `make c-reader` (make test does)")
    graph = (files / "xor.onnx").read_bytes()
    weights = (files / "xor.h5").read_bytes()
    assert weights[:12] == b"SYNAPSE-SEAL"
    (tmp_path / "xor.onnx").write_bytes(graph)
    refused = 0
    for index, (kind, data) in enumerate(copies(weights, 200, seed=6)):
        (tmp_path / "xor.h5").write_bytes(data)
        result = subprocess.run([READER, str(tmp_path / "xor.onnx")], capture_output=True)
        assert result.returncode in (0, 1), f"{kind} copy {index}: exit {result.returncode} ({signal.Signals(-result.returncode).name if result.returncode < 0 else ''})"
        if result.returncode == 1:
            refused += 1
        else:
            assert data == weights, f"{kind} copy {index} was read as if whole"
    assert refused >= 195


def test_c_reader_survives_damaged_graphs(files, tmp_path):
    graph = (files / "xor.onnx").read_bytes()
    (tmp_path / "xor.h5").write_bytes((files / "xor.h5").read_bytes())
    for index, (kind, data) in enumerate(copies(graph, 200, seed=7)):
        (tmp_path / "xor.onnx").write_bytes(data)
        result = subprocess.run([READER, str(tmp_path / "xor.onnx")], capture_output=True)
        assert result.returncode in (0, 1), f"{kind} copy {index}: exit {result.returncode}"
