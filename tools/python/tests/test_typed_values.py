"""Values in their own element types: int64 token ids, bool masks and every numeric .npy dtype
go into `synapse predict` as the graph declares them, integer and bool outputs come out as
such, and the results agree with onnxruntime's."""
import json
import os

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper


def run_synapse(synapse, folder, model, inputs):
    args = ["predict", model, "--json"]
    for name, array in inputs.items():
        np.save(folder / f"{name}.npy", array)
        args += ["--input", f"{name}={folder / (name + '.npy')}"]
    return json.loads(synapse(*args, cwd=folder).stdout)


def test_token_ids_and_a_mask(synapse, tmp_path):
    table = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["x"], axis=0),
         helper.make_node("Cast", ["mask"], ["m"], to=TensorProto.FLOAT),
         helper.make_node("Unsqueeze", ["m", "last"], ["m3"]),
         helper.make_node("Mul", ["x", "m3"], ["y"]),
         helper.make_node("Equal", ["ids", "zero"], ["is_pad"]),
         helper.make_node("Cast", ["ids"], ["ids32"], to=TensorProto.INT32)],
        "typed",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 3]),
         helper.make_tensor_value_info("mask", TensorProto.BOOL, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 4]),
         helper.make_tensor_value_info("is_pad", TensorProto.BOOL, ["batch", 3]),
         helper.make_tensor_value_info("ids32", TensorProto.INT32, ["batch", 3])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.array([-1], np.int64), "last"),
         numpy_helper.from_array(np.array(0, np.int64), "zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, tmp_path / "typed.onnx")
    ids = np.array([[3, 0, 7], [9, 9, 0]], np.int64)
    mask = np.array([[True, False, True], [True, True, False]])
    expected = dict(zip(["y", "is_pad", "ids32"], onnxruntime.InferenceSession(str(tmp_path / "typed.onnx")).run(None, {"ids": ids, "mask": mask})))
    got = run_synapse(synapse, tmp_path, "typed.onnx", {"ids": ids, "mask": mask})
    assert np.allclose(np.array(got["y"], np.float32), expected["y"], atol=1e-6)
    assert got["is_pad"] == expected["is_pad"].tolist(), "bool outputs print as true/false"
    assert got["ids32"] == expected["ids32"].tolist(), "integer outputs print as integers"


@pytest.mark.parametrize("dtype,onnx_type", [
    (np.int64, TensorProto.INT64), (np.int32, TensorProto.INT32), (np.int16, TensorProto.INT16), (np.int8, TensorProto.INT8),
    (np.uint8, TensorProto.UINT8), (np.bool_, TensorProto.BOOL), (np.float16, TensorProto.FLOAT16), (np.float64, TensorProto.DOUBLE)])
def test_every_npy_dtype(synapse, tmp_path, dtype, onnx_type):
    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)], "cast",
        [helper.make_tensor_value_info("x", onnx_type, ["batch", 4])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "cast.onnx")
    values = np.array([[0, 1, 5, 100], [7, 0, 1, 3]]).astype(dtype) if dtype != np.bool_ else np.array([[True, False, True, True], [False] * 4])
    if dtype in (np.int8, np.int16, np.int32, np.int64, np.float16, np.float64):
        values[1, 0] = -7
    got = run_synapse(synapse, tmp_path, "cast.onnx", {"x": values})
    assert np.array_equal(np.array(got["y"], np.float32), values.astype(np.float32)), (got, values)


def test_cast_between_integer_types_wraps_as_onnx(synapse, tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT8), helper.make_node("Cast", ["x"], ["b"], to=TensorProto.BOOL)],
        "wrap", [helper.make_tensor_value_info("x", TensorProto.INT64, [4])],
        [helper.make_tensor_value_info("y", TensorProto.INT8, [4]), helper.make_tensor_value_info("b", TensorProto.BOOL, [4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "wrap.onnx")
    x = np.array([300, -129, 5, 0], np.int64)
    expected = onnxruntime.InferenceSession(str(tmp_path / "wrap.onnx")).run(None, {"x": x})
    got = run_synapse(synapse, tmp_path, "wrap.onnx", {"x": x})
    assert got["y"] == expected[0].tolist() == [44, 127, 5, 0]
    assert got["b"] == expected[1].tolist()


def test_empty_outputs_keep_their_shape(synapse, tmp_path):
    """Nested arrays cannot say [0, 3]: an empty output prints its shape and dtype."""
    graph = helper.make_graph(
        [helper.make_node("Compress", ["x", "keep"], ["rows"], axis=0), helper.make_node("NonZero", ["keep"], ["where"])],
        "empty", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]), helper.make_tensor_value_info("keep", TensorProto.BOOL, [2])],
        [helper.make_tensor_value_info("rows", TensorProto.FLOAT, [None, 3]), helper.make_tensor_value_info("where", TensorProto.INT64, [1, None])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "empty.onnx")
    feeds = {"x": np.ones((2, 3), np.float32), "keep": np.zeros(2, bool)}
    expected = onnxruntime.InferenceSession(str(tmp_path / "empty.onnx")).run(None, feeds)
    got = run_synapse(synapse, tmp_path, "empty.onnx", feeds)
    assert got["rows"] == {"shape": list(expected[0].shape), "dtype": "float32", "values": []} and expected[0].shape == (0, 3)
    assert got["where"] == {"shape": [1, 0], "dtype": "int64", "values": []} and expected[1].shape == (1, 0)


@pytest.mark.parametrize("storage_order", [0, 1])
def test_maxpool_indices_feed_maxunpool(synapse, tmp_path, storage_order):
    """SegNet's decoder as ONNX writes it (torch 2.13 cannot export MaxUnpool2d): MaxPool's
    int64 Indices output, then MaxUnpool putting the pooled values back where they were."""
    nodes = [helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 0],
                              storage_order=storage_order)]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None), helper.make_tensor_value_info("i", TensorProto.INT64, None)]
    if storage_order == 0:
        nodes.append(helper.make_node("MaxUnpool", ["y", "i", "shape"], ["u"], kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 0]))
        outputs.append(helper.make_tensor_value_info("u", TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, "unpool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 7, 6])], outputs,
                              [numpy_helper.from_array(np.array([2, 3, 7, 6], np.int64), "shape")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "unpool.onnx")
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 6)).astype(np.float32)
    expected = onnxruntime.InferenceSession(str(tmp_path / "unpool.onnx")).run(None, {"x": x})
    got = run_synapse(synapse, tmp_path, "unpool.onnx", {"x": x})
    np.testing.assert_allclose(np.array(got["y"], np.float32), expected[0], atol=1e-6)
    assert np.array_equal(np.array(got["i"]), expected[1])
    if storage_order == 0:
        np.testing.assert_allclose(np.array(got["u"], np.float32), expected[2], atol=1e-6)
