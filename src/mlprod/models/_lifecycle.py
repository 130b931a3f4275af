"""Retiring versions (archive, delete) and collecting what nothing references (gc)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from mlprod._internal import render
from mlprod._internal.logging import get_logger
from mlprod.errors import ConfigurationError, NotFound
from mlprod.models._core import RegistryCore, _split, _text, _who
from mlprod.models.version import ModelVersion

__all__ = ["GcReport", "LifecycleOps"]

_log = get_logger("mlprod.registry")


@dataclass(frozen=True)
class GcReport(render.Rendered):
    """What :meth:`mlprod.ModelRegistry.gc` removed, or would remove in a dry run.

    Attributes
    ----------
    dry_run:
        ``True`` when nothing was removed (the default): the lists say what would be.
    artifacts:
        Stored artifacts no version references, older than the grace period.
    temporaries:
        Temporary files of writes that stopped (killed processes), older than the grace period.
    kept_young:
        Unreferenced files younger than the grace period: possibly a
        registration still running, so left alone.
    freed_bytes:
        Bytes in the removed (or removable) artifacts.

    Examples
    --------
    >>> import mlprod as mp, tempfile
    >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
    >>> _ = reg.register("churn", {"w": 1})
    >>> report = reg.gc()
    >>> report.dry_run, report.artifacts
    (True, ())
    """

    __module__ = "mlprod"

    dry_run: bool
    grace_s: float
    artifacts: tuple[str, ...]
    temporaries: tuple[str, ...]
    kept_young: int
    freed_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "dry_run": self.dry_run,
            "grace_s": self.grace_s,
            "artifacts": list(self.artifacts),
            "temporaries": list(self.temporaries),
            "kept_young": self.kept_young,
            "freed_bytes": self.freed_bytes,
        }

    def _document(self, **options: Any) -> render.Document:
        verb = "Would remove" if self.dry_run else "Removed"
        sections = []
        if self.artifacts:
            sections.append(
                render.Section(
                    f"{verb}: unreferenced artifacts",
                    table=render.Table(["artifact"], [[a] for a in self.artifacts]),
                )
            )
        if self.temporaries:
            sections.append(
                render.Section(
                    f"{verb}: temporary files of stopped writes",
                    table=render.Table(["file"], [[f] for f in self.temporaries]),
                )
            )
        if self.dry_run and (self.artifacts or self.temporaries):
            sections.append(
                render.Section("Next", text="Run reg.gc(dry_run=False) to remove them.")
            )
        return render.Document(
            "Registry garbage collection" + (" (dry run)" if self.dry_run else ""),
            None,
            {
                "artifacts": len(self.artifacts),
                "temporaries": len(self.temporaries),
                "bytes": self.freed_bytes,
                "kept (younger than the grace period)": self.kept_young,
                "grace period (s)": self.grace_s,
            },
            sections,
        )

    def __repr__(self) -> str:
        return (
            f"GcReport(dry_run={self.dry_run}, artifacts={len(self.artifacts)}, "
            f"temporaries={len(self.temporaries)}, freed_bytes={self.freed_bytes})"
        )


class LifecycleOps(RegistryCore):
    """Archive, delete and gc of :class:`mlprod.ModelRegistry`."""

    @staticmethod
    def _deleted(mv: ModelVersion) -> NotFound:
        return NotFound(
            "version",
            mv.ref,
            hint=f"{mv.ref} was deleted (its record stays; reg.events() says when and by "
            "whom); load another version.",
        )

    def _retire(
        self, name: Any, version: Any, state: str, actor: Any, reason: Any
    ) -> tuple[ModelVersion, list[str]]:
        name, version = _split(name, version)
        _text(reason, "reason")
        who = _who(actor)
        t, sa = self._t, self._sa
        with self._sql.write() as w:
            row = self._row(w.conn, name, version)
            mv = ModelVersion._from_row(row.manifest, row.tags, row.description, row.digest)
            current = self._state(w.conn, mv.digest)
            if current == "deleted" or current == state:
                raise ConfigurationError(
                    f"{mv.ref} is already {current}.", parameter="version", value=mv.ref
                )
            a = t.aliases
            held = [
                r[0]
                for r in w.conn.execute(
                    sa.select(a.c.alias).where(a.c.name == mv.name, a.c.version == mv.version)
                )
            ]
            if held:
                raise ConfigurationError(
                    f"Cannot {state[:-1]} {mv.ref}: aliases {sorted(held)} point at it, and "
                    "a serving system may load them. Move or delete those aliases first "
                    "(reg.set_alias / reg.delete_alias).",
                    parameter="version",
                    value=mv.ref,
                )
            seq = w.event(
                {
                    "event": f"model.{state}",
                    "name": mv.name,
                    "version": mv.version,
                    "digest": mv.digest,
                    "actor": who,
                    "reason": reason,
                },
                ts=w.moment(self._now()),
            )
            lc = t.lifecycle
            updated = w.conn.execute(
                lc.update().where(lc.c.digest == mv.digest).values(state=state, changed_seq=seq)
            ).rowcount
            if not updated:  # a version from before the lifecycle table
                w.conn.execute(lc.insert().values(digest=mv.digest, state=state, changed_seq=seq))
            removable: list[str] = []
            if state == "deleted":
                removable = [
                    d for d in self._artifact_digests(mv) if not self._still_used(w.conn, d)
                ]
        return mv, removable

    @staticmethod
    def _artifact_digests(mv: ModelVersion) -> list[str]:
        return [str(info["sha256"]) for info in mv.artifacts.values()]

    def _still_used(self, conn: Any, artifact: str) -> bool:
        """Whether a version not deleted names ``artifact``."""
        return artifact in self._referenced(conn)

    def _referenced(self, conn: Any) -> set[str]:
        t, sa = self._t, self._sa
        v, lc = t.versions, t.lifecycle
        deleted = sa.select(lc.c.digest).where(lc.c.state == "deleted")
        found: set[str] = set()
        for (text,) in conn.execute(sa.select(v.c.manifest).where(v.c.digest.not_in(deleted))):
            try:
                import json

                for info in (json.loads(text).get("artifacts") or {}).values():
                    found.add(str(info.get("sha256")))
            except (ValueError, AttributeError):
                continue  # verify() reports a manifest that does not read
        return found

    def archive(
        self,
        name: Any,
        version: int | str | None = None,
        *,
        actor: str | None = None,
        reason: str = "",
    ) -> ModelVersion:
        """Hide a version from listings, search and ``latest`` (an event on the chain).

        The version stays sealed and loadable by its number; its artifact is
        kept. A version an alias points at cannot be archived.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> _ = reg.archive("churn", 2, reason="bad calibration")
        >>> [v.version for v in reg.versions("churn")], reg.get("churn").version
        ([1], 1)
        >>> reg.load("churn", 2), reg.verify().ok
        ({'w': 2}, True)
        """
        mv, _ = self._retire(name, version, "archived", actor, reason)
        _log.info("registry.archived", ref=mv.ref, actor=_who(actor))
        return mv

    def delete_version(
        self,
        name: Any,
        version: int | str | None = None,
        *,
        actor: str | None = None,
        reason: str = "",
    ) -> ModelVersion:
        """Delete a version: its record stays on the chain, its artifact goes if unreferenced.

        An event records who deleted it and why; the version's number is never
        reused, ``load`` refuses it, and its artifact file is removed unless
        another version names the same bytes. ``verify()`` still passes.
        A version an alias points at cannot be deleted.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> _ = reg.delete_version("churn", 1, reason="trained on leaked labels")
        >>> [v.version for v in reg.versions("churn")], reg.verify().ok
        ([2], True)
        """
        mv, removable = self._retire(name, version, "deleted", actor, reason)
        delete = getattr(self._store, "delete", None)
        removed = []
        if callable(delete):
            # After the commit: a crash here leaves an orphan for gc(), never a live
            # version without its file.
            for digest in removable:
                delete(digest)
                removed.append(self._where(digest))
        _log.info("registry.deleted", ref=mv.ref, actor=_who(actor), removed=removed)
        return mv

    def gc(self, *, grace: float = 86_400.0, dry_run: bool = True) -> GcReport:
        """Remove artifacts no version references and temporary files of stopped writes.

        Only files older than ``grace`` seconds (default one day) go, so an
        artifact whose registration is still running is never touched. A dry
        run (the default) removes nothing and reports what would go; every
        removal is logged (``registry.gc.removed``).

        Parameters
        ----------
        grace:
            Minimum age in seconds of a file to remove (file times are wall-clock).
        dry_run:
            ``False`` to remove.

        Examples
        --------
        >>> import mlprod as mp, tempfile, hashlib
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.artifacts.put(hashlib.sha256(b"x").hexdigest(), b"x")  # an orphan
        >>> reg.gc(grace=0).artifacts == (reg._where(hashlib.sha256(b"x").hexdigest()),)
        True
        >>> reg.gc(grace=0, dry_run=False).freed_bytes, len(reg.gc(grace=0).artifacts)
        (1, 0)
        """
        if (
            isinstance(grace, bool)
            or not isinstance(grace, int | float)
            or not (math.isfinite(grace) and grace >= 0)
        ):
            raise ConfigurationError(
                f"grace={grace!r}: pass the minimum age in seconds (0 or more) of a file to "
                "remove; the default is a day.",
                parameter="grace",
                value=repr(grace),
            )
        store = self._store
        needed = ("digests", "modified", "delete", "temporaries", "delete_temporary")
        missing = [m for m in needed if not callable(getattr(store, m, None))]
        if missing:
            raise ConfigurationError(
                f"The artifact store {store!r} cannot be collected: it lacks {missing}. "
                "Collect it with the store's own tools.",
                parameter="artifacts",
                value=repr(store),
            )
        cutoff = time.time() - float(grace)
        listed = list(store.digests())  # before the tables: a new version is then seen
        with self._sql.read() as conn:
            referenced = self._referenced(conn)
        old, young, size = [], 0, 0
        for digest in listed:
            if digest in referenced:
                continue
            try:
                modified = store.modified(digest)
            except KeyError:
                continue
            if modified < cutoff:
                old.append(digest)
            else:
                young += 1
        temps = [where for where, modified in store.temporaries() if modified < cutoff]
        removed: list[str] = []
        for digest in old:
            where = self._where(digest)
            try:
                size += len(store.get(digest))
            except KeyError:
                continue
            if not dry_run:
                if store.modified(digest) >= cutoff:  # a register() found and touched it
                    continue
                store.delete(digest)
                _log.info("registry.gc.removed", artifact=where)
            removed.append(where)
        for where in temps:
            if not dry_run:
                store.delete_temporary(where)
                _log.info("registry.gc.removed", temporary=where)
        return GcReport(
            dry_run=bool(dry_run),
            grace_s=float(grace),
            artifacts=tuple(removed),
            temporaries=tuple(temps),
            kept_young=young,
            freed_bytes=size,
        )

    def adopt_key(self, *, actor: str | None = None) -> int:
        """Sign the current history with the registry's key (one signed event); return its seq.

        For a registry that predates its key: the event's MAC covers the hash
        of every event before it, so from now on a re-sealed history fails
        ``verify()`` and ``load()``. Check the history first (keep its head
        elsewhere and ``verify(pinned_head=...)``): what this signs is trusted.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> _ = mp.ModelRegistry(folder, key=False).register("churn", {"w": 1})
        >>> reg = mp.ModelRegistry(folder, key="a-key-of-at-least-16-bytes")
        >>> reg.verify().ok
        False
        >>> reg.adopt_key(actor="ops"), reg.verify().ok
        (1, True)
        """
        if self._key is None:
            raise ConfigurationError(
                "This registry was opened without a key: pass key=... or set "
                "$MLPROD_REGISTRY_KEY (or $MLPROD_REGISTRY_KEY_FILE) first.",
                parameter="key",
            )
        with self._sql.write() as w:
            return w.event(
                {"event": "registry.keyed", "actor": _who(actor)}, ts=w.moment(self._now())
            )
