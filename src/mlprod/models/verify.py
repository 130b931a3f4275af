"""Checking a registry against its own event log: the verdict and the replay behind it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlprod._internal import render
from mlprod._internal.canonical import canonical_json

__all__ = ["Problem", "RegistryVerification", "replay"]


@dataclass(frozen=True)
class Problem:
    """One thing :meth:`~mlprod.ModelRegistry.verify` found wrong.

    ``kind`` is one of ``event_chain``, ``head_mismatch``, ``manifest_mismatch``,
    ``version_not_in_log``, ``version_missing``, ``tags_mismatch``,
    ``alias_mismatch``, ``alias_history_mismatch``, ``lineage_index_mismatch``,
    ``database_damaged``, ``artifact_missing``, ``artifact_corrupt``; ``subject``
    names the row, event or file.
    """

    kind: str
    subject: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """Plain data."""
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail}


@dataclass(frozen=True)
class RegistryVerification:
    """The result of :meth:`mlprod.ModelRegistry.verify`.

    Attributes
    ----------
    ok:
        ``True`` when the event chain verifies, the tables agree with it, and
        every artifact is present with its recorded digest.
    events, versions, artifacts:
        How many of each were checked.
    head:
        Hash of the last event: keep it elsewhere to detect a rewrite of the
        whole log.
    problems:
        Every failure found, each naming what is wrong and where.
    orphans:
        Stored artifacts no version refers to: left by a write that failed
        before its metadata was committed, or by a registration still running.
        They do not fail ``ok``.
    leftovers:
        Temporary files of artifact writes that stopped more than an hour
        ago: a process was killed mid-write. They hold no version's data, do
        not fail ``ok``, and can be deleted. Younger ones are writes still
        running and are not listed.

    Examples
    --------
    >>> import mlprod as mp, tempfile
    >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
    >>> _ = reg.register("churn", {"w": 1})
    >>> result = reg.verify()
    >>> result.ok, result.events, result.problems
    (True, 1, ())
    """

    __module__ = "mlprod"

    ok: bool
    events: int
    versions: int
    artifacts: int
    head: str
    problems: tuple[Problem, ...] = ()
    orphans: tuple[str, ...] = ()
    chain: Mapping[str, Any] = field(default_factory=dict, hash=False)  # dicts do not hash
    leftovers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "ok": self.ok,
            "events": self.events,
            "versions": self.versions,
            "artifacts": self.artifacts,
            "head": self.head,
            "problems": [p.to_dict() for p in self.problems],
            "orphans": list(self.orphans),
            "leftovers": list(self.leftovers),
            "chain": dict(self.chain),
        }

    def _document(self) -> render.Document:
        sections = []
        if self.problems:
            sections.append(
                render.Section(
                    "Problems",
                    table=render.Table(
                        ["kind", "subject", "detail"],
                        [[p.kind, p.subject, p.detail] for p in self.problems],
                    ),
                )
            )
        if self.orphans:
            sections.append(
                render.Section(
                    "Orphaned artifacts",
                    text="Stored but referenced by no version: a write failed before "
                    "its metadata was committed, or a registration was still running. "
                    "Delete them only while no one registers.",
                    table=render.Table(["artifact"], [[o] for o in self.orphans]),
                )
            )
        if self.leftovers:
            sections.append(
                render.Section(
                    "Unfinished artifact writes",
                    text="Temporary files left by writes that stopped over an hour ago (a "
                    "process killed mid-write). No version refers to them; they can be "
                    "deleted. Writes still running are not listed.",
                    table=render.Table(["file"], [[f] for f in self.leftovers]),
                )
            )
        return render.Document(
            "Registry verification",
            self.ok,
            {
                "events": self.events,
                "versions": self.versions,
                "artifacts": self.artifacts,
                "head": self.head,
            },
            sections,
        )

    def summary(self) -> str:
        """Text for terminals."""
        return render.to_text(self._document())

    def _repr_html_(self) -> str:
        return render.to_html(self._document())

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        kinds = sorted({p.kind for p in self.problems})
        return (
            f"RegistryVerification(ok={self.ok}, events={self.events}, versions={self.versions}, "
            f"artifacts={self.artifacts}, problems={kinds}, orphans={len(self.orphans)}, "
            f"leftovers={len(self.leftovers)})"
        )


@dataclass
class Expected:
    """The state the event log says the tables must hold."""

    versions: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    aliases: dict[tuple[str, str], int] = field(default_factory=dict)
    history: dict[int, tuple[Any, ...]] = field(default_factory=dict)


def history_key(
    name: str,
    alias: str,
    version: int | None,
    previous: int | None,
    ts: float,
    actor: str | None,
    reason: str,
    verdicts: str,
) -> tuple[Any, ...]:
    """The comparable form of one alias-history row."""
    return (name, alias, version, previous, float(ts), actor, reason, verdicts)


def _apply(exp: Expected, rec: Mapping[str, Any], seq: int, ts: float) -> Problem | None:
    kind = rec["event"]
    if kind == "model.registered":
        exp.versions[(str(rec["name"]), int(rec["version"]))] = {
            "digest": rec["digest"],
            "tags": dict(rec.get("tags") or {}),
            "description": rec.get("description", ""),
        }
    elif kind in ("tag.set", "tag.deleted", "description.set"):
        entry = exp.versions.get((str(rec["name"]), int(rec["version"])))
        if entry is None:
            return Problem("event_chain", f"event {seq}", "changes a version never registered")
        if kind == "tag.set":
            entry["tags"][rec["key"]] = rec["value"]
        elif kind == "tag.deleted":
            entry["tags"].pop(rec["key"], None)
        else:
            entry["description"] = rec["description"]
    elif kind in ("alias.set", "alias.deleted"):
        version = rec.get("version") if kind == "alias.set" else None
        key = (str(rec["name"]), str(rec["alias"]))
        if version is None:
            exp.aliases.pop(key, None)
        else:
            exp.aliases[key] = int(version)
        exp.history[seq] = history_key(
            rec["name"],
            rec["alias"],
            version,
            rec.get("previous"),
            ts,
            rec.get("actor"),
            rec.get("reason", ""),
            canonical_json(rec.get("verdicts", [])).decode("utf-8"),
        )
    return None


def replay(lines: Iterable[bytes]) -> tuple[Expected, list[Problem]]:
    """Rebuild the expected tables from the event lines."""
    exp = Expected()
    problems: list[Problem] = []
    for index, raw in enumerate(lines):
        try:
            env = json.loads(raw)
            problem = _apply(exp, env["record"], int(env["seq"]), float(env["ts"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            problem = Problem("event_chain", f"event {index}", "the event cannot be read")
        if problem is not None:
            problems.append(problem)
    return exp, problems
