"""onnxruntime's side of `synapse benchmark`: the same model file, inputs and runs, one line
in the same shape.

Run: python3 tools/bench/onnxruntime/predict.py MODEL.onnx --input NAME=FILE.npy ... [--runs N] [--warmup W] [--threads T]
Line: bench=predict impl=onnxruntime model=NAME batch=B median_ms=... min_ms=... p90_ms=... load_ms=... peak_rss_mb=... runs=N threads=T
load_ms is session creation (graph optimisation included, as Synapse's includes its own);
peak_rss_mb includes the Python interpreter and numpy (~30 MiB)."""
import argparse
import math
import os
import resource
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--input", action="append", default=[], help="NAME=FILE.npy")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    feeds = {}
    for text in args.input:
        name, path = text.split("=", 1)
        feeds[name] = np.load(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    start = time.perf_counter()
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - start) * 1e3
    for _ in range(args.warmup):
        session.run(None, feeds)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    p90 = times[min(n - 1, math.ceil(0.9 * (n - 1)))]
    batch = next(iter(feeds.values())).shape[0] if feeds else 1
    # VmHWM starts anew at exec; ru_maxrss would report a large parent's peak.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    name = os.path.splitext(os.path.basename(args.model))[0]
    print(f"bench=predict impl=onnxruntime model={name} batch={batch} median_ms={median:.3f} min_ms={times[0]:.3f} "
          f"p90_ms={p90:.3f} load_ms={load_ms:.3f} peak_rss_mb={peak:.3f} runs={args.runs} threads={args.threads}")


if __name__ == "__main__":
    main()
