"""Content-addressed artifact stores: bytes kept under their SHA-256.

Both stores satisfy :class:`mlprod.protocols.ArtifactStore` and add
``digests()`` (every stored digest, for finding orphans), ``temporaries()``
(files of writes that have not finished, with their modification time) and
``where(digest)`` (a path people can look at, for error messages).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "open_artifact_store",
    "put_artifact",
    "write_durably",
]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _check(digest: str) -> str:
    if not _HEX64.match(digest):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    return digest


def _sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_durably(target: Path, data: bytes, *, fsync: bool = True) -> None:
    """Replace ``target`` with ``data`` atomically: a temporary file, synced, renamed.

    Readers see the old or the new content, never a part; on failure nothing
    is left behind.
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if fsync:
        # A rename is durable only once its folder is: otherwise a power cut can
        # lose the file while a committed record that names it survives.
        _fsync_folder(target.parent)


def _fsync_folder(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; NTFS journals renames itself
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


class LocalArtifactStore:
    """Artifacts in a local folder: ``<root>/sha256/ab/abcdef…``.

    Writes go to a temporary file in the same folder, are flushed to disk,
    then renamed into place and the folder synced, so a crash never leaves a
    partial file under a digest, nor loses one a committed version names.

    Examples
    --------
    >>> import tempfile, hashlib
    >>> from mlprod.models.storage.artifacts import LocalArtifactStore
    >>> store = LocalArtifactStore(tempfile.mkdtemp())
    >>> d = hashlib.sha256(b"hi").hexdigest()
    >>> store.put(d, b"hi"); store.get(d)
    b'hi'
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)

    def where(self, digest: str) -> str:
        """The file that holds ``digest``."""
        return str(self.root / "sha256" / digest[:2] / digest)

    def put(self, digest: str, data: bytes) -> None:
        """Store ``data`` under ``digest`` atomically, creating it only if absent.

        The bytes go to a synced temporary file that is then hard-linked under
        the digest, which fails if another writer got there first: the loser
        checks the winner's bytes and keeps them when intact (equal digests,
        equal bytes), so a stored file is never replaced under a reader. A
        damaged copy is replaced, so registering the same bytes again repairs
        it. Finding an intact copy refreshes its time, which :meth:`gc`'s grace
        period counts from.
        """
        target = Path(self.where(_check(digest)))
        if self._keep_existing(target, digest):
            return
        new_folder = not target.parent.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if self.fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                if not self._keep_existing(target, digest):
                    os.replace(tmp, target)
            except OSError:  # a file system without hard links: rename (same bytes either way)
                os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if self.fsync:
            _fsync_folder(target.parent)
            if new_folder:
                _fsync_folder(target.parent.parent)

    @staticmethod
    def _keep_existing(target: Path, digest: str) -> bool:
        try:
            intact = _sha256_file(target) == digest
        except FileNotFoundError:
            return False
        if intact:
            with contextlib.suppress(OSError):
                os.utime(target)
        return intact

    def get(self, digest: str) -> bytes:
        """The bytes under ``digest``; ``KeyError`` if absent."""
        try:
            return Path(self.where(_check(digest))).read_bytes()
        except FileNotFoundError:
            raise KeyError(digest) from None

    def exists(self, digest: str) -> bool:
        """Whether ``digest`` is stored."""
        return os.path.exists(self.where(_check(digest)))

    def digests(self) -> Iterator[str]:
        """Every digest stored (temporary files of unfinished writes excluded)."""
        base = self.root / "sha256"
        for sub in sorted(base.iterdir()) if base.exists() else ():
            if sub.is_dir():
                for f in sorted(sub.iterdir()):
                    if _HEX64.match(f.name):
                        yield f.name

    def modified(self, digest: str) -> float:
        """When ``digest`` was last written (or found present by a put), epoch seconds."""
        try:
            return Path(self.where(_check(digest))).stat().st_mtime
        except FileNotFoundError:
            raise KeyError(digest) from None

    def delete(self, digest: str) -> None:
        """Remove ``digest`` (a no-op when absent)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.where(_check(digest)))

    def delete_temporary(self, where: str) -> None:
        """Remove one file listed by :meth:`temporaries`."""
        path = Path(where)
        if path.parent.parent != self.root / "sha256" or not path.name.startswith(".tmp-"):
            raise ValueError(f"not a temporary file of this store: {where!r}")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def temporaries(self) -> Iterator[tuple[str, float]]:
        """Temporary files of writes not (yet) renamed into place: (path, modified epoch s).

        A running write has one for a moment; one that stays was left by a
        process killed mid-write.
        """
        base = self.root / "sha256"
        for sub in sorted(base.iterdir()) if base.exists() else ():
            if sub.is_dir():
                for f in sorted(sub.iterdir()):
                    if f.name.startswith(".tmp-"):
                        try:
                            yield str(f), f.stat().st_mtime
                        except FileNotFoundError:  # the write finished while we looked
                            continue

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"


