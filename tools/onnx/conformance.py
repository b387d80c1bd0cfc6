"""ONNX's own backend node tests, through `synapse predict`, for every operator Synapse
declares an importer for: each test whose model uses only declared operators is run with its
inputs in their own dtypes, and every output is compared in its dtype with the test's own
tolerances (floats: |got - expected| <= atol + rtol * |expected|; whole numbers and bool:
equal). Prints per-operator pass counts and the total, and the first failures.

Run: make onnx-conformance (uses the release build), or
     python3 tools/onnx/conformance.py --synapse .build/debug/synapse [--limit N] [--minimum P]"""
import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
# ml_dtypes' names of the ONNX types NumPy has no dtype of.
NARROW_TYPES = {"bfloat16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float4_e2m1fn",
                "int4", "uint4", "int2", "uint2"}


# The node tests Synapse is expected to fail, and why (a pattern of test names each).
EXPECTED_FAILURES = [
    (r"_(bf16|fp16|bfloat16)(_expanded)?$", "computed in float32: ONNX's reference rounds every step to 16 bits"),
    (r"^test_training_dropout(_default)?(_mask)?$", "random: Synapse's generator draws other masks than NumPy's"),
    (r"^test_cast_e8m0|^test_castlike_e8m0", "float8e8m0 is not read"),
    (r"^test_resize_.*(antialias|tf_crop_and_resize)", "antialiased and tf_crop_and_resize Resize are not implemented"),
    (r"^test_convtranspose_3d$", "ConvTranspose is 1-D and 2-D"),
    (r"^test_(identity_opt|identity_sequence|equal_string.*)$", "sequences, optionals and strings are not values Synapse has"),
    (r"^test_bitshift_right_int(8|32)_", "BitShift on signed integers (opset 28) is not implemented"),
    (r"^test_dft_inverse(_opset19)?$", "the expected values carry NumPy's float32 FFT rounding (1e-6 where the exact value is 0, "
                                       "atol 1e-7): the exact result, and onnxruntime's, fail it too"),
]


def expected_reason(name):
    import re
    return next((reason for pattern, reason in EXPECTED_FAILURES if re.search(pattern, name)), None)


def declared_ops(synapse):
    return set(subprocess.run([synapse, "_op-table", "--list"], capture_output=True, text=True, check=True).stdout.split())


def node_tests():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import onnx.backend.test.loader as loader
        return loader.load_model_tests(kind="node")


