"""Collecting a dataset store: objects no version references, and leftovers of killed writes."""

from __future__ import annotations

import datetime as _dt
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlprod._internal import render
from mlprod._internal.logging import get_logger
from mlprod.data.snapshots.objects import referenced_objects
from mlprod.errors import ConfigurationError

if TYPE_CHECKING:
    from mlprod.data.snapshots.backend import Backend

__all__ = ["StoreGcReport", "collect"]

_log = get_logger("mlprod.datasets")


@dataclass(frozen=True)
class StoreGcReport(render.Rendered):
    """What :meth:`mlprod.DatasetStore.gc` removed (or, in a dry run, would remove).

    Attributes
    ----------
    dry_run:
        ``True`` when nothing was deleted.
    grace_s:
        Only files older than this many seconds were eligible.
    objects:
        Data files no version references.
    temporaries:
        Temporary files of writes that stopped (a killed process).
    kept_young:
        Unreferenced files younger than the grace period (a commit may be running).
    freed_bytes:
        The size of what was (or would be) removed.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp, tempfile
    >>> store = mp.DatasetStore(tempfile.mkdtemp())
    >>> _ = store.commit(pd.DataFrame({"a": [1]}), name="train")
    >>> store.gc(grace=0).objects
    ()
    """

    __module__ = "mlprod"

    dry_run: bool
    grace_s: float
    objects: tuple[str, ...] = ()
    temporaries: tuple[str, ...] = ()
    kept_young: int = 0
    freed_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "dry_run": self.dry_run,
            "grace_s": self.grace_s,
            "objects": list(self.objects),
            "temporaries": list(self.temporaries),
            "kept_young": self.kept_young,
            "freed_bytes": self.freed_bytes,
        }

    def _document(self, **options: Any) -> render.Document:
        rows = [["object", p] for p in self.objects] + [["temporary", p] for p in self.temporaries]
        sections = []
        if rows:
            verb = "Would remove" if self.dry_run else "Removed"
            sections.append(
                render.Section(verb, "", render.Table(columns=["kind", "path"], rows=rows))
            )
        return render.Document(
            "Dataset store gc" + (" (dry run)" if self.dry_run else ""),
            facts={
                "objects": len(self.objects),
                "temporaries": len(self.temporaries),
                "kept (younger than grace)": self.kept_young,
                "freed bytes": self.freed_bytes,
            },
            sections=sections,
        )


def _modified(info: dict[str, Any]) -> float:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, _dt.datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
    return time.time()  # unknown age: treat as young, never delete it


def _files(backend: Backend, folder: str) -> dict[str, dict[str, Any]]:
    if not backend.exists(folder):
        return {}
    found: dict[str, dict[str, Any]] = backend.fs.find(folder, detail=True)
    return {backend.fs._strip_protocol(p) if not backend.local else p: i for p, i in found.items()}


def collect(store: Any, *, grace: float, dry_run: bool) -> StoreGcReport:
    """Remove (or list) unreferenced objects and stale temporaries older than ``grace`` seconds."""
    if (
        isinstance(grace, bool)
        or not isinstance(grace, int | float)
        or not (math.isfinite(grace) and grace >= 0)
    ):
        raise ConfigurationError(
            f"grace={grace!r}: pass the minimum age in seconds (0 or more) of a file to "
            "remove, e.g. grace=86400 for a day.",
            parameter="grace",
            value=repr(grace),
        )
    backend = store._backend
    cutoff = time.time() - float(grace)
    objects = _files(backend, backend.path("objects"))  # listed before the versions
    versions = [store._read_version(n, v) for n in store.names() for v in store._version_numbers(n)]
    referenced = {p.rstrip("/") for p in referenced_objects(backend, versions)}
    referenced_stems = {p.removesuffix(".parquet") for p in referenced}
    old: list[tuple[str, int]] = []
    temps: list[tuple[str, int]] = []
    young = 0
    for path, info in sorted(objects.items()):
        name = path.rsplit("/", 1)[-1]
        if name.startswith(".tmp-"):
            if _modified(info) < cutoff:
                temps.append((path, int(info.get("size") or 0)))
            continue
        if path in referenced or path.rsplit(".", 1)[0] in referenced_stems:
            continue
        if _modified(info) < cutoff:
            old.append((path, int(info.get("size") or 0)))
        else:
            young += 1
    for path, info in sorted(_files(backend, backend.path("datasets")).items()):
        if path.rsplit("/", 1)[-1].startswith(".tmp-") and _modified(info) < cutoff:
            temps.append((path, int(info.get("size") or 0)))
    if not dry_run:
        for path, _ in old:
            backend.fs.rm(path)
            _log.info("datasets.gc.removed", object=path)
        for path, _ in temps:
            backend.fs.rm(path)
            _log.info("datasets.gc.removed", temporary=path)
    return StoreGcReport(
        dry_run=bool(dry_run),
        grace_s=float(grace),
        objects=tuple(p for p, _ in old),
        temporaries=tuple(p for p, _ in temps),
        kept_young=young,
        freed_bytes=sum(s for _, s in old + temps),
    )
