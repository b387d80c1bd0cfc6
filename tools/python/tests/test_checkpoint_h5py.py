"""A checkpoint written by `synapse train` is readable with h5py alone, and what h5py reads
matches what `synapse inspect --json` reports (names, shapes, values, counters, metadata)."""
import json

import h5py
import numpy as np
import pytest


@pytest.fixture(scope="module")
def checkpoint(synapse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    synapse("train", "digits", "--epochs", "1", "--optimizer", "adam", "--checkpoint", "digits.h5", cwd=folder)
    report = json.loads(synapse("inspect", "digits.h5", "--json", cwd=folder).stdout)
    return folder / "digits.h5", report


def test_root_attributes(checkpoint):
    path, report = checkpoint
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "synapse-checkpoint"
        assert int(f.attrs["format_version"]) == report["format_version"] == 3
        assert f.userblock_size == 512  # the integrity record (FORMAT.md)
        assert int(f.attrs["epoch"]) == report["epoch"] == 1
        assert int(f.attrs["step"]) == report["step"] == 47
        assert f.attrs["library_version"] == report["library_version"]


def test_weights_by_name_shape_and_value(checkpoint):
    path, report = checkpoint
    with h5py.File(path, "r") as f:
        names = sorted(f["weights"].keys())
        assert names == [w["name"] for w in report["weights"]] == ["0.bias", "0.weight", "2.bias", "2.weight"]
        for w in report["weights"]:
            data = f["weights"][w["name"]]
            assert data.dtype == np.dtype("<f4")
            assert list(data.shape) == w["shape"]
            values = data[()].astype(np.float64)
            assert values.min() == pytest.approx(w["min"], abs=0)
            assert values.max() == pytest.approx(w["max"], abs=0)
            assert values.sum() == pytest.approx(w["sum"], rel=1e-9, abs=1e-9)
        # PyTorch's layout: Linear weights are [out, in].
        assert f["weights"]["0.weight"].shape == (128, 64)


def test_optimizer_state(checkpoint):
    path, report = checkpoint
    with h5py.File(path, "r") as f:
        group = f["optimizer"]
        assert group.attrs["kind"] == report["optimizer"]["kind"] == "Adam"
        for name, value in report["optimizer"]["hyperparameters"].items():
            assert float(group.attrs[name]) == pytest.approx(value)
        for entry in report["optimizer"]["state"]:
            data = group[entry["parameter"]][entry["slot"]]
            assert list(data.shape) == entry["shape"]
            assert data[()].astype(np.float64).sum() == pytest.approx(entry["sum"], rel=1e-9, abs=1e-12)
        assert group["0.weight"]["step"][()] == 47


def test_generator_and_metadata(checkpoint):
    path, report = checkpoint
    with h5py.File(path, "r") as f:
        assert [int(x) for x in f["random"][()]] == report["random_state"]
        assert f["random"].attrs["algorithm"] == "xoshiro256**"
        metadata = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f["metadata"].attrs.items()}
        assert metadata == report["metadata"]
        assert metadata["example"] == "digits"