class FsspecArtifactStore:
    """Artifacts under any fsspec URL (``s3://bucket/models``, ``gs://…``, ``file://…``).

    Object stores write whole objects atomically; on file systems a
    temporary name is written first and then moved into place.

    Examples
    --------
    >>> import hashlib
    >>> from mlprod.models.storage.artifacts import FsspecArtifactStore
    >>> store = FsspecArtifactStore("memory://doc-artifacts")
    >>> d = hashlib.sha256(b"hi").hexdigest()
    >>> store.put(d, b"hi"); store.exists(d)
    True
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec

        self.url = url
        self.fs, self.base = fsspec.core.url_to_fs(url, **storage_options)
        self.base = self.base.rstrip("/")
        self._local = "file" in (
            self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        )

    def _path(self, digest: str) -> str:
        return f"{self.base}/sha256/{digest[:2]}/{digest}"

    def where(self, digest: str) -> str:
        """The URL that holds ``digest``."""
        path = self._path(_check(digest))
        return path if self._local else str(self.fs.unstrip_protocol(path))

    def put(self, digest: str, data: bytes) -> None:
        """Store ``data`` under ``digest``.

        A no-op if an intact copy is present; a damaged one is replaced, so
        registering the same bytes again repairs it, as in the local store.
        """
        path = self._path(_check(digest))
        with _backend_errors_as_oserror():
            self._put(path, digest, data)

    def _put(self, path: str, digest: str, data: bytes) -> None:
        if self._intact(path, digest):
            return
        if self._local:
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            tmp = f"{path}.tmp-{os.getpid()}-{id(data)}"
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, path)
            return
        try:
            # A conditional create (S3 If-None-Match): of two writers of one
            # digest, one wins; the other checks the winner's bytes.
            self.fs.pipe_file(path, data, mode="create")
        except TypeError:  # a backend without create mode: objects are written whole
            self.fs.pipe_file(path, data)
        except FileExistsError:
            if not self._intact(path, digest):
                self.fs.pipe_file(path, data)

    def _intact(self, path: str, digest: str) -> bool:
        try:
            with self.fs.open(path, "rb") as fh:
                return hashlib.file_digest(fh, "sha256").hexdigest() == digest
        except FileNotFoundError:
            return False

    def get(self, digest: str) -> bytes:
        """The bytes under ``digest``; ``KeyError`` if absent."""
        try:
            with _backend_errors_as_oserror():
                return self.fs.cat_file(self._path(_check(digest)))  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise KeyError(digest) from None

    def exists(self, digest: str) -> bool:
        """Whether ``digest`` is stored."""
        return bool(self.fs.exists(self._path(_check(digest))))

    def modified(self, digest: str) -> float:
        """When ``digest`` was written, epoch seconds (``0.0`` if the backend does not say)."""
        try:
            info = self.fs.info(self._path(_check(digest)))
        except FileNotFoundError:
            raise KeyError(digest) from None
        found = _modified(info)
        return 0.0 if found is None else found

    def delete(self, digest: str) -> None:
        """Remove ``digest`` (a no-op when absent)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(_check(digest)))

    def delete_temporary(self, where: str) -> None:
        """Remove one file listed by :meth:`temporaries`."""
        path = self.fs._strip_protocol(where)
        if not path.startswith(f"{self.base}/sha256/") or ".tmp-" not in path.rsplit("/", 1)[-1]:
            raise ValueError(f"not a temporary file of this store: {where!r}")
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def digests(self) -> Iterator[str]:
        """Every digest stored."""
        root = f"{self.base}/sha256"
        if not self.fs.exists(root):
            return
        for path in sorted(self.fs.find(root)):
            name = path.rsplit("/", 1)[-1]
            if _HEX64.match(name):
                yield name

    def temporaries(self) -> Iterator[tuple[str, float]]:
        """Temporary files of writes not (yet) moved into place: (URL, modified epoch s).

        Only file systems have them (object stores write whole objects); one
        whose age the backend does not report is left out.
        """
        root = f"{self.base}/sha256"
        if not self.fs.exists(root):
            return
        found = self.fs.find(root, detail=True)
        for path in sorted(found):
            if ".tmp-" in path.rsplit("/", 1)[-1]:
                modified = _modified(found[path])
                if modified is not None:
                    yield (path if self._local else str(self.fs.unstrip_protocol(path))), modified

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.url!r})"


@contextlib.contextmanager
def _backend_errors_as_oserror() -> Iterator[None]:
    """A storage service's own errors (botocore's, gcsfs's) as the OSError they amount to."""
    try:
        yield
    except OSError:
        raise
    except Exception as exc:
        if isinstance(exc, ValueError | TypeError | KeyError):
            raise
        raise OSError(f"{type(exc).__name__}: {exc}") from exc


def _modified(info: dict[str, Any]) -> float | None:
    """Modification time in epoch seconds from an fsspec ``info`` dict, whatever the backend."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, dt.datetime):
            return value.timestamp()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return dt.datetime.fromisoformat(value).timestamp()
    return None


def put_artifact(store: Any, digest: str, data: bytes, where: str) -> None:
    """``store.put``, with a full disk or a refused write reported as a StorageError."""
    from mlprod.errors import StorageError

    try:
        store.put(digest, data)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise StorageError(
            f"Cannot write the model's artifact to {where}: {reason}. Nothing was registered "
            "(a partial file is cleaned up, or collected by reg.gc()). Free space, raise the "
            "file size limit or fix permissions, then register again.",
            path=where,
            operation="write artifact",
            reason=reason,
        ) from exc


def open_artifact_store(spec: Any) -> Any:
    """A store from a local path, an fsspec URL, or an object that already is one."""
    if isinstance(spec, str | os.PathLike):
        text = os.fspath(spec)
        if text.startswith("file://"):
            # The local store syncs what it writes; fsspec's file system does not.
            return LocalArtifactStore(text.removeprefix("file://"))
        if "://" in text:
            return FsspecArtifactStore(text)
        return LocalArtifactStore(text)
    missing = [m for m in ("put", "get", "exists") if not callable(getattr(spec, m, None))]
    if missing:
        from mlprod.errors import ConfigurationError

        raise ConfigurationError(
            f"artifacts={spec!r} is neither a path, an fsspec URL nor an ArtifactStore "
            f"(it lacks {missing}).",
            parameter="artifacts",
            value=repr(spec),
        )
    return spec
