"""Model files (``NAME.onnx`` + ``NAME.h5``): see formats/FORMAT.md, "Model file"."""
import copy
import hashlib
import io
import os

import h5py
import numpy as np
import onnx
from onnx import numpy_helper

from .checkpoint import load_checkpoint_bytes
from .errors import SynapseFileError
from .integrity import identity, read_once, seal, verify_bytes

MODEL_FORMAT = "synapse-model"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _external(init):
    return {e.key: e.value for e in init.external_data}


def load_model(path):
    """The model at ``path`` as an onnx.ModelProto whose initializers carry their data
    (raw_data), read from the .h5 at the offsets the graph names, after checking that the
    .h5 is the one the graph was written with and that every offset lies inside it."""
    try:
        return _load_model(os.fspath(path))
    except SynapseFileError:
        raise
    except (OSError, ValueError, TypeError, OverflowError) as error:
        # Numbers and names from the file that do not parse (found by hypothesis in
        # test_fuzz_reader.py): a malformed model, said as such.
        raise SynapseFileError(path, "the file", f"malformed model ({type(error).__name__}: {error})") from None


def _load_model(path):
    """Each file is read once, whole, through one descriptor; a pair replaced while it is read
    (its .onnx renamed over ``path`` between the two reads) is read again."""
    for attempt in range(5):
        data, read_identity = read_once(path, limit=1 << 31)
        try:
            return _load_model_bytes(path, data)
        except _MismatchedPair as mismatch:
            if attempt == 4 or identity(path) == read_identity:
                raise SynapseFileError(path, mismatch.place, mismatch.problem) from None


class _MismatchedPair(Exception):
    def __init__(self, place, problem):
        super().__init__(problem)
        self.place, self.problem = place, problem


def _pending_path(weights_path, sha256):
    """Where an export's new weights wait until its .onnx is in place (formats/FORMAT.md,
    "Replacing a pair"): ``.NAME.h5.pending-`` and 16 hex digits of their SHA-256."""
    folder, name = os.path.split(weights_path)
    return os.path.join(folder, f".{name}.pending-{sha256[:16]}")


