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

    class Runner:
        def __call__(self, *args, cwd):
            result = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True)
            if result.returncode != 0:
                pytest.fail(f"synapse {' '.join(args)} failed: {result.stderr}")
            return result

        def run_failing(self, *args, cwd):
            """Runs a command expected to fail; returns the completed process."""
            return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True)

    return Runner()
