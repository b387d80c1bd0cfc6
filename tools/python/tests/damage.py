"""Damaged copies of a file, made the ways disks and copies go wrong (as the Swift tests'
`Damage`): bit flips, truncation, bytes overwritten, inserted or removed."""
import random


def copies(data, count, seed):
    """``count`` (kind, bytes) pairs, reproducibly from ``seed``."""
    rng = random.Random(seed)
    result = []
    for index in range(count):
        copy = bytearray(data)
        kind = index % 5
        if kind == 0:
            for _ in range(rng.randint(1, 9)):
                copy[rng.randrange(len(copy))] ^= 1 << rng.randrange(8)
            result.append(("bit flips", bytes(copy)))
        elif kind == 1:
            result.append(("truncated", bytes(copy[: rng.randrange(len(copy))])))
        elif kind == 2:
            at = rng.randrange(len(copy))
            for i in range(at, min(len(copy), at + rng.randint(1, 64))):
                copy[i] = rng.randrange(256)
            result.append(("overwritten", bytes(copy)))
        elif kind == 3:
            at = rng.randrange(len(copy))
            result.append(("inserted", bytes(copy[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + copy[at:])))
        else:
            at = rng.randrange(len(copy))
            del copy[at: at + rng.randint(1, 64)]
            result.append(("removed", bytes(copy)))
    return result
