"""Real architectures as people download them — torchvision and timm image models, Hugging Face
BERT, DistilBERT, GPT-2, T5 encoder and Llama from small configs (random weights, no
download) — exported with both of PyTorch's exporters, imported by `synapse predict`, and
compared with onnxruntime at two batch sizes (and, for text, two sequence lengths).

Run: make zoo (every model at 224×224), or
     python3 tools/zoo/zoo.py --synapse .build/release/synapse [--size 224] [--only resnet18,bert]
Prints one line per model and exporter: imports, agrees (largest difference), or the error;
then fine-tunes it three Adam steps on its example inputs (the loss must fall) (`synapse fine-tune`) and checks that
onnxruntime runs the result and agrees with `synapse predict` on it.
The pytest suite (tools/python/tests/test_zoo.py) runs a quick subset at small sizes."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

VISION = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_0", "efficientnet_b0", "densenet121",
          "convnext_tiny", "regnet_y_400mf", "shufflenet_v2_x0_5", "vit_tiny", "swin_tiny"]
TEXT = ["bert", "distilbert", "gpt2", "t5_encoder", "llama"]
MODELS = VISION + TEXT


def import_torchvision():
    """torchvision's PyPI wheel for torch 2.13 is a CUDA build whose C++ ops do not load beside
    the CPU torch, and its Python side then fails registering fake kernels for them: define
    those ops' schemas first (harmless where they exist), then import."""
    import torch
    if not hasattr(import_torchvision, "library"):
        import_torchvision.library = torch.library.Library("torchvision", "FRAGMENT")  # must stay alive
        for op in ("nms", "qnms"):
            try:
                import_torchvision.library.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            except RuntimeError:
                pass  # defined by a torchvision whose C++ ops did load
    import torchvision
    return torchvision


def build(name, size):
    """(module in eval mode, {input name: example array}, {input name: dynamic axes})."""
    import torch
    torch.manual_seed(0)
    if name in VISION:
        if name == "vit_tiny":
            import timm
            module = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=10, img_size=size)
        elif name == "swin_tiny":
            import timm
            window = 7 if size % 224 == 0 else 4
            module = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, num_classes=10, img_size=size, window_size=window)
        else:
            torchvision = import_torchvision()
            module = getattr(torchvision.models, name)(weights=None, num_classes=10)
        # Random statistics and affine factors in every normalization layer, so that eval-mode
        # BatchNorm is not the identity and the outputs are not vanishingly small.
        with torch.no_grad():
            for layer in module.modules():
                if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
                    layer.running_mean.uniform_(-0.5, 0.5)
                    layer.running_var.uniform_(0.5, 1.5)
                    layer.weight.uniform_(0.5, 1.5)
        x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
        return module.eval(), {"input": x}, {"input": {0: "batch"}}
    import_torchvision()  # transformers imports it
    import transformers as hf
    vocab, length = 100, 8
    small = dict(vocab_size=vocab)
    if name == "bert":
        module = hf.BertForSequenceClassification(hf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=3, **small))
    elif name == "distilbert":
        module = hf.DistilBertForSequenceClassification(hf.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, num_labels=3, **small))
    elif name == "gpt2":
        module = hf.GPT2LMHeadModel(hf.GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=64, **small))
    elif name == "t5_encoder":
        module = hf.T5EncoderModel(hf.T5Config(d_model=32, d_ff=64, d_kv=16, num_layers=2, num_heads=2, **small))
    elif name == "llama":
        module = hf.LlamaForCausalLM(hf.LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64, **small))
    else:
        raise ValueError(name)
    module.config.use_cache = False
    rng = np.random.default_rng(0)
    ids = rng.integers(0, vocab, (2, length)).astype(np.int64)
    mask = np.ones((2, length), np.int64)
    mask[1, -3:] = 0  # a padded row
    axes = {0: "batch", 1: "sequence"}
    return module.eval(), {"input_ids": ids, "attention_mask": mask}, {"input_ids": axes, "attention_mask": axes}


class Wrapped:
    """A module called with keyword inputs, returning its first output (the logits)."""

    def __new__(cls, module, names):
        import torch

        class Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = module

            def forward(self, *args):
                out = self.inner(*args) if names == ["input"] else self.inner(**dict(zip(names, args)))
                if hasattr(out, "to_tuple"):
                    out = out.to_tuple()
                return out[0] if isinstance(out, (tuple, list)) else out

        return Module().eval()


def export(name, size, path, dynamo):
    """Exports model `name` to `path`; returns the example inputs."""
    import torch
    module, inputs, axes = build(name, size)
    names = list(inputs)
    wrapped = Wrapped(module, names)
    args = tuple(torch.from_numpy(v) for v in inputs.values())
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if dynamo:
            dims = {axis: torch.export.Dim.AUTO for axis in range(2)}
            shapes = tuple({a: dims[a] for a in axes[n]} for n in names)
            torch.onnx.export(wrapped, args, str(path), dynamo=True, input_names=names, output_names=["output"], dynamic_shapes=(shapes,))  # forward(*args): one tuple
        else:
            torch.onnx.export(wrapped, args, str(path), dynamo=False, opset_version=17, input_names=names, output_names=["output"],
                              dynamic_axes={**axes, "output": {0: "batch"}})
    return inputs


