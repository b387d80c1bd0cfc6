"""Real architectures, as people export them (tools/zoo/zoo.py): torchvision ResNet-18,
MobileNet v2/v3, SqueezeNet, EfficientNet-B0, DenseNet-121, ConvNeXt-tiny, RegNet-Y, ShuffleNet
v2, timm ViT and Swin, Hugging Face BERT, DistilBERT, GPT-2, T5 encoder and Llama (small
configs, random weights, 64×64 images) — each through both exporters, imported and run by
`synapse predict` at batch 1 and 3 (and sequence lengths 8 and 12) and compared with
onnxruntime; and an imported BERT classifier fine-tuned on token ids and an attention mask,
whose result onnxruntime runs. `make zoo` runs the same models at 224×224."""
import json
import os
import sys

import numpy as np
import pytest

from torch_support import ONNXSCRIPT, TORCH

pytestmark = pytest.mark.skipif(TORCH is not None, reason=TORCH or "")
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "zoo"))
import zoo  # noqa: E402

if TORCH is None:
    try:
        zoo.import_torchvision()
    except ImportError:
        pytest.skip("torchvision is not installed", allow_module_level=True)
pytest.importorskip("timm")
pytest.importorskip("transformers")


@pytest.mark.parametrize("dynamo", [False, True], ids=["legacy", "dynamo"])
@pytest.mark.parametrize("name", zoo.MODELS)
def test_real_architecture_agrees_with_onnxruntime(synapse, tmp_path, name, dynamo):
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)
    path = tmp_path / f"{name}.onnx"
    inputs = zoo.export(name, 64, path, dynamo)
    binary = os.environ.get("SYNAPSE_BIN") or os.path.join(ROOT, ".build", "debug", "synapse")
    ok, message = zoo.check(binary, path, inputs, str(tmp_path))
    assert ok, f"{name} ({'dynamo' if dynamo else 'legacy'}): {message}"


def test_imported_bert_classifier_fine_tunes_on_ids_and_mask(synapse, tmp_path):
    import onnxruntime as ort
    zoo.export("bert", 64, tmp_path / "bert.onnx", dynamo=False)
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 100, (12, 8)).astype(np.int64)
    mask = np.ones((12, 8), np.int64)
    mask[::3, -2:] = 0
    labels = (ids[:, 0] % 3).astype(np.float32)
    for name, value in (("ids", ids), ("mask", mask), ("y", labels)):
        np.save(tmp_path / f"{name}.npy", value)
    # An input left out is an error naming it; the graph output must exist.
    missing = synapse.run_failing("fine-tune", "bert.onnx", "--input", "input_ids=ids.npy", "--targets", "y.npy", "-o", "t", cwd=tmp_path)
    assert missing.returncode == 1 and "no --input attention_mask=" in missing.stderr
    wrong = synapse.run_failing("fine-tune", "bert.onnx", "--input", "input_ids=ids.npy", "--input", "attention_mask=mask.npy",
                                "--targets", "y.npy", "--graph-output", "logits", "-o", "t", cwd=tmp_path)
    assert wrong.returncode == 1 and "has no output logits" in wrong.stderr
    out = synapse("fine-tune", "bert.onnx", "--input", "input_ids=ids.npy", "--input", "attention_mask=mask.npy", "--targets", "y.npy",
                  "--graph-output", "output", "--optimizer", "adam", "--learning-rate", "0.01", "--epochs", "4", "--batch-size", "6",
                  "-o", "tuned", cwd=tmp_path).stdout
    losses = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("Epoch")]
    assert len(losses) == 4 and losses[-1] < losses[0], out
    session = ort.InferenceSession(str(tmp_path / "tuned.onnx"))
    (theirs,) = session.run(["output"], {"input_ids": ids, "attention_mask": mask})
    ours = json.loads(synapse("predict", "tuned.onnx", "--input", "input_ids=ids.npy", "--input", "attention_mask=mask.npy", "--json", cwd=tmp_path).stdout)
    np.testing.assert_allclose(np.array(ours["output"], np.float32), theirs, atol=1e-4)
    before = ort.InferenceSession(str(tmp_path / "bert.onnx")).run(["output"], {"input_ids": ids, "attention_mask": mask})[0]
    assert not np.allclose(before, theirs), "fine-tuning changed nothing"


@pytest.mark.parametrize("name,dynamo", [("mobilenet_v3_small", True), ("gpt2", True), ("t5_encoder", False)],
                         ids=["mobilenet_v3_small-dynamo", "gpt2-dynamo", "t5_encoder-legacy"])
def test_imported_architecture_fine_tunes_and_onnxruntime_runs_the_result(synapse, tmp_path, name, dynamo):
    if dynamo and ONNXSCRIPT:
        pytest.skip(ONNXSCRIPT)
    path = tmp_path / f"{name}.onnx"
    inputs = zoo.export(name, 32, path, dynamo)
    binary = os.environ.get("SYNAPSE_BIN") or os.path.join(ROOT, ".build", "debug", "synapse")
    ok, message = zoo.fine_tune(binary, path, inputs, str(tmp_path))
    assert ok, f"{name}: {message}"


def test_dynamo_exports_keep_their_lifted_constants(synapse, tmp_path):
    """The dynamo exporter lifts the code's constants (GELU's 0.044715, a Pow's exponent 3, a
    mask's fill value) into scalar initializers beside the weights: fine-tuning keeps those
    (the exponent of x³ would get log of a negative base, NaN) and trains every weight, the
    ones torch.export marks as parameters and the ones it folded (transposed) alike."""
    import onnx
    from onnx import numpy_helper
    zoo.export("gpt2", 32, tmp_path / "gpt2.onnx", dynamo=True)
    model = onnx.load(str(tmp_path / "gpt2.onnx"))
    kinds = {info.name: {p.key: p.value for p in info.metadata_props}.get("pkg.torch.export.graph_signature.InputSpec.kind")
             for info in model.graph.value_info}
    floats = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    lifted = [n for n, v in floats.items() if kinds.get(n) == "BUFFER" or (kinds.get(n) is None and v.size <= 1)]
    assert any(v.size == 1 and float(v) == 3.0 for n, v in floats.items() if n in lifted), "no lifted exponent: the test proves nothing"
    assert any(v.size > 1 and kinds.get(n) is None for n, v in floats.items()), "no unmarked weight: the test proves nothing"
    ids = np.random.default_rng(0).integers(0, 100, (2, 8)).astype(np.int64)
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "mask.npy", np.ones((2, 8), np.int64))
    np.save(tmp_path / "y.npy", np.zeros((2, 8, 100), np.float32))
    out = synapse("fine-tune", "gpt2.onnx", "--input", "input_ids=ids.npy", "--input", "attention_mask=mask.npy", "--targets", "y.npy",
                  "--loss", "mse", "--epochs", "2", "-o", "tuned", cwd=tmp_path).stdout
    assert f"{len(floats) - len(lifted)} trained tensors, {len(lifted)} buffers" in out, out
