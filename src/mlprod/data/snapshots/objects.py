"""Where a version's data lives: objects named by the SHA-256 of their bytes.

``objects/ab/<sha256>.parquet`` holds exactly the bytes whose digest is its
name, so concurrent writers can never leave a manifest pointing at bytes it
did not record: equal bytes go to one name, different bytes to different
names. Stores written before this layout keyed objects by the frame's
fingerprint (``objects/ab/<fingerprint>.parquet``); those are still read.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mlprod.data.snapshots.backend import Backend

if TYPE_CHECKING:
    from mlprod.data.snapshots.version import DatasetVersion

__all__ = ["object_location", "referenced_objects", "write_object"]


def _path(backend: Backend, key: str) -> str:
    return backend.path("objects", key[:2], f"{key}.parquet")


def object_location(backend: Backend, version: DatasetVersion) -> str:
    """The path of ``version``'s data (its digest-named object, else the older layout's)."""
    if version.sha256:
        path = _path(backend, version.sha256)
        if backend.exists(path) or not version.object_key:
            return path
        legacy = _path(backend, version.object_key)
        if backend.exists(legacy):
            return legacy
        return path
    return _path(backend, version.object_key)


def write_object(backend: Backend, path: str, data: bytes) -> None:
    """Publish ``data`` at its digest-named ``path`` unless those bytes are already there."""
    if backend.exists(path):
        if backend.local:
            # Fresh again, so a concurrent gc's grace period protects it until the manifest lands.
            os.utime(path)
        return
    # Exclusive creation: a racing writer of the same bytes either wins or finds them whole.
    backend.create_exclusive(path, data)


def referenced_objects(backend: Backend, versions: list[DatasetVersion]) -> set[str]:
    """Paths of every object that some version points at."""
    return {object_location(backend, v) for v in versions}