def variants(inputs):
    """The inputs at two batch sizes (1 and 3) and, for token ids, two sequence lengths."""
    rng = np.random.default_rng(1)
    result = []
    for batch in (1, 3):
        lengths = (8, 12) if "input_ids" in inputs else (None,)
        for length in lengths:
            feed = {}
            for key, value in inputs.items():
                shape = (batch,) + value.shape[1:] if length is None else (batch, length)
                if key == "input_ids":
                    feed[key] = rng.integers(0, 100, shape).astype(np.int64)
                elif key == "attention_mask":
                    feed[key] = np.ones(shape, np.int64)
                    feed[key][-1, -2:] = 0
                else:
                    feed[key] = rng.standard_normal(shape).astype(np.float32)
            result.append(feed)
    return result


def check(synapse, path, inputs, folder, tolerance=1e-4):
    """(ok, message): synapse predict against onnxruntime on every variant of `inputs`."""
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    largest = 0.0
    for index, feed in enumerate(variants(inputs)):
        args = [synapse, "predict", str(path), "--json"]
        for key, value in feed.items():
            file = os.path.join(folder, f"{key}_{index}.npy")
            np.save(file, value)
            args += ["--input", f"{key}={file}"]
        result = subprocess.run(args, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            return False, (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1][:300]
        ours = np.array(json.loads(result.stdout)["output"], np.float32)
        (theirs,) = session.run(["output"], feed)
        if ours.shape != theirs.shape:
            return False, f"shape {list(ours.shape)}, onnxruntime {list(theirs.shape)}"
        difference = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
        scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
        if not scale > 0:
            return False, "onnxruntime's output is all zeros: the comparison would prove nothing"
        largest = max(largest, difference / scale)
    return largest <= tolerance, f"largest difference {largest:.2g} of the output's largest magnitude"


def fine_tune(synapse, path, inputs, folder, epochs=3):
    """(ok, message): `synapse fine-tune` on the example inputs, one Adam step (lr 1e-4) an
    epoch — cross-entropy on [N, classes] logits, mean squared error towards random targets
    otherwise (a language model's [N, L, vocab] logits, an encoder's hidden states) — the loss
    falling, then onnxruntime runs the file written, agreeing with `synapse predict` on it and
    differing from the model before."""
    import onnxruntime as ort
    (before,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["output"], inputs)
    rng = np.random.default_rng(7)
    args = [synapse, "fine-tune", str(path), "--graph-output", "output", "--optimizer", "adam", "--learning-rate", "0.0001",
            "--epochs", str(epochs), "-o", os.path.join(folder, "tuned")]
    for key, value in inputs.items():
        file = os.path.join(folder, f"tune_{key}.npy")
        np.save(file, value)
        args += ["--input", f"{key}={file}"]
    if before.ndim == 2:
        targets, loss = rng.integers(0, before.shape[1], before.shape[0]).astype(np.float32), "cross-entropy"
    else:
        targets, loss = rng.standard_normal(before.shape).astype(np.float32), "mse"
    np.save(os.path.join(folder, "tune_targets.npy"), targets)
    args += ["--targets", os.path.join(folder, "tune_targets.npy"), "--loss", loss]
    result = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        return False, (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1][:300]
    losses = [float(line.split()[-1]) for line in result.stdout.splitlines() if line.startswith("Epoch")]
    tuned = os.path.join(folder, "tuned.onnx")
    (theirs,) = ort.InferenceSession(tuned, providers=["CPUExecutionProvider"]).run(["output"], inputs)
    predict = [synapse, "predict", tuned, "--json"] + [a for key in inputs for a in ("--input", f"{key}={os.path.join(folder, f'tune_{key}.npy')}")]
    ours = np.array(json.loads(subprocess.run(predict, capture_output=True, text=True, timeout=600, check=True).stdout)["output"], np.float32)
    scale = float(np.max(np.abs(theirs))) or 1.0
    if np.max(np.abs(ours - theirs)) / scale > 1e-4:
        return False, f"onnxruntime and synapse disagree on the fine-tuned model ({np.max(np.abs(ours - theirs)) / scale:.2g})"
    if np.allclose(before, theirs):
        return False, "fine-tuning changed nothing"
    if len(losses) != epochs or not all(np.isfinite(losses)) or not losses[-1] < losses[0]:
        return False, f"the loss did not fall: {losses}"
    return True, f"{loss} {losses[0]:.4g} -> {losses[-1]:.4g}, onnxruntime runs the result"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synapse", default=os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release", "synapse"))
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--only", default="", help="comma-separated model names")
    parser.add_argument("--no-fine-tune", action="store_true", help="only import and compare")
    options = parser.parse_args()
    names = [n for n in MODELS if not options.only or n in options.only.split(",")]
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            for dynamo in (False, True):
                exporter = "dynamo" if dynamo else "legacy"
                path = os.path.join(scratch, f"{name}-{exporter}.onnx")
                try:
                    inputs = export(name, options.size, path, dynamo)
                except Exception as error:  # noqa: BLE001 - an exporter failure is reported, not fatal
                    print(f"zoo model={name} exporter={exporter} result=export-failed reason={type(error).__name__}: {str(error)[:120]}")
                    continue
                ok, message = check(options.synapse, path, inputs, scratch)
                failures += not ok
                line = f"zoo model={name} exporter={exporter} result={'agrees' if ok else 'fails'} {message}"
                if ok and not options.no_fine_tune:
                    tuned, report = fine_tune(options.synapse, path, inputs, scratch)
                    failures += not tuned
                    line += f" fine_tune={'ok' if tuned else 'fails'} {report}"
                print(line, flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
