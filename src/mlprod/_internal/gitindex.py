"""Read the paths and stat data recorded in a git index file, without running git."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

__all__ = ["IndexEntry", "read_index"]


class IndexEntry(NamedTuple):
    """One tracked file as the index last saw it."""

    path: str
    mtime_s: int
    mtime_ns: int
    size: int


def read_index(index: Path) -> list[IndexEntry]:
    """Parse a git index (versions 2, 3 and 4) into its entries."""
    data = index.read_bytes()
    if data[:4] != b"DIRC":
        raise ValueError(f"{index} is not a git index")
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        raise ValueError(f"unsupported git index version {version}")
    pos = 12
    entries: list[IndexEntry] = []
    previous = b""
    for _ in range(count):
        _ctime_s, _ctime_ns, mtime_s, mtime_ns = struct.unpack(">IIII", data[pos : pos + 16])
        size = struct.unpack(">I", data[pos + 36 : pos + 40])[0]
        flags = struct.unpack(">H", data[pos + 60 : pos + 62])[0]
        cursor = pos + 62
        if version >= 3 and flags & 0x4000:
            cursor += 2
        if version == 4:
            # prefix compression: varint N = bytes to strip from the previous path
            byte = data[cursor]
            cursor += 1
            strip = byte & 0x7F
            while byte & 0x80:
                byte = data[cursor]
                cursor += 1
                strip = ((strip + 1) << 7) | (byte & 0x7F)
            end = data.index(b"\x00", cursor)
            name = previous[: len(previous) - strip] + data[cursor:end]
            pos = end + 1
        else:
            end = data.index(b"\x00", cursor)
            name = data[cursor:end]
            entry_len = end - pos + 1
            pos += (entry_len + 7) // 8 * 8
        previous = name
        entries.append(IndexEntry(name.decode("utf-8", "surrogateescape"), mtime_s, mtime_ns, size))
    return entries
