"""The integrity record of every HDF5 file Synapse writes (format version 2): see
formats/FORMAT.md, "Integrity record". The first 512 bytes are an HDF5 user block holding
a magic, the file's length and SHA-256 digests; readers check it before HDF5 reads a byte."""
import hashlib
import os
import stat
import struct

from .errors import SynapseFileError

SIZE = 512
MAGIC = b"SYNAPSE-SEAL"
VERSION = 1
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


PIECE = 4 << 20


def read_once(path, limit=1 << 40):
    """The bytes of ``path`` and the identity (device, inode) of the file they came from,
    through one descriptor: a file renamed over ``path`` mid-read yields the old bytes or
    the new ones, never a mix. FIFOs, devices and folders are refused from fstat before a
    byte is read (the open does not block on a FIFO)."""
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise SynapseFileError(path, "the file", f"cannot be read ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a directory" if stat.S_ISDIR(info.st_mode)
                    else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a plain file")
            raise SynapseFileError(path, "the file", f"is {kind}, not a regular file")
        if info.st_size > limit:
            raise SynapseFileError(path, "the file", f"it is {info.st_size} bytes, over the {limit} read")
        chunks, remaining = [], info.st_size
        while remaining > 0:
            chunk = os.pread(fd, min(remaining, 1 << 26), info.st_size - remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks), (info.st_dev, info.st_ino)
    finally:
        os.close(fd)


def identity(path):
    """(device, inode) of the file ``path`` names now, or None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _hash_bytes(data):
    """SHA-256 of the SHA-256 digests of each 4 MiB piece of ``data``."""
    digests = hashlib.sha256()
    view = memoryview(data)
    for start in range(0, len(view), PIECE):
        digests.update(hashlib.sha256(view[start:start + PIECE]).digest())
    return digests.digest()


def _hash(path, start, end):
    """SHA-256 of the SHA-256 digests of each 4 MiB piece of bytes [start, end) of ``path``."""
    with open(path, "rb") as f:
        f.seek(start)
        return _hash_bytes(f.read(end - start))


def verify(path):
    """``"sealed"`` when the record matches the file, ``"unsealed"`` for an HDF5 file without
    one (format version 1); raises SynapseFileError saying how the file is damaged."""
    return verify_bytes(path, read_once(path)[0])


def verify_bytes(path, data):
    """``verify`` on the bytes ``data`` read from ``path``."""
    length = len(data)
    head = data[:SIZE]
    if head[:8] == HDF5_SIGNATURE:
        return "unsealed"
    if head[:12] != MAGIC:
        raise SynapseFileError(path, "the file", "not an HDF5 file Synapse wrote, or damaged: it starts with neither "
                                                 "Synapse's integrity record nor an HDF5 signature")
    if len(head) < SIZE:
        raise SynapseFileError(path, "the integrity record", f"damaged: truncated at byte {length}")
    if hashlib.sha256(head[:56]).digest() != head[56:88] or any(head[88:]):
        raise SynapseFileError(path, "the integrity record", "damaged: it does not match its own checksum")
    version, written = struct.unpack("<IQ", head[12:24])
    if version != VERSION:
        raise SynapseFileError(path, "the integrity record", f"version {version}; this reader knows {VERSION}")
    if written != length:
        raise SynapseFileError(path, "the file", f"damaged: truncated at byte {length} of {written}" if written > length
                               else f"damaged: {length - written} bytes longer than the {written} written")
    if _hash_bytes(memoryview(data)[SIZE:]) != head[24:56]:
        raise SynapseFileError(path, "the file", f"damaged: bytes 512..{length} do not match their SHA-256")
    return "sealed"


def seal(path):
    """Writes the record into the user block of ``path``, an HDF5 file created with
    ``userblock_size=512`` and already closed."""
    length = os.path.getsize(path)
    record = MAGIC + struct.pack("<IQ", VERSION, length) + _hash(path, SIZE, length)
    record += hashlib.sha256(record).digest()
    with open(path, "r+b") as f:
        f.write(record + bytes(SIZE - len(record)))
        f.flush()
        os.fsync(f.fileno())
