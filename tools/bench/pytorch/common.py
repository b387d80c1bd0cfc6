"""Helpers shared by the reference benchmark scripts (argument parsing, timing, output line)."""
import argparse
import os
import statistics
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "data")  # the repository's data/
SEED = 42


def setup(description, **extra):
    """Parse --threads (default 1) and --seed plus script-specific int options; apply them."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=SEED)
    for name, default in extra.items():
        p.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return args


now = time.perf_counter


def median(xs):
    return statistics.median(xs)


def emit(bench, metric, value, unit, **kv):
    """Print the one comparable line: bench=<name> impl=pytorch <metric>=<value> <unit> [k=v ...]."""
    def fmt(v):
        return f"{v:.6g}" if isinstance(v, float) else str(v)
    extra = " ".join(f"{k}={fmt(v)}" for k, v in kv.items())
    print(f"bench={bench} impl=pytorch {metric}={fmt(value)} {unit} {extra}".rstrip(), flush=True)
