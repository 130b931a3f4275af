"""Aliases: moving them through gates, deleting them, and their history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from mlprod._internal.canonical import canonical_json
from mlprod.errors import ConfigurationError, Conflict, GateFailed, NotFound
from mlprod.models._core import (
    RegistryCore,
    _check_alias,
    _check_name,
    _iso,
    _split,
    _text,
    _timestamp,
    _utc,
    _who,
)
from mlprod.models.gates import Verdict, run_gate
from mlprod.models.version import AliasChange, ModelVersion
from mlprod.protocols import Gate

__all__ = ["AliasOps"]


def _gate_list(gates: Any) -> tuple[Gate, ...]:
    """``gates`` as a tuple, refusing one gate (or text) passed where a list belongs."""
    if callable(gates) or isinstance(gates, str | bytes) or not isinstance(gates, Iterable):
        raise ConfigurationError(
            f"gates={gates!r} is not a list of gates: pass gates=[...] even for one gate "
            "(e.g. gates=[mp.gates.beats_current('auc')]).",
            parameter="gates",
            value=repr(gates)[:200],
        )
    out = tuple(gates)
    bad = [g for g in out if not callable(g)]
    if bad:
        raise ConfigurationError(
            f"gates holds {bad[0]!r}, which is not a gate: each gate is called as "
            "gate(candidate, current, actor=...) and returns a verdict or a bool.",
            parameter="gates",
            value=repr(bad[0])[:200],
        )
    return out


class AliasOps(RegistryCore):
    """Alias operations of :class:`mlprod.ModelRegistry`."""

    def _holder(self, conn: Any, name: str, alias: str) -> int | None:
        a = self._t.aliases
        return conn.execute(  # type: ignore[no-any-return]
            self._sa.select(a.c.version).where(a.c.name == name, a.c.alias == alias)
        ).scalar()

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | str,
        *,
        gates: Sequence[Gate] = (),
        actor: str | None = None,
        reason: str = "",
    ) -> AliasChange:
        """Point ``alias`` at ``version`` once every gate passes; record who, why and the evidence.

        Each gate sees the candidate and the alias's current holder. If any
        fails, nothing moves and :class:`~mlprod.GateFailed` carries every
        verdict (the refusal is logged too); otherwise the move and all
        verdicts are written as one event.

        Parameters
        ----------
        name, alias:
            The model and the alias (``"production"``, ``"staging"``...).
        version:
            The version number (or another alias, or ``"latest"``) to point at.
        gates:
            Gate objects (see :mod:`mlprod.gates`); any callable
            ``gate(candidate, current, *, actor)`` returning a verdict or a bool.
        actor, reason:
            Who moves the alias and why (kept in the history).

        Raises
        ------
        mlprod.GateFailed
            A gate refused the candidate; every verdict is on the error.
        mlprod.Conflict
            Other writers moved the alias while the gates ran, ten times in a
            row; nothing was written, and retrying the same call is safe.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}, metrics={"auc": 0.8}, actor="ana")
        >>> _ = reg.register("churn", {"w": 2}, metrics={"auc": 0.7}, actor="ana")
        >>> _ = reg.set_alias("churn", "production", 1, actor="bo")
        >>> try:
        ...     reg.set_alias("churn", "production", 2, actor="bo",
        ...                   gates=[mp.gates.beats_current("auc")])
        ... except mp.GateFailed as exc:
        ...     print(exc.failed[0].gate)
        beats_current(auc)
        """
        name = _check_name(_split(name, None)[0])
        _check_alias(alias)
        gates = _gate_list(gates)
        candidate = self.get(name, version)
        with self._sql.read() as conn:
            state = self._state(conn, candidate.digest)
        if state != "live":
            raise ConfigurationError(
                f"Cannot point {name}@{alias} at {candidate.ref}: that version is {state}. "
                "Pick a live version (reg.versions(name)).",
                parameter="version",
                value=candidate.ref,
            )
        who = _who(actor)
        _text(reason, "reason")
        t = self._t
        attempts = 10
        for _attempt in range(attempts):
            with self._sql.read() as conn:
                held = self._holder(conn, name, alias)
            current = self.get(name, held) if held is not None else None
            verdicts = [run_gate(g, candidate, current, who) for g in gates]
            records = [v.to_dict() for v in verdicts]
            failed = [v for v in verdicts if not v.passed]
            with self._sql.write() as w:
                if self._holder(w.conn, name, alias) != held:
                    continue  # moved while the gates ran: judge against the new holder
                ts = w.moment(self._now())
                move = {
                    "name": name,
                    "alias": alias,
                    "version": candidate.version,
                    "actor": who,
                    "reason": reason,
                    "verdicts": records,
                }
                if failed:
                    w.event({"event": "alias.refused", **move, "current": held}, ts=ts)
                else:
                    seq = w.event({"event": "alias.set", **move, "previous": held}, ts=ts)
                    a = t.aliases
                    w.conn.execute(a.delete().where(a.c.name == name, a.c.alias == alias))
                    w.conn.execute(
                        a.insert().values(name=name, alias=alias, version=candidate.version)
                    )
                    w.conn.execute(
                        t.history.insert().values(
                            seq=seq,
                            name=name,
                            alias=alias,
                            version=candidate.version,
                            previous=held,
                            ts=ts,
                            actor=who,
                            reason=reason,
                            verdicts=canonical_json(records).decode("utf-8"),
                        )
                    )
            if failed:
                raise _gate_failed(name, alias, candidate.version, held, verdicts)
            return AliasChange(
                name,
                alias,
                candidate.version,
                held,
                _utc(ts),
                who,
                reason,
                tuple(records),
                seq,
            )
        raise Conflict(
            f"Alias {name}@{alias} was moved by another writer while this call's gates ran, "
            f"{attempts} times in a row, so v{candidate.version} was not promoted and nothing "
            "was written. Nothing is wrong with the call: retry it once the other writers "
            "settle, or move this alias from one process at a time.",
            kind="alias",
            key=f"{name}@{alias}",
            attempts=attempts,
        )

    def delete_alias(
        self, name: str, alias: str, *, actor: str | None = None, reason: str = ""
    ) -> AliasChange:
        """Remove ``alias`` (the removal is kept in its history and the log).

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> _ = reg.set_alias("churn", "staging", 1)
        >>> reg.delete_alias("churn", "staging", reason="retired").deleted
        True
        """
        _check_alias(alias)
        who = _who(actor)
        _text(reason, "reason")
        t = self._t
        with self._sql.write() as w:
            held = self._holder(w.conn, name, alias)
            if held is None:
                raise self._not_found(w.conn, name, alias)
            ts = w.moment(self._now())
            seq = w.event(
                {
                    "event": "alias.deleted",
                    "name": name,
                    "alias": alias,
                    "previous": held,
                    "actor": who,
                    "reason": reason,
                },
                ts=ts,
            )
            a = t.aliases
            w.conn.execute(a.delete().where(a.c.name == name, a.c.alias == alias))
            w.conn.execute(
                t.history.insert().values(
                    seq=seq,
                    name=name,
                    alias=alias,
                    version=None,
                    previous=held,
                    ts=ts,
                    actor=who,
                    reason=reason,
                    verdicts="[]",
                )
            )
        return AliasChange(name, alias, None, held, _utc(ts), who, reason, (), seq)

    def aliases(self, name: str) -> dict[str, int]:
        """Current aliases of ``name``: alias -> version.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1})
        >>> _ = reg.set_alias("churn", "production", 1)
        >>> reg.aliases("churn")
        {'production': 1}
        """
        a = self._t.aliases
        with self._sql.read() as conn:
            rows = conn.execute(
                self._sa.select(a.c.alias, a.c.version).where(a.c.name == name).order_by(a.c.alias)
            ).all()
            if not rows:
                self._row(conn, name, None)  # unknown model: NotFound with suggestions
        return {r.alias: int(r.version) for r in rows}

    def resolve(self, name: str, alias: str, *, at: Any = None) -> ModelVersion:
        """The version ``alias`` points to now, or pointed to at moment ``at``.

        Parameters
        ----------
        name, alias:
            The model and alias (``"latest"`` also works: the newest version then).
        at:
            A datetime or pandas Timestamp (naive means local time, for both),
            epoch seconds or an ISO 8601 string.

        Raises
        ------
        mlprod.NotFound
            The alias did not exist (or had been deleted) at that moment.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> clock = mp.ManualClock(1_700_000_000)
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp(), clock=clock)
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> _ = reg.set_alias("churn", "production", 1); clock.advance(3600)
        >>> _ = reg.set_alias("churn", "production", 2)
        >>> reg.resolve("churn", "production", at=1_700_000_000 + 60).version
        1
        """
        if at is None:
            return self.get(name, alias)
        moment = _timestamp(at)
        t, sa = self._t, self._sa
        v, h = t.versions, t.history
        with self._sql.read() as conn:
            self._row(conn, name, None)  # unknown model: NotFound with suggestions
            if alias == "latest":
                version = conn.execute(
                    sa.select(sa.func.max(v.c.version)).where(
                        v.c.name == name, v.c.created_at <= moment
                    )
                ).scalar()
                if version is None:
                    first = self._row(conn, name, 1)
                    raise NotFound(
                        "version",
                        f"{name}:latest",
                        hint=f"No version of {name!r} existed at {_iso(moment)}: the first was "
                        f"registered at {json.loads(first.manifest)['created_at']}.",
                    )
            else:
                last = conn.execute(
                    sa.select(h.c.version, h.c.ts, h.c.actor)
                    .where(h.c.name == name, h.c.alias == alias, h.c.ts <= moment)
                    .order_by(h.c.ts.desc(), h.c.seq.desc())
                    .limit(1)
                ).first()
                version = None if last is None else last.version
                if version is None:
                    raise self._alias_missing_at(conn, name, alias, moment, last)
            row = self._row(conn, name, int(version))
        return ModelVersion._from_row(row.manifest, row.tags, row.description, row.digest)

    def _alias_missing_at(
        self, conn: Any, name: str, alias: str, moment: float, last: Any
    ) -> NotFound:
        h, sa = self._t.history, self._sa
        if last is not None:
            by = f" by {last.actor!r}" if last.actor else ""
            when = f"it was deleted at {_iso(last.ts)}{by}"
        else:
            first = conn.execute(
                sa.select(sa.func.min(h.c.ts)).where(h.c.name == name, h.c.alias == alias)
            ).scalar()
            if first is None:
                return self._alias_never_set(conn, name, alias)
            when = f"it was first set at {_iso(first)}"
        return NotFound(
            "alias",
            alias,
            hint=f"{name}@{alias} pointed to no version at {_iso(moment)}: {when}. "
            f"reg.alias_history({name!r}, {alias!r}) lists every move.",
        )

    def _alias_never_set(self, conn: Any, name: str, alias: str) -> NotFound:
        h = self._t.history
        known = conn.execute(self._sa.select(h.c.alias).where(h.c.name == name).distinct())
        return NotFound(
            "alias",
            alias,
            candidates=[r[0] for r in known],
            hint=f"{name!r} never had an alias {alias!r}; set one with reg.set_alias().",
        )

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        """Every move and deletion of ``alias`` (or of all of ``name``'s aliases), oldest first.

        Examples
        --------
        >>> import mlprod as mp, tempfile
        >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
        >>> _ = reg.register("churn", {"w": 1}); _ = reg.register("churn", {"w": 2})
        >>> _ = reg.set_alias("churn", "production", 1)
        >>> _ = reg.set_alias("churn", "production", 2, reason="better")
        >>> [(c.previous, c.version, c.reason) for c in reg.alias_history("churn", "production")]
        [(None, 1, ''), (1, 2, 'better')]
        """
        h = self._t.history
        query = self._sa.select(h).where(h.c.name == name)
        if alias is not None:
            query = query.where(h.c.alias == alias)
        with self._sql.read() as conn:
            rows = conn.execute(query.order_by(h.c.seq)).all()
            if not rows:
                self._row(conn, name, None)  # unknown model: NotFound with suggestions
                if alias is not None:
                    raise self._alias_never_set(conn, name, alias)
        return [
            AliasChange(
                r.name,
                r.alias,
                r.version,
                r.previous,
                _utc(r.ts),
                r.actor,
                r.reason,
                tuple(json.loads(r.verdicts)),
                int(r.seq),
            )
            for r in rows
        ]


def _gate_failed(
    name: str, alias: str, version: int, held: int | None, verdicts: list[Verdict]
) -> GateFailed:
    failed = [v for v in verdicts if not v.passed]
    lines = "; ".join(f"{v.gate}: {v.message}" for v in failed)
    holder = f"v{held}" if held is not None else "no holder"
    return GateFailed(
        f"{name}@{alias} stays at {holder}: {len(failed)} of {len(verdicts)} gate(s) refused "
        f"v{version} — {lines}. The verdicts' evidence is on this error (.verdicts) and in "
        "the registry's log.",
        verdicts=verdicts,
    )
