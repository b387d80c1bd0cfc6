"""Read and write Synapse's files from Python, without Synapse.

- ``load_checkpoint(path)``: a checkpoint's weights, optimizer state, counters and metadata.
- ``load_model(path)``: a model file (``NAME.onnx`` + ``NAME.h5``) as an ``onnx.ModelProto``
  with every weight resolved from the ``.h5`` (checked against the pair's size and SHA-256).
- ``to_onnx(path, out)``: one self-contained ``.onnx``.
- ``to_state_dict(path)``: torch tensors by parameter name, for ``load_state_dict``.
- ``from_state_dict(state_dict, out, template)``: a Synapse model pair with PyTorch's weights.

The formats are described in formats/FORMAT.md of the Synapse repository.
"""
from .checkpoint import Checkpoint, load_checkpoint
from .errors import SynapseFileError
from .model import from_state_dict, load_model, to_onnx, to_state_dict

__all__ = ["Checkpoint", "SynapseFileError", "from_state_dict", "load_checkpoint", "load_model", "to_onnx",
           "to_state_dict"]
