"""Inference speed against onnxruntime on the real-models zoo (tools/zoo/zoo.py): each model is
exported once (PyTorch's default dynamo exporter), then `synapse benchmark` and
tools/bench/onnxruntime/predict.py run the same file and inputs, alternating, at batch 1 and 8,
at 1 thread and at every core. Prints each pair of lines, then one row per model, batch and
thread count with the speed ratio (onnxruntime's median / Synapse's: above 1 Synapse is
faster), the speed-up of Synapse's inference rewrites (`synapse benchmark --as-written` runs
the graph as written), load times and peak memory, and the geometric mean of the ratios.

Run: make bench-inference, or
     python3 tools/bench/inference.py [--synapse .build/release/synapse] [--size 224] [--rounds 2]
                                      [--runs 10] [--threads 1,2] [--only resnet18,bert] [--folder DIR]
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "zoo"))
import zoo  # noqa: E402

MODELS = ["resnet18", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "densenet121", "regnet_y_400mf",
          "squeezenet1_0", "vit_tiny", "bert", "gpt2"]


def feeds(inputs, batch):
    """The example inputs at `batch` (token ids of length 8 for the text models)."""
    rng = np.random.default_rng(batch)
    result = {}
    for name, value in inputs.items():
        shape = (batch,) + value.shape[1:]
        if name == "input_ids":
            result[name] = rng.integers(0, 100, shape).astype(np.int64)
        elif name == "attention_mask":
            result[name] = np.ones(shape, np.int64)
        else:
            result[name] = rng.standard_normal(shape).astype(np.float32)
    return result


def parse(line):
    return {key: value for key, value in re.findall(r"(\w+)=(\S+)", line)}


def run(command):
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("bench=predict")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command[:3])}: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    print(lines[-1], flush=True)
    return parse(lines[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--folder", help="where the exports go (default: a temporary folder)")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else MODELS
    folder = args.folder or tempfile.mkdtemp(prefix="synapse-inference-")
    os.makedirs(folder, exist_ok=True)
    rows = []
    for name in names:
        path = os.path.join(folder, f"{name}.onnx")
        inputs = zoo.export(name, args.size, path, dynamo=True)
        for batch in [int(b) for b in args.batches.split(",")]:
            flags = []
            for key, value in feeds(inputs, batch).items():
                file = os.path.join(folder, f"{name}_b{batch}_{key}.npy")
                np.save(file, value)
                flags += ["--input", f"{key}={file}"]
            for threads in [int(t) for t in args.threads.split(",")]:
                common = flags + ["--runs", str(args.runs), "--warmup", str(args.warmup), "--threads", str(threads)]
                ours, theirs, written = [], [], []
                for _ in range(args.rounds):
                    try:
                        ours.append(run([args.synapse, "benchmark", path] + common))
                        written.append(run([args.synapse, "benchmark", path, "--as-written"] + common))
                    except RuntimeError as error:
                        print(f"synapse: {name}: {error}", flush=True)
                        break
                    theirs.append(run([sys.executable, os.path.join(HERE, "onnxruntime", "predict.py"), path] + common))
                if not ours or not theirs:
                    continue
                best = lambda lines, key: min(float(line[key]) for line in lines)  # noqa: E731
                rows.append((name, batch, threads, best(theirs, "median_ms") / best(ours, "median_ms"),
                             best(written, "median_ms") / best(ours, "median_ms"), best(written, "peak_rss_mb"), best(ours, "median_ms"),
                             best(theirs, "median_ms"), best(ours, "load_ms"), best(theirs, "load_ms"),
                             best(ours, "peak_rss_mb"), best(theirs, "peak_rss_mb")))
    print()
    print("| model | batch | threads | speed vs onnxruntime | rewrites' speed-up | synapse ms | onnxruntime ms "
          "| load ms (synapse / ort) | peak MiB (synapse / as written / ort) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, batch, threads, ratio, gain, written_peak, ours, theirs, load, their_load, peak, their_peak in rows:
        print(f"| {name} | {batch} | {threads} | {ratio:.2f}x | {gain:.2f}x | {ours:.2f} | {theirs:.2f} | {load:.0f} / {their_load:.0f} "
              f"| {peak:.0f} / {written_peak:.0f} / {their_peak:.0f} |")
    for threads in sorted({row[2] for row in rows}):
        ratios = [row[3] for row in rows if row[2] == threads]
        print(f"geometric mean at {threads} thread(s): {math.exp(sum(map(math.log, ratios)) / len(ratios)):.3f}x onnxruntime "
              f"over {len(ratios)} runs (lowest {min(ratios):.2f}x); size {args.size}x{args.size}, best median of {args.rounds} rounds")
    blas = subprocess.run([args.synapse, "--version"], capture_output=True, text=True).stdout.strip()
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    width = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "SSE"
    print(f"{blas}; onnxruntime {__import__('onnxruntime').__version__}; CPU vector width {width}")


if __name__ == "__main__":
    main()
