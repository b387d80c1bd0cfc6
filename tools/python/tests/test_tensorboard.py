"""TensorBoard reads the event files `synapse train --tensorboard DIR` writes: the scalar curves
have the right tags, steps and values (the learning rate of a cosine schedule, one value per
epoch), the weight histograms agree with the checkpoint's weights, and a record damaged on purpose is caught by TensorBoard's own CRC check, as for a file
TensorFlow wrote."""
import glob
import math

import h5py
import numpy as np
import pytest

try:
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    TENSORBOARD = None
except ImportError:
    TENSORBOARD = "tensorboard is not installed (make python-test-env installs it)"

pytestmark = pytest.mark.skipif(TENSORBOARD is not None, reason=TENSORBOARD or "")


def test_tensorboard_reads_the_scalars(synapse, tmp_path):
    synapse("train", "digits", "--epochs", "3", "--scheduler", "cosine", "--tensorboard", "logs", cwd=tmp_path)
    accumulator = EventAccumulator(str(tmp_path / "logs"))
    accumulator.Reload()
    assert set(accumulator.Tags()["scalars"]) == {"train/step_loss", "epoch/loss", "epoch/learning_rate", "epoch/accuracy"}
    rates = accumulator.Scalars("epoch/learning_rate")
    assert [r.step for r in rates] == [1, 2, 3]
    # CosineAnnealingLR(T_max = 3) from 0.05: the rate used in epoch e is lr(e - 1).
    expected = [0.05 * (1 + math.cos(math.pi * e / 3)) / 2 for e in range(3)]
    assert [r.value for r in rates] == pytest.approx(expected, rel=1e-6)
    steps = accumulator.Scalars("train/step_loss")
    assert [s.step for s in steps] == list(range(1, 3 * 47 + 1))
    losses = [s.value for s in accumulator.Scalars("epoch/loss")]
    assert losses[2] < losses[0]
    accuracy = [s.value for s in accumulator.Scalars("epoch/accuracy")]
    assert 0.1 < accuracy[0] < accuracy[2] <= 1


def test_weight_histograms_match_the_checkpoint(synapse, tmp_path):
    synapse("train", "digits", "--epochs", "2", "--validation-split", "0.1", "--tensorboard", "logs",
            "--checkpoint", "d.h5", cwd=tmp_path)
    accumulator = EventAccumulator(str(tmp_path / "logs"), size_guidance={"histograms": 0})
    accumulator.Reload()
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert set(accumulator.Tags()["histograms"]) == {f"weights/{n}" for n in names}
    assert {"validation/loss", "validation/accuracy"} <= set(accumulator.Tags()["scalars"])
    with h5py.File(tmp_path / "d.h5") as checkpoint:
        for name in names:
            events = accumulator.Histograms(f"weights/{name}")
            assert [e.step for e in events] == [1, 2]
            last = events[-1].histogram_value
            weights = np.asarray(checkpoint["weights"][name], dtype=np.float64).ravel()
            assert last.num == weights.size
            assert last.min == pytest.approx(weights.min(), abs=1e-7)
            assert last.max == pytest.approx(weights.max(), abs=1e-7)
            assert last.sum == pytest.approx(weights.sum(), rel=1e-5, abs=1e-5)
            assert sum(last.bucket) == weights.size
            assert list(last.bucket_limit) == sorted(last.bucket_limit)


def test_a_damaged_record_is_caught_by_tensorboards_reader(synapse, tmp_path):
    synapse("train", "digits", "--epochs", "1", "--tensorboard", "logs", cwd=tmp_path)
    (path,) = glob.glob(str(tmp_path / "logs" / "events.out.tfevents.*"))
    good = list(event_file_loader.RawEventFileLoader(path).Load())
    # The file version, one loss per step, the epoch's loss, rate and accuracy, 4 weight histograms.
    assert len(good) == 1 + 47 + 3 + 4
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.tfevents"
    damaged.write_bytes(bytes(data))
    read = list(event_file_loader.RawEventFileLoader(str(damaged)).Load())
    assert 0 < len(read) < len(good), "the reader stops at the record whose checksum fails"
    assert read == good[:len(read)], "the records before it are intact"
