"""Runs every benchmark on both sides, alternately, and prints the ratios.

For each workload, `rounds` times: the Synapse driver (.build/release/synapse-bench), then the
PyTorch script of the same name (tools/bench/pytorch), each on 1 thread; the real-size workloads
(real_size.py: ResNet-18, GPT, LSTM language model training, ResNet-18 inference) also at all
cores. Each side's line is
printed as it arrives, with its peak memory (max RSS of the process) appended; the medians and
the ratio per workload close the run. With `--baseline PATH` (a synapse-bench built from an
earlier commit, as `make bench-against REV=…` does) that driver runs too, in the same rounds,
and the closing lines also give this build against it. Usage:
python3 tools/bench/run.py [--rounds N] [--baseline PATH] [--threads 1,2] [--unset-openblas] [NAME ...]
(--unset-openblas removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from both sides' environment.)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SYNAPSE = os.path.join(ROOT, ".build", "release", "synapse-bench")
WORKLOADS = ["xor", "op_overhead", "mlp_digits", "cnn_digits", "cnn_lenet", "char_lstm", "char_transformer", "sgemm", "file_io",
             "ddp_mlp", "resnet18_train", "gpt_train", "lstm_lm_train", "resnet18_infer_b1", "resnet18_infer_b64"]
REAL_SIZE = {"resnet18_train", "gpt_train", "lstm_lm_train", "resnet18_infer_b1", "resnet18_infer_b64"}
# Workloads that are one variant of a script: name -> (script / synapse-bench workload, arguments).
VARIANTS = {"cnn_digits": ("cnn", ["--variant", "digits"]), "cnn_lenet": ("cnn", ["--variant", "lenet"])}
for _name in REAL_SIZE:
    _workload = "resnet18_infer" if _name.startswith("resnet18_infer") else _name
    _batch = ["--batch", _name.rsplit("_b", 1)[1]] if _workload == "resnet18_infer" else []
    VARIANTS[_name] = (_workload, _batch)


def script_and_arguments(name, workload, extra):
    """The PyTorch script for a workload: real_size.py takes the workload as an option."""
    if name in REAL_SIZE:
        return "real_size.py", ["--workload", workload] + extra
    return workload + ".py", extra


def vector_width():
    """The widest vector instructions lscpu lists (what oneDNN's and OpenBLAS' kernels can use)."""
    try:
        flags = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown (no lscpu)"
    if re.search(r"\bavx512f\b", flags):
        return "AVX-512 (512-bit)"
    if re.search(r"\bavx2\b", flags):
        return "AVX2 (256-bit)"
    return "128-bit or unknown"


def run(command, env=None):
    """Runs `command`; returns its benchmark line as a dict and its peak RSS in MiB."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(command)} failed with status {status}")
    line = [l for l in output.splitlines() if l.startswith("bench=")][-1]
    fields = {}
    for token in line.split():
        if "=" in token:
            key, value = token.split("=", 1)
            try:
                fields[key] = float(value)
            except ValueError:
                fields[key] = value
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"{line} max_rss_mib={peak:.1f}", flush=True)
    fields["max_rss_mib"] = peak
    return fields


def med(results, key):
    values = [r[key] for r in results if isinstance(r.get(key), float)]
    return statistics.median(values) if values else float("nan")


