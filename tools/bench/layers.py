"""Single convolution layers against onnxruntime: the shapes that dominate MobileNet v2,
EfficientNet-B0 and ConvNeXt (depthwise 3x3/5x5/7x7 at strides 1 and 2, pointwise 1x1, the
stems), each written as a one-node ONNX model (Conv, then Clip, Relu or Sigmoid+Mul where the
networks fuse one), run by `synapse benchmark` and tools/bench/onnxruntime/predict.py on the
same file and input, alternating. Prints each pair of lines, then one row per layer with the
speed ratio (onnxruntime's min / Synapse's: above 1 Synapse is faster). A layer on its own
lets a kernel change be measured in seconds; the whole models are `make bench-inference`.
Standalone, onnxruntime pays its NCHW <-> NCHWc reorders around the layer, which it does not
inside a network.

Run: make bench-layers, or
     python3 tools/bench/layers.py [--synapse .build/release/synapse] [--threads 1] [--rounds 2]
                                   [--runs 20] [--only dw14s2,pw112] [--folder DIR]
"""
import argparse
import math
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import inference  # noqa: E402

# name: (batch, input channels, size, output channels, kernel, stride, groups, activation)
LAYERS = {
    "stem224": (1, 3, 224, 32, 3, 2, 1, "clip"),
    "dw112s2": (1, 96, 112, 96, 3, 2, 96, "clip"),
    "dw112": (1, 32, 112, 32, 3, 1, 32, "clip"),
    "dw56": (1, 144, 56, 144, 3, 1, 144, "clip"),
    "dw28": (1, 192, 28, 192, 3, 1, 192, "clip"),
    "dw14": (1, 384, 14, 384, 3, 1, 384, "clip"),
    "dw14s2": (1, 576, 14, 576, 3, 2, 576, "clip"),
    "dw7": (1, 960, 7, 960, 3, 1, 960, "clip"),
    "dw14k5": (1, 480, 14, 480, 5, 1, 480, "silu"),
    "dw14k5s2": (1, 672, 14, 672, 5, 2, 672, "silu"),
    "dw7k5": (1, 1152, 7, 1152, 5, 1, 1152, "silu"),
    "dw56k7": (1, 96, 56, 96, 7, 1, 96, None),
    "pw112": (1, 16, 112, 96, 1, 1, 1, "clip"),
    "pw56": (1, 24, 56, 144, 1, 1, 1, "clip"),
    "pw14": (1, 96, 14, 576, 1, 1, 1, "clip"),
    "pw7": (1, 320, 7, 1280, 1, 1, 1, "clip"),
    "pw7c": (1, 960, 7, 320, 1, 1, 1, None),
}


def write_layer(name, folder):
    """The layer's model and a normal input for it; returns the two paths."""
    n, c, size, o, k, stride, groups, activation = LAYERS[name]
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((o, c // groups, k, k)) * (2 / (c // groups * k * k)) ** 0.5).astype(np.float32)
    initializers = [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(rng.standard_normal(o).astype(np.float32) * 0.1, "b")]
    conv_out = "y" if activation else "z"
    nodes = [helper.make_node("Conv", ["x", "w", "b"], [conv_out], kernel_shape=[k, k], strides=[stride, stride],
                              pads=[k // 2] * 4, group=groups)]
    if activation == "clip":
        initializers += [numpy_helper.from_array(np.array(0, np.float32), "low"), numpy_helper.from_array(np.array(6, np.float32), "high")]
        nodes.append(helper.make_node("Clip", ["y", "low", "high"], ["z"]))
    elif activation == "relu":
        nodes.append(helper.make_node("Relu", ["y"], ["z"]))
    elif activation == "silu":
        nodes += [helper.make_node("Sigmoid", ["y"], ["s"]), helper.make_node("Mul", ["y", "s"], ["z"])]
    out_size = (size + 2 * (k // 2) - k) // stride + 1
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, size, size])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [n, o, out_size, out_size])], initializers)
    model_path, input_path = os.path.join(folder, f"{name}.onnx"), os.path.join(folder, f"{name}_x.npy")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model_path)
    np.save(input_path, rng.standard_normal((n, c, size, size)).astype(np.float32))
    return model_path, input_path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synapse", default=os.path.join(inference.ROOT, ".build", "release", "synapse"))
    parser.add_argument("--threads", default="1")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default=",".join(LAYERS))
    parser.add_argument("--folder", default=None)
    args = parser.parse_args()
    folder = args.folder or tempfile.mkdtemp(prefix="synapse-layers-")
    onnxruntime = os.path.join(HERE, "onnxruntime", "predict.py")
    rows = []
    for name in args.only.split(","):
        model, data = write_layer(name, folder)
        for threads in map(int, args.threads.split(",")):
            common = [model, "--input", f"x={data}", "--runs", str(args.runs), "--warmup", "3", "--threads", str(threads)]
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(float(inference.run([args.synapse, "benchmark"] + common)["min_ms"]))
                theirs.append(float(inference.run([sys.executable, onnxruntime] + common)["min_ms"]))
            rows.append((name, threads, min(theirs), min(ours)))
    print()
    print(f"{'layer':10s} {'threads':>7s} {'onnxruntime ms':>15s} {'synapse ms':>11s} {'ratio':>7s}")
    for name, threads, theirs, ours in rows:
        print(f"{name:10s} {threads:7d} {theirs:15.3f} {ours:11.3f} {theirs / ours:6.2f}x")
    print(f"geometric mean {math.exp(sum(math.log(t / o) for _, _, t, o in rows) / len(rows)):.2f}x")


if __name__ == "__main__":
    main()
