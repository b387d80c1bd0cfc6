"""Quantized models as onnxruntime's quantization tools write them: a CNN quantized statically
to QLinearConv/QLinearMatMul (QOperator format) and to QuantizeLinear/DequantizeLinear pairs
(QDQ), and an MLP quantized dynamically (DynamicQuantizeLinear + MatMulInteger). `synapse
predict` gives what onnxruntime gives, within one quantization step of the output (ONNX's
reference evaluator instead where onnxruntime's 8-bit products saturate: see exact_onnxruntime)."""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from torch_support import TORCH, export, nn

pytestmark = pytest.mark.skipif(TORCH is not None, reason=TORCH or "")
quantization = pytest.importorskip("onnxruntime.quantization")


class Batches(quantization.CalibrationDataReader if quantization else object):
    def __init__(self, shape):
        rng = np.random.default_rng(0)
        self.batches = iter([{"input": rng.standard_normal((2, *shape)).astype(np.float32)} for _ in range(4)])

    def get_next(self):
        return next(self.batches, None)


def cnn():
    # The head is a MatMul (a Linear on [N, 8, 25], no bias): onnxruntime quantizes a Gemm or an
    # Add to its own com.microsoft operators (QGemm, QLinearAdd), which are not ONNX's.
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, groups=2), nn.ReLU(),
                         nn.Flatten(start_dim=2), nn.Linear(25, 10, bias=False))


def exact_onnxruntime():
    """Whether onnxruntime's 8-bit products are exact here. On x86 CPUs without VNNI its u8s8
    kernels add pairs of products in saturating 16-bit lanes (vpmaddubsw), so results differ
    from ONNX's definition (measured on an AVX2 EPYC: an int32 accumulator of -31034 came out
    -23914; ONNX's reference evaluator and Synapse give -31034)."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return True
    return "avx2" not in flags or "vnni" in flags


def expected(model, x):
    """onnxruntime's outputs where its products are exact, else ONNX's reference evaluator's."""
    if exact_onnxruntime():
        return ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    from onnx.reference import ReferenceEvaluator
    graph = onnx.load(str(model))
    for opset in graph.opset_import:
        if opset.domain in ("", "ai.onnx"):
            # The evaluator implements (De)QuantizeLinear from opset 19; its semantics for these
            # models (int8/uint8, per tensor or per axis) are opset 13's.
            opset.version = max(opset.version, 19)
    return [np.asarray(value, np.float32) for value in ReferenceEvaluator(graph).run(None, {"input": x})]


def predict(synapse, folder, model, x):
    np.save(folder / "x.npy", x)
    return np.array(json.loads(synapse("predict", str(model), "--input", str(folder / "x.npy"), "--json", cwd=folder).stdout)["output"], np.float32)


@pytest.mark.parametrize("form", ["QOperator", "QDQ"])
def test_statically_quantized_cnn_agrees_with_onnxruntime(synapse, tmp_path, form):
    export(cnn().eval(), (3, 12, 12), tmp_path / "float.onnx", dynamo=False)
    quantization.quant_pre_process(str(tmp_path / "float.onnx"), str(tmp_path / "prepared.onnx"))
    quantization.quantize_static(str(tmp_path / "prepared.onnx"), str(tmp_path / "int8.onnx"), Batches((3, 12, 12)),
                                 quant_format=getattr(quantization.QuantFormat, form), per_channel=True)
    ops = {node.op_type for node in onnx.load(str(tmp_path / "int8.onnx")).graph.node}
    assert ({"QLinearConv", "QLinearMatMul"} if form == "QOperator" else {"QuantizeLinear", "DequantizeLinear"}) <= ops, ops
    x = np.random.default_rng(1).standard_normal((3, 3, 12, 12)).astype(np.float32)
    (theirs,) = expected(tmp_path / "int8.onnx", x)
    ours = predict(synapse, tmp_path, tmp_path / "int8.onnx", x)
    # onnxruntime requantizes in fixed point: a value may land one step away.
    step = np.min(np.abs(np.diff(np.unique(theirs)))) if theirs.size > 1 else 1.0
    assert np.max(np.abs(ours - theirs)) <= 1.01 * max(step, 1e-6) * 2, (np.max(np.abs(ours - theirs)), step)
    assert np.mean(np.isclose(ours, theirs, atol=1e-6)) > 0.9


def test_dynamically_quantized_mlp_agrees_with_onnxruntime(synapse, tmp_path):
    export(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).eval(), (16,), tmp_path / "float.onnx", dynamo=False)
    quantization.quantize_dynamic(str(tmp_path / "float.onnx"), str(tmp_path / "int8.onnx"))
    ops = {node.op_type for node in onnx.load(str(tmp_path / "int8.onnx")).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops, ops
    x = np.random.default_rng(2).standard_normal((5, 16)).astype(np.float32)
    (theirs,) = expected(tmp_path / "int8.onnx", x)
    np.testing.assert_allclose(predict(synapse, tmp_path, tmp_path / "int8.onnx", x), theirs, atol=1e-5, rtol=1e-5)