# How each workload compares: (key on the Synapse side, key on the PyTorch side, higher is better,
# what the ratio means). A ratio above 1 always means Synapse is better.
COMPARISONS = {
    "xor": [("train_ms", "train_ms", False, "speed-up, 1000 epochs (target >= 10)"),
            ("train_ms_10k", "train_ms_10k", False, "speed-up, 10000 epochs")],
    "op_overhead": [("add_grad_us", "add_grad_us", False, "per-op speed-up with a graph (target >= 5)"),
                    ("add_nograd_us", "add_nograd_us", False, "per-op speed-up without a graph"),
                    ("fwd_bwd_us", "fwd_bwd_us", False, "speed-up, XOR forward + backward")],
    "mlp_digits": [("samples_per_s", "samples_per_s", True, "samples/s ratio (target >= 2)")],
    "cnn_digits": [("samples_per_s", "samples_per_s", True, "samples/s ratio, digits CNN (target >= 1)")],
    "cnn_lenet": [("samples_per_s", "samples_per_s", True, "samples/s ratio, LeNet-5 (target >= 1)")],
    "char_lstm": [("tokens_per_s", "tokens_per_s", True, "tokens/s vs LSTMCell loop (target >= 2)"),
                  ("tokens_per_s", "fused_tokens_per_s", True, "LSTMCell loop tokens/s vs fused nn.LSTM"),
                  ("sequence_tokens_per_s", "fused_tokens_per_s", True, "LSTM layer tokens/s vs fused nn.LSTM (target >= 1.2)")],
    "char_transformer": [("tokens_per_s", "tokens_per_s", True, "tokens/s (target >= 1)")],
    "file_io": [("model_save_s", "model_save_s", False, "speed-up, model file save (target >= 0.5)"),
                ("model_load_s", "model_load_s", False, "speed-up, model file load (target >= 0.5)"),
                ("checkpoint_save_s", "checkpoint_save_s", False, "speed-up, checkpoint save (target >= 0.5)"),
                ("checkpoint_load_s", "checkpoint_load_s", False, "speed-up, checkpoint load (target >= 0.5)")],
    "ddp_mlp": [("samples_per_s_w2", "samples_per_s_w2", True, "2-rank samples/s vs DDP gloo (target >= 2)"),
                ("samples_per_s_w1", "samples_per_s_w1", True, "1-rank samples/s vs DDP gloo"),
                ("scaling_w2", "scaling_w2", True, "scaling 1 -> 2 ranks vs DDP's (Synapse's own target >= 1.5)")],
    "resnet18_train": [("samples_per_s", "samples_per_s", True, "samples/s, ResNet-18 training (target >= 1.2)")],
    "gpt_train": [("tokens_per_s", "tokens_per_s", True, "tokens/s, GPT training (target >= 1.2)")],
    "lstm_lm_train": [("tokens_per_s", "tokens_per_s", True, "tokens/s, LSTM LM training (target >= 1.2)")],
    "resnet18_infer_b1": [("samples_per_s", "samples_per_s", True, "samples/s, ResNet-18 inference batch 1 (target >= 1.2)")],
    "resnet18_infer_b64": [("samples_per_s", "samples_per_s", True, "samples/s, ResNet-18 inference batch 64 (target >= 1.2)")],
    "sgemm": [("synapse_1t", "numpy_1t", True, "GFLOP/s vs numpy, 1 thread (target >= 0.9)"),
              ("synapse_2t", "numpy_2t", True, "GFLOP/s vs numpy, 2 threads")],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="Python with torch and numpy")
    parser.add_argument("--synapse", default=SYNAPSE, help="the synapse-bench to run (default: the release build)")
    parser.add_argument("--baseline", help="another synapse-bench to compare this build with, in the same run")
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}",
                        help="thread counts for the real-size workloads (the others run on 1 thread)")
    parser.add_argument("--steps", type=int, help="timed steps of the real-size training workloads (default: the scripts' 20)")
    parser.add_argument("--unset-openblas", action="store_true", help="remove OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE")
    parser.add_argument("workloads", nargs="*", default=WORKLOADS)
    args = parser.parse_args()
    # Each side sets its own thread count (--threads 1); OMP_NUM_THREADS would also cap
    # OpenBLAS' pool and hide the 2-thread sgemm figure.
    env = dict(os.environ)
    if args.unset_openblas:
        for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            env.pop(variable, None)
    openblas = " ".join(f"{v}={env[v]}" for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in env) or "both unset"
    summary = []
    runs = []
    for name in args.workloads:
        if name not in COMPARISONS:
            sys.exit(f"bench: unknown workload {name} (choose from {', '.join(WORKLOADS)})")
        counts = [int(t) for t in args.threads.split(",")] if name in REAL_SIZE else [1]
        for threads in dict.fromkeys(counts):
            runs.append((name, threads))
    for name, threads in runs:
        ours, theirs, before = [], [], []
        workload, extra = VARIANTS.get(name, (name, []))
        script, script_extra = script_and_arguments(name, workload, extra)
        t = ["--threads", str(threads)]
        if args.steps and name in REAL_SIZE and not name.startswith("resnet18_infer"):
            extra, script_extra = extra + ["--steps", str(args.steps)], script_extra + ["--steps", str(args.steps)]
        for _ in range(args.rounds):
            ours.append(run([args.synapse, workload] + t + extra, env))
            theirs.append(run([args.python, os.path.join(HERE, "pytorch", script)] + t + script_extra, env))
            if args.baseline:
                before.append(run([args.baseline, workload] + t + extra, env))
        label = f"{name} threads={threads}" if name in REAL_SIZE else name
        for our_key, _, higher_is_better, meaning in COMPARISONS[name] if args.baseline else []:
            a, b = med(ours, our_key), med(before, our_key)
            ratio = a / b if higher_is_better else b / a
            summary.append(f"baseline bench={label} {our_key}: this build {ratio:.3g}x the baseline "
                           f"(above 1 is faster; this {a:.6g}, baseline {b:.6g})")
        for our_key, their_key, higher_is_better, meaning in COMPARISONS[name]:
            a, b = med(ours, our_key), med(theirs, their_key)
            ratio = a / b if higher_is_better else b / a
            summary.append(f"ratio bench={label} {our_key}/{their_key}={ratio:.3g}  ({meaning}; "
                           f"synapse {a:.6g}, pytorch {b:.6g})")
        a, b = med(ours, "max_rss_mib"), med(theirs, "max_rss_mib")
        summary.append(f"memory bench={label} synapse_max_rss_mib={a:.1f} pytorch_max_rss_mib={b:.1f} "
                       f"ratio={a / b:.3g} (target < 1)")
    print(f"\nMedians of {args.rounds} alternating rounds, 1 thread each unless named "
          f"(Synapse's BLAS core: {ours[-1].get('blas_core', '?')}; PyTorch: {theirs[-1].get('cpu_capability', 'oneDNN/MKL')}; "
          f"CPU vectors: {vector_width()}; {openblas}):")
    for line in summary:
        print(line)


if __name__ == "__main__":
    main()
