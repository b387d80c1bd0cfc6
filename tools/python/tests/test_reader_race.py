"""Readers racing writers: a checkpoint rewritten every two steps by a running `synapse train`,
and a model pair re-exported in a loop, are read over and over by the Python reader, the CLI
(Swift) and the C reader while they change. Every read must succeed: each reader opens a
file once and parses the bytes of that one read, and a pair whose .onnx was replaced
between its two files' reads is read again."""
import os
import subprocess
import time

import pytest

import synapse_io

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
C_READER = os.path.join(ROOT, "tools", "c", "build", "synapse-inspect-c")
SECONDS = 3.0


def _binary():
    return os.environ.get("SYNAPSE_BIN") or os.path.join(ROOT, ".build", "debug", "synapse")


def _loop(read, seconds=SECONDS):
    """Calls read() until `seconds` pass; returns (reads, failures, results seen)."""
    reads, failures, seen = 0, [], set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            seen.add(read())
            reads += 1
        except Exception as error:  # noqa: BLE001 - every failure is what this test counts
            failures.append(str(error))
    return reads, failures, seen


@pytest.fixture()
def checkpoint_writer(synapse, tmp_path):
    synapse("train", "digits", "--epochs", "1", "--checkpoint", "race.ckpt.h5", cwd=tmp_path)
    writer = subprocess.Popen([_binary(), "train", "digits", "--epochs", "1000", "--save-every-steps", "2",
                               "--checkpoint", "race.ckpt.h5", "--resume"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield tmp_path / "race.ckpt.h5"
    writer.kill()
    writer.wait()


def test_python_reads_a_checkpoint_being_rewritten(checkpoint_writer):
    reads, failures, steps = _loop(lambda: synapse_io.load_checkpoint(checkpoint_writer).step)
    assert not failures, f"{len(failures)} of {reads + len(failures)} reads failed, first: {failures[0]}"
    assert reads > 20 and len(steps) > 3, (reads, steps)


def test_cli_reads_a_checkpoint_being_rewritten(checkpoint_writer):
    def read():
        result = subprocess.run([_binary(), "inspect", str(checkpoint_writer), "--json"], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip())
        return result.stdout.count("\n")
    reads, failures, _ = _loop(read)
    assert not failures, f"{len(failures)} of {reads + len(failures)} reads failed, first: {failures[0]}"
    assert reads > 10


@pytest.fixture()
def pair_writer(synapse, tmp_path):
    """`synapse export` of two different checkpoints over the same pair, in a loop."""
    synapse("train", "digits", "--epochs", "1", "--checkpoint", "a.ckpt.h5", cwd=tmp_path)
    synapse("train", "digits", "--epochs", "2", "--checkpoint", "b.ckpt.h5", cwd=tmp_path)
    synapse("export", "a.ckpt.h5", "-o", "m", cwd=tmp_path)
    binary = _binary()
    loop = f'while true; do "{binary}" export a.ckpt.h5 -o m >/dev/null; "{binary}" export b.ckpt.h5 -o m >/dev/null; done'
    writer = subprocess.Popen(["bash", "-c", loop], cwd=tmp_path, start_new_session=True)
    yield tmp_path / "m.onnx"
    os.killpg(writer.pid, 9)
    writer.wait()


def test_python_reads_a_pair_being_replaced(pair_writer):
    def read():
        model = synapse_io.load_model(pair_writer)
        return sum(len(i.raw_data) for i in model.graph.initializer) and model.graph.initializer[1].raw_data[:8]
    reads, failures, seen = _loop(read)
    assert not failures, f"{len(failures)} of {reads + len(failures)} reads failed, first: {failures[0]}"
    assert reads > 10 and len(seen) == 2, (reads, len(seen))


def test_cli_and_c_read_a_pair_being_replaced(pair_writer):
    if not os.path.exists(C_READER):
        pytest.fail(f"{C_READER} is missing: run `make c-reader` (make test does)")
    for command in ([_binary(), "inspect", str(pair_writer)], [C_READER, str(pair_writer)]):
        def read():
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(result.stderr.strip())
            # The weights' figures: those of one export or of the other (the metadata differs
            # per export, as HDF5 records object times).
            return "\n".join(line for line in result.stdout.splitlines() if " max " in line and " sum " in line)
        reads, failures, seen = _loop(read)
        assert not failures, f"{command[0]}: {len(failures)} of {reads + len(failures)} reads failed, first: {failures[0]}"
        assert reads > 10 and len(seen) == 2, (command[0], reads, len(seen))


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_special_files_are_refused_at_once(tmp_path, kind):
    """A FIFO, a device or a folder given as a file is refused from fstat, never waited on."""
    path = {"fifo": tmp_path / "f.h5", "device": "/dev/zero", "folder": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    expected = {"fifo": "is a FIFO, not a regular file", "device": "is a device, not a regular file",
                "folder": "is a directory, not a regular file"}[kind]
    for load in (synapse_io.load_checkpoint, synapse_io.load_model):
        with pytest.raises(synapse_io.SynapseFileError, match=expected):
            load(path)
    if os.path.exists(C_READER):
        result = subprocess.run([C_READER, str(path)], capture_output=True, text=True, timeout=20)
        assert result.returncode != 0 and ", not a regular file" in result.stderr, result.stderr
