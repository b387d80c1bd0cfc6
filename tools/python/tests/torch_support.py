"""What the tests that use PyTorch share: whether torch and onnxscript are installed (the venv
gets torch from a local CPU-only wheel when the machine has one; the dynamo exporter needs
onnxscript) and the one way they call `torch.onnx.export`."""
try:
    import torch
    from torch import nn  # noqa: F401  (re-exported for the tests)

    TORCH = None
except ImportError:
    torch = nn = None
    TORCH = "torch is not installed (no CPU-only wheel in /opt/wheels)"

try:
    import onnxscript  # noqa: F401

    ONNXSCRIPT = None
except ImportError:
    ONNXSCRIPT = "onnxscript is not installed"


def export(module, shape, path, dynamo):
    """Exports `module` on a random batch of 3 of `shape` with input "input", output "output"
    and a symbolic batch: the TorchScript exporter (`dynamo=False`, opset 17) or the dynamo
    exporter."""
    torch.manual_seed(0)
    example = torch.randn(3, *shape)
    kwargs = {"input_names": ["input"], "output_names": ["output"]}
    if dynamo:
        kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch", min=1, max=1024)},)
        torch.onnx.export(module, (example,), str(path), dynamo=True, **kwargs)
    else:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
        torch.onnx.export(module, (example,), str(path), dynamo=False, opset_version=17, **kwargs)
