"""Regenerate data/digits/{train,test}.csv and data/text/corpus.txt.

Provenance only: the committed files are the reference. Needs numpy and
scikit-learn (digits); the text comes from this Python's own stdlib
(pydoc_data.topics; the committed corpus was made with CPython 3.11.7).
Run: python3 data/make_data.py
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0          # numpy.random.default_rng(SEED).permutation(1797)
N_TRAIN = 1500    # first 1500 shuffled rows train, remaining 297 test
TEXT_BYTES = 200_000  # take whole topics until the corpus reaches this size

ASCII = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
         "\u2026": "...", "\u2014": "--", "\u2013": "-", "\u00df": "ss",
         "\u00b0": " deg"}


def digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    x, y = d.data.astype(np.int64), d.target.astype(np.int64)   # (1797, 64), (1797,)
    perm = np.random.default_rng(SEED).permutation(len(y))
    rows = np.concatenate([y[:, None], x], axis=1)[perm]
    out = os.path.join(HERE, "digits")
    os.makedirs(out, exist_ok=True)
    for name, part in (("train", rows[:N_TRAIN]), ("test", rows[N_TRAIN:])):
        np.savetxt(os.path.join(out, f"{name}.csv"), part, fmt="%d", delimiter=",")
    np.savetxt(os.path.join(out, "perm.txt"), perm, fmt="%d")
    print("digits:", rows[:N_TRAIN].shape, rows[N_TRAIN:].shape)


def text():
    import pydoc_data.topics as t
    parts, size = [], 0
    for key in sorted(t.topics):
        body = t.topics[key].strip("\n")
        for k, v in ASCII.items():
            body = body.replace(k, v)
        assert all(ord(c) < 127 and (c >= " " or c == "\n") for c in body), key
        parts.append(body)
        size += len(body) + 2
        if size >= TEXT_BYTES:
            break
    out = os.path.join(HERE, "text")
    os.makedirs(out, exist_ok=True)
    corpus = "\n\n".join(parts) + "\n"
    with open(os.path.join(out, "corpus.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write(corpus)
    print("text:", len(corpus), "bytes,", len(parts), "topics, python", sys.version.split()[0])


if __name__ == "__main__":
    digits()
    text()