def run_case(synapse, case, folder):
    import onnx
    import onnx.numpy_helper
    model = onnx.ModelProto()
    model.CopyFrom(case.model)  # (inputs may be added to it as initializers)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    initializers = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in initializers]
    inputs, expected = case.data_sets[0]
    args = [synapse, "predict", path, "--json"]
    def array(value):
        if isinstance(value, onnx.TensorProto):
            try:
                return onnx.numpy_helper.to_array(value)
            except Exception:  # noqa: BLE001 - a dtype numpy cannot hold
                return None
        # A rank-0 value comes as a NumPy scalar (np.float32(2.0)), not an array.
        return np.asarray(value) if isinstance(value, (np.ndarray, np.generic)) else None
    raw_inputs = inputs
    inputs, expected = [array(v) for v in inputs], [array(v) for v in expected]
    embedded = False
    for index, (name, value) in enumerate(zip(names, inputs)):
        if value is not None and value.dtype.name in NARROW_TYPES:
            # bfloat16, float8, float4, 4- and 2-bit values have no .npy form: the model file
            # carries them as an initializer of the input's name, in the type's own bytes.
            tensor = onnx.TensorProto()
            if isinstance(raw_inputs[index], onnx.TensorProto):
                tensor.CopyFrom(raw_inputs[index])
            else:
                tensor.CopyFrom(onnx.numpy_helper.from_array(value))
            tensor.name = name
            model.graph.initializer.append(tensor)
            embedded = True
            continue
        if value is None:
            return False, "an input that is not a numpy tensor (a sequence, an optional, an exotic dtype)"
        if value.dtype.kind not in "fiub" or value.dtype.itemsize > 8 or value.dtype.names:
            return False, f"input dtype {value.dtype}"
        file = os.path.join(folder, f"input_{index}.npy")
        np.save(file, np.array(value, order="C"))  # (ascontiguousarray makes a rank-0 array rank 1)
        args += ["--input", f"{name}={file}"]
    if embedded:
        onnx.save(model, path)
    # Expected values of those types compare as the float32 (or int8) values they hold.
    expected = [v.astype(np.int8 if "int" in v.dtype.name else np.float32) if v is not None and v.dtype.name in NARROW_TYPES else v
                for v in expected]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        return False, result.stderr.strip().splitlines()[-1][:300] if result.stderr.strip() else f"exit {result.returncode}"
    got = json.loads(result.stdout)
    for output, want in zip(model.graph.output, expected):
        if output.name not in got:
            return False, f"output {output.name} missing"
        if want is None:
            return False, f"output {output.name}: an expected value numpy cannot hold"
        want = np.asarray(want)
        if isinstance(got[output.name], dict):  # an empty value: {"shape": [...], "dtype": ..., "values": []}
            if want.size == 0 and list(want.shape) == got[output.name]["shape"]:
                continue
            return False, f"output {output.name}: shape {got[output.name]['shape']}, expected {list(want.shape)}"
        value = np.array(got[output.name], dtype=np.float64 if want.dtype.kind == "f" else None)
        if value.shape != want.shape:
            return False, f"output {output.name}: shape {list(value.shape)}, expected {list(want.shape)}"
        if want.dtype.kind in "fc":
            w = want.astype(np.float64)
            if not np.all((np.abs(value - w) <= case.atol + case.rtol * np.abs(w)) | (np.isnan(value) & np.isnan(w)) | (value == w)):
                return False, f"output {output.name}: largest difference {np.nanmax(np.abs(value - w)):.3g}"
        elif not np.array_equal(value.astype(want.dtype), want):
            return False, f"output {output.name}: values differ"
    return True, ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    parser.add_argument("--limit", type=int, default=0, help="run at most this many tests (0: all)")
    parser.add_argument("--minimum", type=float, default=0, help="exit 1 when fewer than this percentage pass")
    parser.add_argument("--show", type=int, default=30, help="failures to print")
    parser.add_argument("--ops", default="", help="only the tests that use one of these operators (comma-separated)")
    options = parser.parse_args()
    declared = declared_ops(options.synapse)
    cases = []
    for case in node_tests():
        if case.model is None or not case.data_sets:
            continue
        nodes = case.model.graph.node
        if any(n.domain not in ("", "ai.onnx") for n in nodes) or not {n.op_type for n in nodes} <= declared:
            continue
        if options.ops and not {n.op_type for n in nodes} & set(options.ops.split(",")):
            continue
        cases.append(case)
    if options.limit:
        cases = cases[: options.limit]
    per_op = collections.defaultdict(lambda: [0, 0])
    failures = []
    with tempfile.TemporaryDirectory() as scratch, concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {pool.submit(run_case, options.synapse, case, os.path.join(scratch, case.name)): case for case in cases}
        for future in concurrent.futures.as_completed(futures):
            case = futures[future]
            try:
                passed, reason = future.result()
            except Exception as error:  # noqa: BLE001 - a harness error is a failed test
                passed, reason = False, f"{type(error).__name__}: {error}"
            for op in {n.op_type for n in case.model.graph.node}:
                per_op[op][0] += passed
                per_op[op][1] += 1
            if not passed:
                failures.append((case.name, reason))
    total = len(cases)
    passed = total - len(failures)
    for op in sorted(per_op):
        ok, count = per_op[op]
        print(f"conformance op={op} passed={ok} of={count}")
    unexpected = [(name, reason) for name, reason in sorted(failures) if expected_reason(name) is None]
    for name, reason in unexpected[: options.show]:
        print(f"failed {name}: {reason}")
    expected = collections.Counter(expected_reason(name) for name, _ in failures if expected_reason(name) is not None)
    for reason, count in expected.most_common():
        print(f"expected failures count={count}: {reason}")
    rate = 100.0 * passed / max(total, 1)
    print(f"conformance total passed={passed} of={total} rate={rate:.1f}% operators={len(declared)} unexpected_failures={len(unexpected)}")
    if rate < options.minimum:
        print(f"below the minimum of {options.minimum}%")
        sys.exit(1)


if __name__ == "__main__":
    main()
