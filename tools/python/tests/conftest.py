"""Shared fixtures: the Synapse command-line tool built by `swift build` (or $SYNAPSE_BIN)."""
import os
import subprocess

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@pytest.fixture(scope="session")
def synapse():
    """A function that runs the `synapse` tool and returns its completed process."""
    binary = os.environ.get("SYNAPSE_BIN") or os.path.join(ROOT, ".build", "debug", "synapse")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is missing: run `swift build` first (make test does)")

    def run(*args, cwd):
        return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, check=True)

    return run
