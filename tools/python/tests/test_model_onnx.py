"""Model files written by `synapse export` are ONNX to ONNX tools: onnx.checker accepts them,
onnxruntime runs them with weights read from the .h5 and agrees with `synapse predict`; h5py
reads the weights by name at the offsets the graph names. Foreign ONNX models built here
with onnx.helper import into Synapse and predict like onnxruntime."""
import hashlib
import json
import os

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

XOR_INPUT = [[0, 0], [0, 1], [1, 0], [1, 1]]


@pytest.fixture(scope="module")
def exported(synapse, tmp_path_factory):
    """xor, digits and char-lstm trained briefly, exported as pairs (and xor embedded)."""
    folder = tmp_path_factory.mktemp("models")
    synapse("train", "xor", "--epochs", "500", "--checkpoint", "xor.ckpt.h5", cwd=folder)
    synapse("export", "xor.ckpt.h5", "-o", "xor", cwd=folder)
    synapse("export", "xor.ckpt.h5", "-o", "xor_embedded", "--embed", cwd=folder)
    synapse("train", "digits", "--epochs", "1", "--checkpoint", "digits.ckpt.h5", cwd=folder)
    synapse("export", "digits.ckpt.h5", "-o", "digits", cwd=folder)
    synapse("train", "char-lstm", "--epochs", "0", "--checkpoint", "char.ckpt.h5", cwd=folder)
    synapse("export", "char.ckpt.h5", "-o", "char", cwd=folder)
    return folder


def predict(synapse, folder, model, *inputs):
    args = ["predict", model, "--json"]
    for value in inputs:
        args += ["--input", value]
    return {k: np.array(v, np.float32) for k, v in json.loads(synapse(*args, cwd=folder).stdout).items()}


@pytest.mark.parametrize("name", ["xor", "digits", "char", "xor_embedded"])
def test_checker_accepts(exported, name):
    onnx.checker.check_model(str(exported / f"{name}.onnx"))
    model = onnx.load(str(exported / f"{name}.onnx"), load_external_data=False)
    assert model.ir_version == 10
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 21)]


def test_xor_onnxruntime_matches_predict(synapse, exported):
    session = ort.InferenceSession(str(exported / "xor.onnx"))
    x = np.array(XOR_INPUT, np.float32)
    (ours,) = predict(synapse, exported, "xor.onnx", json.dumps(XOR_INPUT)).values()
    np.testing.assert_allclose(session.run(None, {"input": x})[0], ours, atol=1e-5)
    embedded = ort.InferenceSession(str(exported / "xor_embedded.onnx"))
    np.testing.assert_allclose(embedded.run(None, {"input": x})[0], ours, atol=1e-5)
    assert not os.path.exists(exported / "xor_embedded.h5")


def test_digits_onnxruntime_matches_predict(synapse, exported):
    rows = np.loadtxt(os.path.join(os.path.dirname(__file__), "..", "..", "..", "data", "digits", "test.csv"),
                      delimiter=",", dtype=np.float32)[:16, 1:] / 16
    np.save(exported / "rows.npy", rows)
    (ours,) = predict(synapse, exported, "digits.onnx", str(exported / "rows.npy")).values()
    theirs = ort.InferenceSession(str(exported / "digits.onnx")).run(None, {"input": rows})[0]
    np.testing.assert_allclose(theirs, ours, atol=1e-4)
    assert theirs.shape == (16, 10)


def test_lstm_step_onnxruntime_matches_predict(synapse, exported):
    rng = np.random.default_rng(0)
    h = rng.standard_normal((3, 128)).astype(np.float32) * 0.5
    c = rng.standard_normal((3, 128)).astype(np.float32) * 0.5
    x = np.array([3, 17, 40], np.float32)
    ours = predict(synapse, exported, "char.onnx", "x=" + json.dumps(x.tolist()),
                   "h=" + json.dumps(h.tolist()), "c=" + json.dumps(c.tolist()))
    session = ort.InferenceSession(str(exported / "char.onnx"))
    y, h2, c2 = session.run(["y", "h_out", "c_out"], {"x": x, "h": h, "c": c})
    np.testing.assert_allclose(y, ours["y"], atol=1e-4)
    np.testing.assert_allclose(h2, ours["h_out"], atol=1e-5)
    np.testing.assert_allclose(c2, ours["c_out"], atol=1e-5)


