"""The integrity record of every HDF5 file Synapse writes (format version 2): see
formats/FORMAT.md, "Integrity record". The first 512 bytes are an HDF5 user block holding
a magic, the file's length and SHA-256 digests; readers check it before HDF5 reads a byte."""
import hashlib
import os
import struct

from .errors import SynapseFileError

SIZE = 512
MAGIC = b"SYNAPSE-SEAL"
VERSION = 1
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


PIECE = 4 << 20


def _hash(path, start, end):
    """SHA-256 of the SHA-256 digests of each 4 MiB piece of bytes [start, end)."""
    digests = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = f.read(min(remaining, PIECE))
            if not chunk:
                return b""
            digests.update(hashlib.sha256(chunk).digest())
            remaining -= len(chunk)
    return digests.digest()


def verify(path):
    """``"sealed"`` when the record matches the file, ``"unsealed"`` for an HDF5 file without
    one (format version 1); raises SynapseFileError saying how the file is damaged."""
    try:
        length = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(SIZE)
    except OSError as error:
        raise SynapseFileError(path, "the file", f"cannot be read ({error})") from None
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
    if _hash(path, SIZE, length) != head[24:56]:
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
