"""Comparing the registry's tables with the state its event log implies."""

from __future__ import annotations

import json
from typing import Any

from mlprod._internal.canonical import canonical_json, sha256_bytes
from mlprod.models._inputs import dataset_keys
from mlprod.models.verify import Expected, Problem, history_key

__all__ = ["check_tables"]


def check_tables(
    reg: Any, conn: Any, expected: Expected
) -> tuple[int, dict[str, tuple[str, str]], list[Problem]]:
    """Return (versions checked, artifact digest -> (version ref, file), problems)."""
    sa, t = reg._sa, reg._t
    problems: list[Problem] = []
    referenced: dict[str, tuple[str, str]] = {}
    v = t.versions
    rows = conn.execute(
        sa.select(v.c.name, v.c.version, v.c.digest, v.c.manifest, v.c.tags, v.c.description)
    ).all()
    seen: set[tuple[str, int]] = set()
    lc = t.lifecycle
    lifecycle = {
        r.digest: (r.registered_seq, r.state)
        for r in conn.execute(sa.select(lc.c.digest, lc.c.registered_seq, lc.c.state))
    }
    # What the lineage index tables must hold, derived from the sealed manifests.
    # (None: the manifest is already reported as tampered, so there is nothing to derive.)
    index: dict[str, tuple[str, list[tuple[str, ...]] | None]] = {}
    for row in rows:
        ref = f"{row.name}:{row.version}"
        key = (row.name, int(row.version))
        seen.add(key)
        actual = sha256_bytes(row.manifest.encode("utf-8"))
        if actual != row.digest:
            problems.append(
                Problem(
                    "manifest_mismatch",
                    ref,
                    f"the manifest hashes to {actual[:12]}… but the version is sealed as "
                    f"{row.digest[:12]}…: it was edited after registration",
                )
            )
        index[row.digest] = (ref, None)
        try:
            manifest = json.loads(row.manifest)
        except ValueError:
            continue
        if (manifest.get("name"), manifest.get("version")) != key:
            problems.append(
                Problem(
                    "manifest_mismatch",
                    ref,
                    f"the row says {ref} but its manifest is "
                    f"{manifest.get('name')}:{manifest.get('version')}",
                )
            )
        want = expected.versions.get(key)
        state = (want or {}).get("state") or lifecycle.get(row.digest, (None, "live"))[1]
        if state != "deleted":  # a deleted version's artifact may be gone: that is the point
            for filename, info in (manifest.get("artifacts") or {}).items():
                referenced.setdefault(str(info.get("sha256")), (ref, filename))
        if actual == row.digest:
            index[row.digest] = (ref, _index_rows(manifest))
        if want is None:
            problems.append(
                Problem("version_not_in_log", ref, "no registration event records this version")
            )
            continue
        if want["digest"] != row.digest:
            problems.append(
                Problem(
                    "version_not_in_log",
                    ref,
                    f"the log registered digest {want['digest'][:12]}… but the table holds "
                    f"{row.digest[:12]}…",
                )
            )
        try:
            stored_tags = canonical_json(json.loads(row.tags))
        except ValueError:
            stored_tags = b"(not JSON)"
        if canonical_json(want["tags"]) != stored_tags:
            problems.append(
                Problem(
                    "tags_mismatch",
                    ref,
                    f"tags are {row.tags!r} but the log says "
                    f"{canonical_json(want['tags']).decode()}",
                )
            )
        if want["description"] != row.description:
            problems.append(
                Problem("tags_mismatch", ref, "the description differs from the logged one")
            )
        located, stored_state = lifecycle.get(row.digest, (None, "live"))
        if stored_state != want["state"] or located not in (None, want["seq"]):
            problems.append(
                Problem(
                    "lifecycle_mismatch",
                    ref,
                    f"the table says {stored_state} (registered at event {located}) but the log "
                    f"says {want['state']} (registered at event {want['seq']})",
                )
            )
    for key in sorted(set(expected.versions) - seen):
        problems.append(
            Problem(
                "version_missing",
                f"{key[0]}:{key[1]}",
                "the log registered this version but its row is gone",
            )
        )
    problems += _check_index(sa, t, conn, index)
    a = t.aliases
    current = {
        (r.name, r.alias): int(r.version)
        for r in conn.execute(sa.select(a.c.name, a.c.alias, a.c.version))
    }
    for akey in sorted(set(current) | set(expected.aliases)):
        if current.get(akey) != expected.aliases.get(akey):
            problems.append(
                Problem(
                    "alias_mismatch",
                    f"{akey[0]}@{akey[1]}",
                    f"points to {current.get(akey)} but the log says {expected.aliases.get(akey)}",
                )
            )
    h = t.history
    stored = {
        int(r.seq): history_key(
            r.name, r.alias, r.version, r.previous, r.ts, r.actor, r.reason, r.verdicts
        )
        for r in conn.execute(sa.select(h))
    }
    for seq in sorted(set(stored) | set(expected.history)):
        if stored.get(seq) != expected.history.get(seq):
            what = (
                "is missing"
                if seq not in stored
                else "has no matching event"
                if seq not in expected.history
                else "differs from its event"
            )
            problems.append(
                Problem("alias_history_mismatch", f"event {seq}", f"the history row {what}")
            )
    return len(rows), referenced, problems


def _index_rows(manifest: Any) -> list[tuple[str, ...]]:
    parents = [
        ("derived from", f"{p['name']}:{p['version']}") for p in manifest.get("parents") or ()
    ]
    inputs = [
        ("trained on", f"{role} {key}")
        for role, key in dataset_keys(manifest.get("datasets") or {})
    ]
    return sorted(parents + inputs)


def _show(rows: list[tuple[str, ...]]) -> str:
    return "; ".join(" ".join(r) for r in rows) or "nothing"


def _check_index(
    sa: Any, t: Any, conn: Any, index: dict[str, tuple[str, list[tuple[str, ...]] | None]]
) -> list[Problem]:
    """Compare the parents and inputs tables, which lineage reads, with the manifests."""
    stored: dict[str, list[tuple[str, ...]]] = {}
    p, i = t.parents, t.inputs
    for child, name, version in conn.execute(
        sa.select(p.c.child, p.c.parent_name, p.c.parent_version)
    ):
        stored.setdefault(child, []).append(("derived from", f"{name}:{version}"))
    for digest, role, key in conn.execute(sa.select(i.c.digest, i.c.role, i.c.dataset)):
        stored.setdefault(digest, []).append(("trained on", f"{role} {key}"))
    problems = []
    for digest in sorted(set(stored) | {d for d, (_, want) in index.items() if want}):
        if digest not in index:
            problems.append(
                Problem(
                    "lineage_index_mismatch",
                    f"sha256:{digest[:12]}…",
                    "lineage index rows name a version that does not exist",
                )
            )
            continue
        ref, want = index[digest]
        have = sorted(stored.get(digest, []))
        if want is not None and have != want:
            problems.append(
                Problem(
                    "lineage_index_mismatch",
                    ref,
                    f"the lineage index says {_show(have)}, but the sealed manifest says "
                    f"{_show(want)}",
                )
            )
    return problems