def test_weights_file_ties_and_offsets(exported):
    model = onnx.load(str(exported / "digits.onnx"), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    data = (exported / "digits.h5").read_bytes()
    assert meta["synapse.weights"] == "digits.h5"
    assert int(meta["synapse.weights_size"]) == len(data)
    assert meta["synapse.weights_sha256"] == hashlib.sha256(data).hexdigest()
    with h5py.File(exported / "digits.h5", "r") as f:
        for init in model.graph.initializer:
            ext = {e.key: e.value for e in init.external_data}
            offset, length = int(ext["offset"]), int(ext["length"])
            assert offset % 64 == 0
            assert f["weights"][init.name].id.get_offset() == offset
            raw = np.frombuffer(data[offset:offset + length], "<f4").reshape(tuple(init.dims))
            np.testing.assert_array_equal(raw, f["weights"][init.name][()])


def test_changed_weights_file_is_refused(synapse, exported, tmp_path):
    for name in ("xor.onnx", "xor.h5"):
        (tmp_path / name).write_bytes((exported / name).read_bytes())
    data = bytearray((tmp_path / "xor.h5").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "xor.h5").write_bytes(bytes(data))
    result = synapse.run_failing("predict", "xor.onnx", "--input", "[[0,1]]", cwd=tmp_path)
    assert result.returncode == 1
    assert "its weight file" in result.stderr and "SHA-256" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def foreign_mlp(tmp_path):
    rng = np.random.default_rng(1)
    w1, b1 = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    w2, b2 = rng.standard_normal((3, 5)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Gemm", ["r", "w2", "b2"], ["z"], transB=1), helper.make_node("Softmax", ["z"], ["y"], axis=1)],
        "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         # float_data instead of raw_data for the second layer, as some tools write it
         helper.make_tensor("w2", TensorProto.FLOAT, w2.shape, w2.flatten().tolist()),
         helper.make_tensor("b2", TensorProto.FLOAT, b2.shape, b2.tolist())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    save(model, tmp_path / "mlp.onnx")
    return "mlp.onnx", {"x": rng.standard_normal((6, 4)).astype(np.float32)}


def foreign_matmul_add(tmp_path):
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal((4, 2)).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])],
        "linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), tmp_path / "linear.onnx")
    return "linear.onnx", {"x": rng.standard_normal((5, 4)).astype(np.float32)}


def foreign_lstm_step(tmp_path):
    """An LSTM step as another tool might write it with elementwise ops: gates from one
    MatMul over [x, h], split with Slice."""
    rng = np.random.default_rng(3)
    n_in, n_h = 3, 4
    w = (rng.standard_normal((n_in + n_h, 4 * n_h)) * 0.5).astype(np.float32)
    b = rng.standard_normal(4 * n_h).astype(np.float32)
    nodes = [helper.make_node("Concat", ["x", "h"], ["xh"], axis=1),
             helper.make_node("MatMul", ["xh", "w"], ["mm"]), helper.make_node("Add", ["mm", "b"], ["g"])]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
             numpy_helper.from_array(np.array([1], np.int64), "axis1")]
    for k, (name, fn) in enumerate([("i", "Sigmoid"), ("f", "Sigmoid"), ("o", "Sigmoid"), ("u", "Tanh")]):
        inits += [numpy_helper.from_array(np.array([k * n_h], np.int64), f"s{k}"),
                  numpy_helper.from_array(np.array([(k + 1) * n_h], np.int64), f"e{k}")]
        nodes += [helper.make_node("Slice", ["g", f"s{k}", f"e{k}", "axis1"], [f"{name}_pre"]),
                  helper.make_node(fn, [f"{name}_pre"], [name])]
    nodes += [helper.make_node("Mul", ["f", "c"], ["fc"]), helper.make_node("Mul", ["i", "u"], ["iu"]),
              helper.make_node("Add", ["fc", "iu"], ["c_out"]), helper.make_node("Tanh", ["c_out"], ["tc"]),
              helper.make_node("Mul", ["o", "tc"], ["h_out"])]
    vi = lambda name, width: helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", width])
    graph = helper.make_graph(nodes, "lstm_step", [vi("x", n_in), vi("h", n_h), vi("c", n_h)],
                              [vi("h_out", n_h), vi("c_out", n_h)], inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), tmp_path / "lstm.onnx")
    return "lstm.onnx", {"x": rng.standard_normal((2, n_in)).astype(np.float32),
                         "h": rng.standard_normal((2, n_h)).astype(np.float32),
                         "c": rng.standard_normal((2, n_h)).astype(np.float32)}


@pytest.mark.parametrize("build", [foreign_mlp, foreign_matmul_add, foreign_lstm_step])
def test_foreign_model_imports_and_predicts_like_onnxruntime(synapse, tmp_path, build):
    name, feeds = build(tmp_path)
    expected = ort.InferenceSession(str(tmp_path / name)).run(None, feeds)
    args = [f"{k}={json.dumps(v.tolist())}" for k, v in feeds.items()]
    ours = predict(synapse, tmp_path, name, *args)
    for value, output in zip(expected, [o.name for o in onnx.load(str(tmp_path / name)).graph.output]):
        np.testing.assert_allclose(value, ours[output], atol=1e-5)
    # Rewritten as a Synapse pair, it still runs in onnxruntime and in Synapse.
    synapse("import", name, "-o", "imported", cwd=tmp_path)
    rewritten = ort.InferenceSession(str(tmp_path / "imported.onnx")).run(None, feeds)
    for a, b in zip(expected, rewritten):
        np.testing.assert_allclose(a, b, atol=1e-6)
    again = predict(synapse, tmp_path, "imported.onnx", *args)
    for value, output in zip(expected, ours):
        np.testing.assert_allclose(value, again[output], atol=1e-5)


def test_unsupported_op_is_a_clear_error(synapse, tmp_path):
    graph = helper.make_graph([helper.make_node("Multinomial", ["x"], ["y"], name="the_sampler")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), tmp_path / "sampler.onnx")
    result = synapse.run_failing("predict", "sampler.onnx", "--input", "[[1,2]]", cwd=tmp_path)
    assert result.returncode == 1
    assert 'node "the_sampler" (Multinomial): Synapse has no op for it' in result.stderr
