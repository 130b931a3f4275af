"""Results of behaviour checks: one :class:`CheckResult` per check, gathered in a report."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from mlprod._internal import render
from mlprod._internal.canonical import to_jsonable
from mlprod.errors import ConfigurationError
from mlprod.testing._verdict import ReportGate

__all__ = ["BehaviourReport", "CheckResult"]

STATUSES = ("passed", "failed", "skipped")


def _frame_records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    if frame is None:
        return None
    plain = frame.astype(object).where(frame.notna(), None)
    return [
        {str(k): to_jsonable(v, strict=False) for k, v in row.items()}
        for row in plain.to_dict(orient="records")
    ]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one behaviour check.

    Attributes
    ----------
    name:
        The check (``"one_row"``, ``"column_order"``, ``"directional(income)"``...).
    status:
        ``"passed"``, ``"failed"`` or ``"skipped"``.
    detail:
        What was covered when it passed, what went wrong when it failed, why
        it was skipped.
    examples:
        How many inputs the check tried.
    counterexample:
        For a failure, the smallest failing input found (a fresh copy of a
        frame, usually one row); otherwise ``None``.

    Examples
    --------
    >>> import mlprod.testing as mt
    >>> r = mt.CheckResult("determinism", "passed", "same output twice", examples=5)
    >>> r.ok, r.counterexample is None
    (True, True)
    """

    __module__ = "mlprod.testing"

    name: str
    status: str
    detail: str = ""
    examples: int = 0
    _counterexample: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ConfigurationError(
                f"status must be one of {STATUSES}, got {self.status!r}.",
                parameter="status",
                value=self.status,
            )
        if self._counterexample is not None:
            # a private copy: nothing the caller keeps can change the result
            object.__setattr__(self, "_counterexample", self._counterexample.copy())

    @property
    def ok(self) -> bool:
        """``True`` unless the check failed (a skip is not a failure, and is listed)."""
        return self.status != "failed"

    @property
    def counterexample(self) -> pd.DataFrame | None:
        """The minimal failing input, as a new frame each time (``None`` if none)."""
        return None if self._counterexample is None else self._counterexample.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the counterexample as a list of row records)."""
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "examples": int(self.examples),
            "counterexample": _frame_records(self._counterexample),
        }


@dataclass(frozen=True)
class BehaviourReport(render.Rendered):
    """The checks run on a model: passes with their coverage, failures with counterexamples.

    Reports add up (``report_a + report_b``), so a suite can gather
    :func:`check_predictor` and the behaviour properties into one. ``ok``
    is ``True`` when no check failed; skipped checks are listed with why.
    Renders through the shared renderer (``summary()``, ``to_markdown()``,
    ``to_html(path)``, notebooks), and :meth:`gate` turns a passing report
    into registry evidence.

    Attributes
    ----------
    subject:
        What was checked (the model's type, or a name you give).
    checks:
        The :class:`CheckResult` of each check, in the order run.
    created:
        When the report was made (UTC).

    Examples
    --------
    >>> import mlprod.testing as mt
    >>> report = mt.BehaviourReport("model", (mt.CheckResult("one_row", "passed", examples=3),))
    >>> report.ok, report.counts
    (True, mappingproxy({'passed': 1, 'failed': 0, 'skipped': 0}))
    """

    __module__ = "mlprod.testing"

    subject: str
    checks: tuple[CheckResult, ...] = ()
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(self.checks))
        for c in self.checks:
            if not isinstance(c, CheckResult):
                raise ConfigurationError(
                    f"checks must hold CheckResult objects, got {type(c).__name__}.",
                    parameter="checks",
                    value=type(c).__name__,
                )

    @property
    def ok(self) -> bool:
        """``True`` when no check failed."""
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if c.status == "failed")

    @property
    def counts(self) -> Mapping[str, int]:
        """How many checks passed, failed and were skipped."""
        return MappingProxyType({s: sum(c.status == s for c in self.checks) for s in STATUSES})

    @property
    def examples(self) -> int:
        """How many inputs all checks tried together."""
        return sum(c.examples for c in self.checks)

    def __getitem__(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check {name!r}; the report has {[c.name for c in self.checks]}")

    def __add__(self, other: BehaviourReport) -> BehaviourReport:
        if not isinstance(other, BehaviourReport):
            return NotImplemented
        subject = self.subject if self.subject == other.subject else "suite"
        return BehaviourReport(subject, self.checks + other.checks)

    @classmethod
    def combine(
        cls, reports: Iterable[BehaviourReport], *, subject: str = "suite"
    ) -> BehaviourReport:
        """One report holding every check of ``reports``, in order."""
        checks: list[CheckResult] = []
        for r in reports:
            if not isinstance(r, BehaviourReport):
                raise ConfigurationError(
                    f"combine() takes BehaviourReports, got {type(r).__name__}.",
                    parameter="reports",
                    value=type(r).__name__,
                )
            checks.extend(r.checks)
        return cls(subject, tuple(checks))

    def failure_message(self) -> str:
        """Every failure with its counterexample as a small frame (for AssertionError)."""
        parts = [
            f"{len(self.failures)} of {len(self.checks)} behaviour check(s) failed on "
            f"{self.subject}:"
        ]
        for c in self.failures:
            parts.append(f"\n- {c.name}: {c.detail}")
            frame = c.counterexample
            if frame is not None:
                text = frame.to_string(max_rows=10, max_cols=20)
                parts.append("  minimal counterexample:\n" + _indent(text, "    "))
        return "\n".join(parts)

    def assert_ok(self) -> BehaviourReport:
        """Raise ``AssertionError`` showing each failure's counterexample; else return self."""
        if not self.ok:
            raise AssertionError(self.failure_message())
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain data: subject, ok, counts and every check."""
        return {
            "subject": self.subject,
            "ok": self.ok,
            "created": self.created.isoformat(),
            "counts": dict(self.counts),
            "examples": self.examples,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """The report as JSON; with ``path``, also written there (beside an HTML report)."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def gate(self) -> Any:
        """A registry gate passing when this report has no failure; the report is its evidence.

        Use it when the report was made on the very model being promoted;
        :func:`mlprod.testing.behaviour_gate` runs a suite on the candidate
        itself instead.

        Examples
        --------
        >>> import mlprod.testing as mt
        >>> report = mt.BehaviourReport("m", (mt.CheckResult("one_row", "failed", "crash"),))
        >>> report.gate()(None, None).passed
        False
        """

        return ReportGate(self)

    def _document(self, **options: Any) -> render.Document:
        rows = [[c.name, c.status, c.examples, c.detail] for c in self.checks]
        sections = [
            render.Section(
                "Checks",
                text="Every check run, passed ones with what they covered, skipped ones with why.",
                table=render.Table(["check", "status", "examples", "detail"], rows),
            )
        ]
        for c in self.failures:
            frame = c.counterexample
            sections.append(
                render.Section(
                    f"Failure: {c.name}",
                    text=c.detail,
                    table=None if frame is None else render.Table.from_frame(frame, max_rows=10),
                    level="bad",
                )
            )
        skipped = [c for c in self.checks if c.status == "skipped"]
        if skipped:
            sections.append(
                render.Section(
                    "Not covered",
                    text="\n".join(f"{c.name}: {c.detail}" for c in skipped),
                    level="warn",
                )
            )
        counts = self.counts
        return render.Document(
            f"Behaviour checks: {self.subject}",
            ok=self.ok,
            facts={
                "passed": counts["passed"],
                "failed": counts["failed"],
                "skipped": counts["skipped"],
                "examples drawn": self.examples,
            },
            sections=sections,
        )

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"BehaviourReport({self.subject!r}, ok={self.ok}, passed={c['passed']}, "
            f"failed={c['failed']}, skipped={c['skipped']})"
        )


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
