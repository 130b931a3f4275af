"""Reading across versions: listing, search, the event log, lineage and verification."""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlprod._internal.canonical import canonical_json, sha256_bytes
from mlprod.audit import line_hash, verify_lines
from mlprod.errors import ConfigurationError
from mlprod.models import _inputs
from mlprod.models._core import RegistryCore, _check_name, _split
from mlprod.models._keyed import check_line
from mlprod.models.lineage import LineageGraph
from mlprod.models.storage.artifacts import write_durably
from mlprod.models.verify import Problem, RegistryVerification, replay
from mlprod.models.version import ModelVersion

__all__ = ["QueryOps"]

# Rows fetched at a time by search(): its memory follows the results kept,
# not the versions scanned.
_PAGE = 500

# No single artifact write takes this long, so a temporary file this old was
# abandoned by a killed process rather than being written now.
_WRITE_GRACE_S = 3600.0


class QueryOps(RegistryCore):
    """Listing, search, events, lineage and verification of :class:`mlprod.ModelRegistry`."""

    def names(self, *, archived: bool = False) -> list[str]:
        """Every registered model name, sorted (the listing pair is ``names``/``versions``).

        Names whose every version is archived or deleted are left out unless
        ``archived=True``.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.names()
        ['churn']
        """
        t, sa = self._t, self._sa
        query = sa.select(t.versions.c.name).distinct()
        if not archived:
            query = query.where(t.versions.c.digest.not_in(self._retired()))
        with self._sql.read() as conn:
            return sorted(r[0] for r in conn.execute(query))

    def versions(self, name: str, *, archived: bool = False) -> list[ModelVersion]:
        """Every version of ``name``, oldest first (archived and deleted: ``archived=True``).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> [v.version for v in reg.versions("churn")]
        [1, 2]
        """
        _check_name(name)
        t, sa = self._t, self._sa
        v = t.versions
        query = sa.select(v.c.manifest, v.c.tags, v.c.description, v.c.digest).where(
            v.c.name == name
        )
        if not archived:
            query = query.where(v.c.digest.not_in(self._retired()))
        with self._sql.read() as conn:
            rows = conn.execute(query.order_by(v.c.version)).all()
            if not rows and not archived:
                exists = conn.execute(sa.select(v.c.digest).where(v.c.name == name)).first()
                if exists is not None:
                    return []
            if not rows:
                raise self._not_found(conn, name, None)
        return [ModelVersion._from_row(*r) for r in rows]

    def list_models(self) -> list[str]:
        """Deprecated spelling of :meth:`names`."""
        warnings.warn(
            "ModelRegistry.list_models() is deprecated: use names().",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.names()

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Deprecated spelling of :meth:`versions`."""
        warnings.warn(
            "ModelRegistry.list_versions() is deprecated: use versions(name).",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.versions(name)

    def search(
        self,
        name: str | None = None,
        *,
        tags: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        archived: bool = False,
    ) -> list[ModelVersion]:
        """Find versions by name (``*`` wildcards), tags and metric conditions.

        The name and tag filters run in the database; metric conditions are
        checked on each remaining version as it is read, so memory follows
        the results kept (with ``limit``, at most that many), not the versions
        scanned.

        Parameters
        ----------
        name:
            Exact name or a pattern such as ``"churn-*"``; all models when omitted.
        tags:
            ``{key: value}`` that must all match (``value=None``: key present).
        metrics:
            ``{metric: condition}``; a condition is ``">= 0.8"``, ``"< 0.3"``,
            ``"== 1"``, a number (equality) or a callable on the value.
        order_by:
            ``"version"``, ``"created_at"`` or ``"metrics.<name>"``, ``-`` prefix for
            descending. Default: name, then version.
        limit:
            At most this many results.
        archived:
            Include archived and deleted versions.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}, metrics={"auc": 0.7})
        >>> _ = reg.register("churn", {"w": 2}, metrics={"auc": 0.9}, tags={"stage": "ok"})
        >>> [v.version for v in reg.search("churn", metrics={"auc": ">= 0.8"})]
        [2]
        """
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ConfigurationError(
                f"limit={limit!r}: pass a whole number of results, 0 or more (or None for all).",
                parameter="limit",
                value=repr(limit),
            )
        _search_args(name, tags, metrics)
        t, sa = self._t, self._sa
        v = t.versions
        query = sa.select(v.c.manifest, v.c.tags, v.c.description, v.c.digest)
        if not archived:
            query = query.where(v.c.digest.not_in(self._retired()))
        if name is not None:
            if "*" in name or "?" in name:
                pattern = _like_escaped(name).replace("*", "%").replace("?", "_")
                query = query.where(v.c.name.like(pattern, escape="\\"))
            else:
                query = query.where(v.c.name == name)
        for key, want in (tags or {}).items():
            fragment = _tag_fragment(key, want)
            if fragment is not None:
                query = query.where(v.c.tags.like("%" + _like_escaped(fragment) + "%", escape="\\"))
        query = query.order_by(v.c.name, v.c.version).execution_options(yield_per=_PAGE)
        conditions = {k: _inputs.condition(k, c) for k, c in (metrics or {}).items()}

        def matching(rows: Iterable[Any]) -> Iterator[ModelVersion]:
            for manifest_text, tags_text, description, digest in rows:
                mv = ModelVersion._from_row(manifest_text, tags_text, description, digest)
                if tags and any(
                    k not in mv.tags or (want is not None and mv.tags[k] != want)
                    for k, want in tags.items()
                ):
                    continue
                if conditions:
                    values = mv.metrics
                    if any(
                        k not in values or not cond(values[k]) for k, cond in conditions.items()
                    ):
                        continue
                yield mv

        with self._sql.read() as conn:
            return _inputs.first(matching(conn.execute(query)), order_by, limit)

    def _event_lines(self, conn: Any) -> list[str]:
        e = self._t.events
        return [r[0] for r in conn.execute(self._sa.select(e.c.line).order_by(e.c.seq))]

    def events(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """The event log as dicts (``seq``, ``ts``, ``prev``, ``record``, ``hash``), oldest first.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> [e["record"]["event"] for e in reg.events()]
        ['model.registered']
        """
        with self._sql.read() as conn:
            out = [json.loads(line) for line in self._event_lines(conn)]
        if name is not None:
            out = [x for x in out if x["record"].get("name") == name]
        return out

    def export_events(self, path: str | os.PathLike[str]) -> int:
        """Write the event log as an audit file; return the number of events written.

        The lines are the sealed records themselves, so
        :func:`mlprod.verify_audit_log` verifies the copy, and its head hash can
        be kept elsewhere to pin the registry's history. The file is replaced
        atomically.

        Examples
        --------
        >>> import mlprod as mp, tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> reg = mp.ModelRegistry(os.path.join(folder, "reg"))
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.export_events(os.path.join(folder, "events.jsonl"))
        1
        >>> mp.verify_audit_log(os.path.join(folder, "events.jsonl")).ok
        True
        """
        with self._sql.read() as conn:
            lines = self._event_lines(conn)
        write_durably(Path(path), b"".join(line.encode("utf-8") + b"\n" for line in lines))
        return len(lines)

    def lineage(
        self, ref: Any, version: int | str | None = None, *, depth: int | None = None
    ) -> LineageGraph:
        """The lineage graph around a model version or a dataset.

        Parameters
        ----------
        ref:
            A :class:`ModelVersion`, a name (with ``version``), ``"name:ref"``, ``(name, ref)``,
            or a dataset (``DatasetVersion``, ``Fingerprint``, frame) to see
            which models were trained on it.
        depth:
            How many parent/child hops to follow (all when omitted).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> base = reg.register("churn", {"w": 1})
        >>> _ = reg.register("churn", {"w": 2}, parents=[base])
        >>> [n.id for n in reg.lineage(base).downstream()]
        ['model:churn:2']
        """
        from mlprod.models._graph import build_lineage

        with self._sql.read() as conn:
            # A Fingerprint is a str subclass and means data; a plain str names a model.
            if isinstance(ref, ModelVersion | tuple) or type(ref) is str:
                name, ver = _split(ref, version)
                row = self._row(conn, name, ver)
                return build_lineage(self, conn, root_row=row, depth=depth)
            described = _inputs.datasets({"data": ref})["data"]
            return build_lineage(self, conn, dataset=described, depth=depth)

    def head(self) -> str:
        """The chain's head as ``"<events>:<hash of the last event>"``: store it elsewhere.

        Kept outside the database (a ticket, a commit, a secrets manager), it
        pins the history: ``verify(pinned_head=...)`` then fails if any event
        up to that point was rewritten, even by someone who re-sealed the
        whole chain and updated the database's own copy of the head.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> pin = reg.head()
        >>> pin.split(":")[0], reg.verify(pinned_head=pin).ok
        ('1', True)
        """
        with self._sql.read() as conn:
            lines = [line.encode("utf-8") for line in self._event_lines(conn)]
        chain = verify_lines(lines)
        return f"{chain.records}:{chain.head}"

    def verify(
        self, *, artifacts: bool = True, pinned_head: str | None = None
    ) -> RegistryVerification:
        """Check the event chain, the tables against the chain, and every artifact digest.

        Reports exactly what is wrong: a changed, deleted or reordered event
        (and which), a version row or alias that differs from what the log
        says, a manifest edited in place, lineage index rows that disagree with
        the manifests, a damaged SQLite file, a missing or altered artifact file.
        Artifacts no version refers to are listed as ``orphans``: left by a
        write that failed before its metadata was committed, or by a
        registration still running. Temporary files of artifact writes older
        than an hour are listed as ``leftovers``: a process was killed
        mid-write (younger ones may be writes in progress, so are left out).

        Parameters
        ----------
        artifacts:
            Also re-hash every artifact (reads every file).
        pinned_head:
            A head kept elsewhere (from :meth:`head` or ``mlprod registry head``,
            ``"<events>:<hash>"`` or just the hash): the chain must still hold
            that event at that position, so a rewritten and re-sealed history
            fails even when the database's own head was updated to match.

        On a keyed registry (``key=`` or ``$MLPROD_REGISTRY_KEY``) every event
        from the first signed one on must carry a MAC that verifies, and the
        last one must be signed; a chain re-sealed without the key fails.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> reg.verify().ok
        True
        """
        from mlprod.models._check import check_tables

        t, sa = self._t, self._sa
        problems: list[Problem] = []
        listing = getattr(self._store, "digests", None)
        # Listed before the tables are read, so a registration that commits
        # meanwhile is not reported as an orphan: its artifact is either
        # missing from this listing or referenced by what is read next.
        stored = list(listing()) if artifacts and callable(listing) else []
        with self._sql.read() as conn:
            lines = [line.encode("utf-8") for line in self._event_lines(conn)]
            head_row = conn.execute(
                sa.select(t.meta.c.next_seq, t.meta.c.head).where(t.meta.c.id == 1)
            ).one()
            chain = verify_lines(lines)
            if not chain.ok:
                problems.append(Problem("event_chain", f"event {chain.first_bad}", chain.detail))
            elif (chain.records, chain.head) != (int(head_row.next_seq), str(head_row.head)):
                problems.append(
                    Problem(
                        "head_mismatch",
                        "events",
                        f"the log holds {chain.records} events ending in {chain.head[:12]}…, "
                        f"but the registry recorded {head_row.next_seq} ending in "
                        f"{str(head_row.head)[:12]}…: events at the end were deleted or added",
                    )
                )
            if self._sql.sqlite:
                # Pages that no query below reads (an index, say) are checked here.
                damage = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(20)")]
                if damage != ["ok"]:
                    problems.append(
                        Problem(
                            "database_damaged",
                            str(self._sql.engine.url.database),
                            "SQLite finds the file damaged: " + "; ".join(damage),
                        )
                    )
            problems += _check_pin(lines, pinned_head)
            if self._key is not None:
                problems += _check_macs(self._key, lines)
            expected, replay_problems = replay(lines)
            problems += replay_problems
            versions, referenced, table_problems = check_tables(self, conn, expected)
            problems += table_problems
        checked = len(referenced) if artifacts else 0
        if artifacts:
            problems += self._check_artifacts(referenced)
        orphans = [self._where(d) for d in stored if d not in referenced]
        temporaries = getattr(self._store, "temporaries", None)
        # File times are wall-clock, whatever clock the registry was given.
        cutoff = time.time() - _WRITE_GRACE_S
        leftovers = (
            [where for where, modified in temporaries() if modified < cutoff]
            if artifacts and callable(temporaries)
            else []
        )
        return RegistryVerification(
            ok=not problems,
            events=chain.records,
            versions=versions,
            artifacts=checked,
            head=chain.head,
            problems=tuple(problems),
            orphans=tuple(orphans),
            chain=chain.to_dict(),
            leftovers=tuple(leftovers),
        )

    def _check_artifacts(self, referenced: Mapping[str, tuple[str, str]]) -> list[Problem]:
        """Re-hash every artifact a version names: digest -> (version ref, file name)."""
        problems = []
        for digest, (ref, filename) in sorted(referenced.items()):
            where = self._where(digest)
            try:
                data = self._store.get(digest)
            except KeyError:
                problems.append(
                    Problem("artifact_missing", where, f"{filename} of {ref} is missing")
                )
                continue
            actual = sha256_bytes(data)
            if actual != digest:
                problems.append(
                    Problem(
                        "artifact_corrupt",
                        where,
                        f"{filename} of {ref} changed: expected sha256 {digest[:12]}…, "
                        f"found {actual[:12]}…",
                    )
                )
        return problems


def _search_args(name: Any, tags: Any, metrics: Any) -> None:
    if name is not None and not isinstance(name, str):
        raise ConfigurationError(
            f"search(name={name!r}): pass a model name or a pattern such as 'churn-*' as text.",
            parameter="name",
            value=repr(name),
        )
    for label, given, example in (
        ("tags", tags, "{'team': 'risk'} (value None: the key is present)"),
        ("metrics", metrics, "{'auc': '>= 0.8'}"),
    ):
        if given is not None and not isinstance(given, Mapping):
            raise ConfigurationError(
                f"search({label}={given!r}): pass a mapping such as {example}.",
                parameter=label,
                value=repr(given)[:200],
            )


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _tag_fragment(key: Any, want: Any) -> str | None:
    """Text every stored tags value matching ``{key: want}`` contains, for a LIKE in SQL.

    Tags are stored as canonical JSON, so a match holds ``"key":"value"`` for a
    text value and at least ``"key":`` otherwise (``1 == 1.0 == True`` in
    Python, and those are written differently). The LIKE only narrows the rows
    read; each one left is still compared in Python, so a looser match (SQLite's
    LIKE ignores ASCII case) changes nothing in the results.
    """
    if not isinstance(key, str):
        return None
    if isinstance(want, str):
        return canonical_json({key: want}).decode("utf-8")[1:-1]
    return canonical_json({key: None}).decode("utf-8")[1:-1].removesuffix("null")


def _check_pin(lines: list[bytes], pinned: str | None) -> list[Problem]:
    if pinned is None:
        return []
    text = str(pinned).strip()
    count, _, digest = text.rpartition(":")
    if not re.fullmatch(r"[0-9a-f]{64}", digest) or (count and not count.isdigit()):
        raise ConfigurationError(
            f"pinned_head={pinned!r} is not a head: pass what reg.head() or `mlprod registry "
            "head` printed, '<events>:<64 hex digits>'.",
            parameter="pinned_head",
            value=text[:100],
        )
    if count and int(count) == 0:
        return []  # pinned before the first event: every history extends it
    hashes = [line_hash(line) if len(line) > 66 else "" for line in lines]
    if count:
        at = int(count) - 1
        if at < len(hashes) and hashes[at] == digest:
            return []
        detail = (
            f"event {at} should end the pinned history with hash {digest[:12]}… but "
            + (f"the log holds {len(hashes)} events" if at >= len(hashes) else "it differs")
            + ": the history up to the pin was rewritten or cut"
        )
    elif digest in hashes:
        return []
    else:
        detail = f"no event hashes to the pinned {digest[:12]}…: the history was rewritten"
    return [Problem("pinned_head", "events", detail)]


def _check_macs(key: bytes, lines: list[bytes]) -> list[Problem]:
    signed = [i for i, line in enumerate(lines) if b'"mac":{' in line]
    if not lines:
        return []
    problems = []
    start = signed[0] if signed else len(lines) - 1
    for index in range(start, len(lines)):
        problem = check_line(key, lines[index])
        if problem is not None:
            problems.append(Problem("event_signature", f"event {index}", problem))
    if not signed and not problems:
        problems.append(Problem("event_signature", "events", "no event is signed"))
    if not signed:
        problems[-1] = Problem(
            "event_signature",
            problems[-1].subject,
            problems[-1].detail + "; if this registry predates its key, check its history with "
            "verify(pinned_head=...) and then call reg.adopt_key()",
        )
    return problems
