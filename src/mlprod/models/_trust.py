"""What load() checks before it reads a byte: the format policy and the sealed registration.

A version row is only what the database says now. Before deserialising,
:meth:`mlprod.ModelRegistry.load` finds the version's registration event on
the chain and requires that it is intact on its own (its hash matches its
bytes), that it registered this name, version and manifest digest, and, on a
keyed registry, that its MAC verifies: a row rewritten with a new manifest
(another serializer, another artifact) no longer matches any event, and an
event rewritten without the key carries a MAC that does not verify.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mlprod.errors import IntegrityError, UntrustedFormat
from mlprod.models._keyed import check_line, line_is_sealed

__all__ = ["check_policy", "check_registration", "registration_line"]


def check_policy(trusted: frozenset[str] | None, names: Iterable[str], ref: str | None) -> None:
    """Refuse any serializer outside ``trusted`` (``None``: all are accepted)."""
    if trusted is None:
        return
    for name in names:
        if name not in trusted:
            where = f"{ref} was written with" if ref else "this uses"
            raise UntrustedFormat(
                f"This registry trusts only {sorted(trusted)}, but {where} serializer "
                f"{name!r}; nothing was read. A {name!r} artifact may run code when loaded. "
                "Re-register the model with serializer='skops' (or another trusted format), "
                "or open the registry without the policy if you trust every writer.",
                serializer=name,
                trusted=trusted,
                ref=ref,
            )


def registration_line(reg: Any, conn: Any, digest: str) -> tuple[int | None, str | None, str]:
    """(seq, line, state) of the event that registered ``digest``: located by the
    lifecycle table in one query, else (registries from before it) by scanning the events."""
    sa, t = reg._sa, reg._t
    e, lc = t.events, t.lifecycle
    found = conn.execute(
        sa.select(lc.c.registered_seq, lc.c.state, e.c.line)
        .select_from(lc.outerjoin(e, e.c.seq == lc.c.registered_seq))
        .where(lc.c.digest == digest)
    ).first()
    state = str(found.state) if found is not None else "live"
    if found is not None and found.registered_seq is not None:
        return int(found.registered_seq), found.line, state
    pattern = '%"digest":"' + digest + '"%'
    for found_seq, line in conn.execute(
        sa.select(e.c.seq, e.c.line).where(e.c.line.like(pattern)).order_by(e.c.seq)
    ):
        try:
            if json.loads(line)["record"].get("event") == "model.registered":
                return int(found_seq), line, state
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return None, None, state


def check_registration(reg: Any, conn: Any, name: str, version: int, digest: str) -> str:
    """The version's state (``live``, ``archived``, ``deleted``); raise
    :class:`~mlprod.IntegrityError` unless a sealed event registered it."""
    ref = f"{name}:{version}"
    seq, line, state = registration_line(reg, conn, digest)
    fix = (
        "Refusing to load it. Run reg.verify() to see everything that changed, and "
        "restore the registry database from a backup."
    )
    if line is None:
        raise IntegrityError(
            f"{ref} has no registration event on the registry's chain with its manifest digest "
            f"{digest[:12]}…: the version row was written or changed outside the registry. {fix}",
            path=ref,
            expected=digest,
        )
    raw = line.encode("utf-8")
    if not line_is_sealed(raw):
        raise IntegrityError(
            f"The registration event of {ref} (event {seq}) does not match its own hash: it "
            f"was edited. {fix}",
            path=f"event {seq}",
        )
    record = json.loads(raw)["record"]
    if (record.get("name"), record.get("version"), record.get("digest")) != (
        name,
        version,
        digest,
    ):
        raise IntegrityError(
            f"Event {seq} registered {record.get('name')}:{record.get('version')} with digest "
            f"{str(record.get('digest'))[:12]}…, not {ref} with {digest[:12]}…: the version "
            f"row does not match its sealed registration. {fix}",
            path=ref,
            expected=str(record.get("digest")),
            actual=digest,
        )
    if reg._key is not None:
        problem = check_line(reg._key, raw)
        if problem is not None and "mac" not in record:
            problem = _vouched_later(reg, conn, int(seq or 0), raw)
        if problem is not None:
            raise IntegrityError(
                f"The registration event of {ref} (event {seq}) fails the registry's keyed "
                f"seal: {problem}. {fix}",
                path=f"event {seq}",
            )
    return state


def _vouched_later(reg: Any, conn: Any, seq: int, line: bytes) -> str | None:
    """An event from before the key is trusted when a later signed event chains back to it.

    Each MAC covers its event's ``prev``, so a valid MAC vouches for every event
    before it; walk forward, checking each link, to the first signed event.
    """
    from mlprod.audit import line_hash

    sa, e = reg._sa, reg._t.events
    prev = line_hash(line)
    rows = conn.execute(sa.select(e.c.seq, e.c.line).where(e.c.seq > seq).order_by(e.c.seq))
    for later_seq, later in rows:
        raw = later.encode("utf-8")
        env = json.loads(raw)
        if not line_is_sealed(raw) or env.get("prev") != prev:
            return f"the chain after it is broken at event {later_seq}"
        if "mac" in env.get("record", {}):
            return check_line(reg._key, raw)
        prev = line_hash(raw)
    return (
        "it was written before the registry had a key, and no signed event vouches for it "
        "yet: once reg.verify(pinned_head=...) confirms the history, call reg.adopt_key()"
    )
