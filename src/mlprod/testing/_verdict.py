"""Verdicts of behaviour gates, and the gate over a report made beforehand.

Written against the report's public surface (``ok``, ``counts``, ``checks``,
``failures``, ``examples``, ``to_dict``) so that the report module can hand
out a gate without the two modules importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BehaviourVerdict", "ReportGate"]


@dataclass(frozen=True)
class BehaviourVerdict:
    """A gate verdict (satisfies ``mlprod.protocols.GateVerdict``) carrying its report."""

    gate: str
    passed: bool
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)
    message: str = ""
    report: Any = field(default=None, compare=False, repr=False)

    def __bool__(self) -> bool:
        return bool(self.passed)


def _verdict(gate: str, report: Any, extra: Mapping[str, Any]) -> BehaviourVerdict:
    counts = report.counts
    if report.ok:
        message = (
            f"{counts['passed']} behaviour check(s) passed ({counts['skipped']} skipped, "
            f"{report.examples} examples drawn)"
        )
    else:
        names = ", ".join(c.name for c in report.failures)
        message = f"{counts['failed']} of {len(report.checks)} behaviour check(s) failed: {names}"
    evidence = {**extra, "report": report.to_dict()}
    return BehaviourVerdict(gate, report.ok, evidence, message, report)


class ReportGate:
    """A gate that passes when a report made beforehand has no failure."""

    def __init__(self, report: Any) -> None:
        self.report = report
        self.name = "behaviour"

    def __call__(
        self, candidate: Any, current: Any | None, /, *, actor: str | None = None
    ) -> BehaviourVerdict:
        return _verdict(self.name, self.report, {"candidate": getattr(candidate, "ref", None)})

    def __repr__(self) -> str:
        return f"mt.BehaviourReport.gate({self.report!r})"
