"""Checkpoints (``*.ckpt.h5``): see formats/FORMAT.md, "Checkpoint"."""
import io
from dataclasses import dataclass, field

import h5py
import numpy as np

from .errors import SynapseFileError
from .integrity import read_once, verify_bytes

FORMAT = "synapse-checkpoint"
FORMAT_VERSION = 3  # 2: the file starts with an integrity record (integrity.py); 3: training state in /state
LEGACY_STATE = {"data_epoch": ("data", "epoch"), "data_batch": ("data", "batch"), "scheduler_state": ("schedule", "state"),
                "early_stop_best": ("early_stop", "best"), "early_stop_since": ("early_stop", "since")}


@dataclass
class Checkpoint:
    """Everything a checkpoint holds, as plain Python and numpy values."""
    weights: dict                      # name -> float32 ndarray
    epoch: int
    step: int
    format_version: int
    library_version: str
    metadata: dict = field(default_factory=dict)
    optimizer_kind: str = None
    hyperparameters: dict = field(default_factory=dict)
    optimizer_state: dict = field(default_factory=dict)   # name -> slot -> ndarray
    random_state: list = None          # four uint64 words of xoshiro256**
    state: dict = field(default_factory=dict)  # namespace -> key -> str (data, schedule, early_stop, epoch)


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _float32(path, dataset):
    if dataset.dtype.kind != "f" or dataset.dtype.itemsize != 4:
        raise SynapseFileError(path, dataset.name, f"holds {dataset.dtype}, expected float32")
    return dataset[()].astype("<f4")


def load_checkpoint(path):
    """Reads a Synapse checkpoint; raises SynapseFileError when it is not one or is damaged
    (the integrity record is checked before HDF5 reads the file). The file is read once and
    HDF5 parses those bytes in memory, so a checkpoint renamed over ``path`` while it is read
    gives the old file or the new one, never a false "damaged"."""
    return load_checkpoint_bytes(path, read_once(path)[0])


def load_checkpoint_bytes(path, data):
    """``load_checkpoint`` on the bytes ``data`` read from ``path``."""
    sealed = verify_bytes(path, data) == "sealed"
    try:
        return _read(path, sealed, data)
    except SynapseFileError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError, OverflowError) as error:
        # Only a version-1 file (no record) can get here damaged: h5py reports the damage in
        # many ways (found by hypothesis in test_fuzz_reader.py; OverflowError from h5f.open
        # on a superblock whose addresses are all ones).
        raise SynapseFileError(path, "the file", f"damaged HDF5 structure ({type(error).__name__}: {error})") from None


def _read(path, sealed, data):
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as error:
        raise SynapseFileError(path, "the file", f"not a readable HDF5 file ({error})") from None
    with f:
        if _text(f.attrs.get("format", "")) != FORMAT:
            raise SynapseFileError(path, "/ attribute format", f"expected {FORMAT!r}")
        version = int(f.attrs.get("format_version", -1))
        if not 1 <= version <= FORMAT_VERSION:
            raise SynapseFileError(path, "/ attribute format_version", f"{version} is not supported")
        if sealed != (version >= 2):
            raise SynapseFileError(path, "the file", f"damaged: format version {version} and "
                                   f"{'an' if sealed else 'no'} integrity record do not go together")
        if "weights" not in f:
            raise SynapseFileError(path, "/weights", "is missing")
        checkpoint = Checkpoint(
            weights={name: _float32(path, f["weights"][name]) for name in f["weights"]},
            epoch=int(f.attrs["epoch"]), step=int(f.attrs["step"]), format_version=version,
            library_version=_text(f.attrs.get("library_version", "unknown")),
            metadata={k: _text(v) for k, v in f["metadata"].attrs.items()} if "metadata" in f else {})
        if "optimizer" in f:
            group = f["optimizer"]
            checkpoint.optimizer_kind = _text(group.attrs["kind"])
            checkpoint.hyperparameters = {k: float(v) for k, v in group.attrs.items() if k != "kind"}
            checkpoint.optimizer_state = {
                name: {slot: _float32(path, group[name][slot]) for slot in group[name]} for name in group}
        if "random" in f:
            checkpoint.random_state = [int(x) for x in np.asarray(f["random"][()], dtype=np.uint64)]
        if version >= 3:
            if "state" in f:
                checkpoint.state = {name: {k: _text(v) for k, v in group.attrs.items()} for name, group in f["state"].items()}
        else:  # versions 1 and 2 kept the trainer's state among the metadata
            for key in list(checkpoint.metadata):
                place = LEGACY_STATE.get(key) or (("epoch", key[len("epoch_"):]) if key.startswith("epoch_") else None)
                if place:
                    checkpoint.state.setdefault(place[0], {})[place[1]] = checkpoint.metadata.pop(key)
        return checkpoint
