"""One-node ONNX graphs of the operators real models need (Pad, Resize, Einsum, TopK,
GatherND, ScatterND, OneHot, CumSum, ConvTranspose, Attention, Split, Trilu, GridSample, DFT,
STFT, Col2Im, MaxUnpool, Unique, NonMaxSuppression, TensorScatter, Det, 3-D Conv), their constant
inputs as initializers, written into the graph fuzzer's corpus (tools/fuzz/corpus/fuzz-onnx-graph)
so that mutation starts from every attribute and index those importers read.
Run by tools/fuzz/make_corpus.py (make fuzz-corpus), or alone: python3 tools/fuzz/operator_seeds.py"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def graph(name, op, inputs, constants, attributes=None, opset=21, outputs=1, input_type=TensorProto.FLOAT):
    """A model with graph input "x" of `inputs` shape and one `op` node reading x then the constants."""
    initializers = [numpy_helper.from_array(value, name=key) for key, value in constants.items()]
    node = helper.make_node(op, ["x"] + list(constants), [f"y{i}" for i in range(outputs)], **(attributes or {}))
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("x", input_type, inputs)],
                          [helper.make_tensor_value_info(f"y{i}", TensorProto.UNDEFINED, None) for i in range(outputs)], initializers)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def seeds():
    i64 = lambda *v: np.array(v, np.int64)  # noqa: E731
    f32 = lambda *v: np.array(v, np.float32)  # noqa: E731
    return {
        "op-pad-reflect": graph("pad", "Pad", [1, 2, 3, 4], {"pads": i64(0, 0, 1, 2, 0, 0, 2, 1)}, {"mode": "reflect"}),
        "op-resize-linear": graph("resize", "Resize", [1, 2, 3, 4], {"roi": f32(), "scales": f32(1, 1, 2, 1.5)},
                                  {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}),
        "op-einsum": graph("einsum", "Einsum", [2, 3, 4], {"w": np.ones((2, 4, 5), np.float32)}, {"equation": "bij,bjk->bik"}),
        "op-topk": graph("topk", "TopK", [3, 5], {"k": i64(2)}, outputs=2),
        "op-gathernd": graph("gathernd", "GatherND", [2, 3, 4], {"indices": i64(1, 2, 0, 1).reshape(2, 2)}),
        "op-scatternd": graph("scatternd", "ScatterND", [4, 3], {"indices": i64(1, 3).reshape(2, 1), "updates": np.ones((2, 3), np.float32)},
                              {"reduction": "add"}),
        "op-onehot": graph("onehot", "OneHot", [3], {"depth": i64(4), "values": f32(0, 1)}, input_type=TensorProto.INT64),
        "op-cumsum": graph("cumsum", "CumSum", [2, 3], {"axis": i64(1)}, {"exclusive": 1, "reverse": 1}),
        "op-convtranspose": graph("convtranspose", "ConvTranspose", [1, 2, 3, 3], {"w": np.ones((2, 3, 2, 2), np.float32)},
                                  {"strides": [2, 2], "pads": [0, 1, 1, 0], "output_padding": [1, 0]}),
        "op-attention": graph("attention", "Attention", [1, 3, 4], {"k": np.ones((1, 3, 2), np.float32), "v": np.ones((1, 3, 2), np.float32)},
                              {"q_num_heads": 2, "kv_num_heads": 1, "is_causal": 1}, opset=23),
        "op-split": graph("split", "Split", [4, 6], {"split": i64(1, 2, 3)}, {"axis": 1}, outputs=3),
        "op-trilu": graph("trilu", "Trilu", [3, 4], {"k": np.array(1, np.int64)}, {"upper": 0}),
        "op-gridsample": graph("gridsample", "GridSample", [1, 2, 3, 4], {"grid": np.zeros((1, 2, 2, 2), np.float32)},
                               {"mode": "cubic", "padding_mode": "reflection"}, opset=20),
        "op-dft": graph("dft", "DFT", [2, 5, 2], {"length": i64(4), "axis": i64(1)}, {"onesided": 1}, opset=20),
        "op-stft": graph("stft", "STFT", [1, 16, 1], {"step": i64(4), "window": np.hanning(8).astype(np.float32)}, opset=17),
        "op-col2im": graph("col2im", "Col2Im", [1, 4, 4], {"image": i64(3, 3), "block": i64(2, 2)}, opset=18),
        "op-maxunpool": graph("maxunpool", "MaxUnpool", [1, 1, 2, 2], {"indices": i64(0, 3, 9, 14).reshape(1, 1, 2, 2)},
                              {"kernel_shape": [2, 2], "strides": [2, 2]}, opset=22),
        "op-unique": graph("unique", "Unique", [2, 3], {}, {"axis": 1, "sorted": 1}, outputs=4),
        "op-nms": graph("nms", "NonMaxSuppression", [1, 3, 4], {"scores": np.ones((1, 2, 3), np.float32), "limit": i64(2),
                                                                "iou": f32(0.5)}, opset=11),
        "op-tensorscatter": graph("tensorscatter", "TensorScatter", [2, 4, 2], {"update": np.ones((2, 1, 2), np.float32), "at": i64(1, 3)},
                                  {"mode": "circular"}, opset=24),
        "op-det": graph("det", "Det", [2, 3, 3], {}),
        "op-conv3d": graph("conv3d", "Conv", [1, 2, 4, 3, 3], {"w": np.ones((2, 1, 2, 2, 2), np.float32)},
                           {"pads": [1, 0, 1, 0, 1, 0], "strides": [2, 1, 1], "group": 2}),
    }


def write(folder):
    os.makedirs(folder, exist_ok=True)
    for name, model in seeds().items():
        onnx.save(model, os.path.join(folder, name + ".onnx"))
    return len(seeds())


if __name__ == "__main__":
    count = write(os.path.join(HERE, "corpus", "fuzz-onnx-graph"))
    print(f"wrote {count} operator seeds")
