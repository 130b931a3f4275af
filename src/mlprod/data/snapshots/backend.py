"""File-system plumbing for :class:`~mlprod.DatasetStore`: atomic writes and locks.

A local directory gets real guarantees: every file appears whole or not at
all (written under a temporary name, flushed, then renamed over), and
version numbers are claimed under an inter-process file lock. Other fsspec
file systems get the same write-then-move sequence (object stores publish a
whole object on upload anyway) and a lock that holds within one process.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from mlprod.errors import StorageError

__all__ = ["Backend"]


@contextlib.contextmanager
def _storage_errors(path: str, operation: str) -> Iterator[None]:
    """Turn a failed write (full disk, size limit, no permission) into a StorageError."""
    try:
        yield
    except StorageError:
        raise
    except (FileNotFoundError, FileExistsError, ValueError, TypeError, KeyError):
        raise
    except Exception as exc:  # a storage service's own errors (botocore's) are OSErrors too
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise StorageError(
            f"Could not {operation} {path}: {reason}. Nothing was committed and the previous "
            "versions are intact; free space (or raise the limit, fix permissions, or check "
            "that the storage service is reachable) and try again.",
            path=path,
            operation=f"{operation} dataset file",
            reason=reason,
        ) from exc


_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


class Backend:
    """One store root on one fsspec file system."""

    def __init__(
        self, root: str | os.PathLike[str], storage_options: dict[str, Any] | None = None
    ) -> None:
        import fsspec

        text = os.fspath(root)
        self.fs, self.root = fsspec.core.url_to_fs(text, **(storage_options or {}))
        self.root = self.root.rstrip("/") or "/"
        self.url = text
        protocol = self.fs.protocol
        self.local = "file" in (protocol if isinstance(protocol, tuple) else (protocol,))
        if self.local:
            self.root = os.path.abspath(self.root)
        with _storage_errors(self.root, "create the store folder"):
            self.fs.makedirs(self.root, exist_ok=True)

    def path(self, *parts: str) -> str:
        """The full path of ``parts`` under the root."""
        return "/".join([self.root, *parts])

    def exists(self, path: str) -> bool:
        with _storage_errors(path, "check"):
            return bool(self.fs.exists(path))

    def read_bytes(self, path: str) -> bytes:
        with _storage_errors(path, "read"):
            data: bytes = self.fs.cat_file(path)
        return data

    def list_names(self, folder: str) -> list[str]:
        """Base names of the entries directly in ``folder`` (empty if it does not exist)."""
        if not self.exists(folder):
            return []
        with _storage_errors(folder, "list"):
            return sorted(
                p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(folder, detail=False)
            )

    def write_atomic(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` so readers see the old file or the whole new one."""
        with _storage_errors(path, "write"):
            self._write_atomic(path, data)

    def _write_atomic(self, path: str, data: bytes) -> None:
        parent = path.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        try:
            if self.local:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            else:
                with self.fs.open(tmp, "wb") as fh:
                    fh.write(data)
                self.fs.mv(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError, OSError):
                if self.fs.exists(tmp):
                    self.fs.rm(tmp)

    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Write ``path`` only if it does not exist yet; ``False`` if it did."""
        with _storage_errors(path, "create"):
            return self._create_exclusive(path, data)

    def _create_exclusive(self, path: str, data: bytes) -> bool:
        if self.local:
            parent = os.path.dirname(path)
            os.makedirs(parent, exist_ok=True)
            tmp = os.path.join(parent, f".tmp-{uuid.uuid4().hex}")
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                try:
                    # link() refuses to overwrite: the file appears whole, exactly once
                    os.link(tmp, path)
                except FileExistsError:
                    return False
                return True
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        try:
            # A conditional create (S3 If-None-Match, a local "xb" open): one writer wins.
            self.fs.pipe_file(path, data, mode="create")
        except FileExistsError:
            return False
        except TypeError:  # a backend without create mode: check, then write whole
            if self.fs.exists(path):
                return False
            self._write_atomic(path, data)
        return True

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold the lock ``name``: across processes locally, within this process elsewhere."""
        key = f"{self.url}::{name}"
        with _PROCESS_LOCKS_GUARD:
            thread_lock = _PROCESS_LOCKS.setdefault(key, threading.Lock())
        with thread_lock:
            if not self.local:
                yield
                return
            from filelock import FileLock

            folder = self.path(".locks")
            os.makedirs(folder, exist_ok=True)
            with FileLock(os.path.join(folder, f"{name}.lock"), timeout=120):
                yield