def _load_model_bytes(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        model = onnx.load_model_from_string(data)
    except Exception as error:  # onnx raises DecodeError and others
        raise SynapseFileError(path, "the file", f"not an ONNX model ({error})") from None
    meta = {p.key: p.value for p in model.metadata_props}
    weights = meta.get("synapse.weights")
    files = {}
    if weights is not None:
        weights_path = os.path.join(folder, weights)
        expected_size, expected_sha = int(meta.get("synapse.weights_size", -1)), meta.get("synapse.weights_sha256")

        def problem(blob):
            if expected_size != len(blob):
                return "metadata synapse.weights_size", f"{weights} changed size since export"
            if expected_sha != hashlib.sha256(blob).hexdigest():
                return "metadata synapse.weights_sha256", f"{weights} changed since export"
            return None

        found = read_once(weights_path)[0] if os.path.lexists(weights_path) else None
        issue = ("metadata synapse.weights", f"{weights} is missing") if found is None else problem(found)
        if issue is not None and expected_sha:
            # An export between its commit (.onnx) and its last rename (pending -> .h5): the
            # weights are pending, or were renamed into place just now.
            for candidate_path in (_pending_path(weights_path, expected_sha), weights_path):
                try:
                    candidate = read_once(candidate_path)[0]
                except SynapseFileError:
                    continue
                if problem(candidate) is None:
                    found, issue = candidate, None
                    break
        if issue is not None:
            raise _MismatchedPair(*issue)
        files[weights] = found
    for init in model.graph.initializer:
        if init.data_location != onnx.TensorProto.EXTERNAL:
            continue
        ext = _external(init)
        location = ext.get("location", "")
        if not location or os.path.isabs(location) or ".." in location.split("/"):
            raise SynapseFileError(path, f"initializer {init.name}", f"location {location!r} is not inside the folder")
        if location not in files:
            files[location] = read_once(os.path.join(folder, location))[0]
        source = files[location]
        offset, length = int(ext.get("offset", 0)), int(ext.get("length", -1))
        count = int(np.prod(init.dims, dtype=np.int64))
        if init.data_type != onnx.TensorProto.FLOAT or length != 4 * count:
            raise SynapseFileError(path, f"initializer {init.name}", "expected float32 data of its shape")
        if offset < 0 or offset + length > len(source):
            raise SynapseFileError(path, f"initializer {init.name}", f"offset {offset} + {length} is beyond {location}")
        init.raw_data = source[offset:offset + length]
        del init.external_data[:]
        init.data_location = onnx.TensorProto.DEFAULT
    return model


def to_onnx(path, out):
    """Writes the model at ``path`` as one self-contained ONNX file ``out``."""
    model = load_model(path)
    for key in ("synapse.weights", "synapse.weights_size", "synapse.weights_sha256"):
        for i in reversed(range(len(model.metadata_props))):
            if model.metadata_props[i].key == key:
                del model.metadata_props[i]
    onnx.save(model, os.fspath(out))


def _arrays(path):
    """Weights by name from a checkpoint, a model weight file, or a model's .onnx."""
    path = os.fspath(path)
    if path.endswith(".onnx"):
        return {i.name: numpy_helper.to_array(i) for i in load_model(path).graph.initializer
                if i.data_type == onnx.TensorProto.FLOAT}
    data = read_once(path)[0]
    verify_bytes(path, data)
    with h5py.File(io.BytesIO(data), "r") as f:
        kind = f.attrs.get("format", b"")
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == MODEL_FORMAT:
            return {name: f["weights"][name][()].astype("<f4") for name in f["weights"]}
    return load_checkpoint_bytes(path, data).weights


def to_state_dict(path):
    """torch tensors keyed by the parameter and buffer names (PyTorch's names and layouts),
    from a checkpoint, a model's .h5 or its .onnx: ``module.load_state_dict(to_state_dict(p))``.
    Synapse stores every tensor as float32; BatchNorm's ``num_batches_tracked`` becomes the
    int64 scalar PyTorch keeps."""
    import torch

    def tensor(name, array):
        if name == "num_batches_tracked" or name.endswith(".num_batches_tracked"):
            return torch.tensor(int(np.asarray(array).reshape(-1)[0]), dtype=torch.int64)
        return torch.from_numpy(np.array(array, dtype="<f4", copy=True))
    return {name: tensor(name, array) for name, array in _arrays(path).items()}


def from_state_dict(state_dict, out, template):
    """Writes ``out``.onnx + ``out``.h5: the graph of the Synapse model ``template`` (an
    .onnx of the same architecture) with the weights of ``state_dict`` (torch tensors or
    numpy arrays, by name). Every name and shape must match the template's."""
    base = os.fspath(out)
    for suffix in (".onnx", ".h5"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    model = onnx.load(os.fspath(template), load_external_data=False)
    arrays = {k: np.ascontiguousarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v, dtype="<f4")
              for k, v in state_dict.items()}
    names = {i.name: tuple(i.dims) for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    if set(names) != set(arrays):
        raise SynapseFileError(template, "initializers", f"names {sorted(names)} differ from the state dict's {sorted(arrays)}")
    for name, shape in names.items():
        if arrays[name].shape != shape:
            raise SynapseFileError(template, f"initializer {name}", f"has shape {list(shape)}, the state dict {list(arrays[name].shape)}")
    weights_path = base + ".h5"
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_alignment(1, 64)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_userblock(512)  # for the integrity record, filled in once the file is closed
    fid = h5py.h5f.create(weights_path.encode(), h5py.h5f.ACC_TRUNC, fapl=fapl, fcpl=fcpl)
    with h5py.File(fid) as f:
        f.attrs["format"] = MODEL_FORMAT
        f.attrs["format_version"] = np.int64(1)
        f.attrs["library_version"] = "synapse_io"
        group = f.create_group("weights")
        for name in names:
            group.create_dataset(name, data=arrays[name], dtype="<f4")
        f.flush()
        offsets = {name: group[name].id.get_offset() for name in names}
    seal(weights_path)
    location = os.path.basename(weights_path)
    for init in model.graph.initializer:
        if init.name in names:
            del init.external_data[:]
            init.ClearField("raw_data")
            del init.float_data[:]
            init.data_location = onnx.TensorProto.EXTERNAL
            count = arrays[init.name].size
            for key, value in (("location", location), ("offset", str(offsets[init.name])), ("length", str(4 * count))):
                entry = init.external_data.add()
                entry.key, entry.value = key, value
    meta = {p.key: p for p in model.metadata_props}
    values = {"synapse.format": MODEL_FORMAT, "synapse.format_version": "1", "synapse.weights": location,
              "synapse.weights_size": str(os.path.getsize(weights_path)), "synapse.weights_sha256": _sha256(weights_path)}
    for key, value in values.items():
        entry = meta.get(key) or model.metadata_props.add()
        entry.key, entry.value = key, value
    with open(base + ".onnx", "wb") as f:
        f.write(model.SerializeToString())
