"""A registry gate built on a fairness report (the Gate protocol; no import of models)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlprod.errors import InvalidInput
from mlprod.reports.fairness import _disparity as disp

__all__ = ["FairnessGate", "FairnessVerdict"]


@dataclass(frozen=True)
class FairnessVerdict:
    """The gate's decision (``passed``, ``gate``, ``evidence``, ``message``)."""

    gate: str
    passed: bool
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)
    message: str = ""

    def __bool__(self) -> bool:
        return self.passed


class FairnessGate:
    """Passes when every chosen disparity to the reference group is within the thresholds.

    For each metric and group, the difference's interval must lie in
    ``[-max_difference, max_difference]`` and the ratio's in
    ``[min_ratio, 1 / min_ratio]``. An interval straddling a bound is
    *inconclusive*, which does not pass unless ``inconclusive="pass"``; an
    undefined disparity does not pass unless ``undefined="ignore"``. The
    verdict's evidence holds the whole report (``report``) and its SHA-256
    (``report_digest``), so the registry stores and verifies them with the
    alias event.
    """

    def __init__(
        self,
        report: Any,
        *,
        max_difference: float | None,
        min_ratio: float | None,
        metrics: Sequence[str] | None,
        inconclusive: str,
        undefined: str,
        name: str,
    ) -> None:
        if max_difference is None and min_ratio is None:
            raise InvalidInput(
                "gate() needs max_difference=, min_ratio= or both (e.g. min_ratio=0.8).",
                parameter="min_ratio",
                found="no threshold",
            )
        if min_ratio is not None and not 0 < min_ratio <= 1:
            raise InvalidInput(
                f"min_ratio must be in (0, 1], got {min_ratio}.",
                parameter="min_ratio",
                found=str(min_ratio),
            )
        if inconclusive not in ("fail", "pass") or undefined not in ("fail", "ignore"):
            raise InvalidInput(
                "inconclusive must be 'fail' or 'pass'; undefined 'fail' or 'ignore'.",
                parameter="inconclusive",
                found=f"{inconclusive!r}, {undefined!r}",
            )
        from mlprod.reports.fairness._build import ALIASES

        have = list(report.to_dict()["metrics"])
        default = [
            m for m in ("selection_rate", "true_positive_rate", "false_positive_rate") if m in have
        ] or [m for m in have if m != "count"]
        chosen = [ALIASES.get(m, m) for m in metrics] if metrics else default
        bad = [m for m in chosen if m not in have]
        if bad:
            raise InvalidInput(
                f"gate metrics {bad} are not in the report (it has {have}).",
                parameter="metrics",
                found=str(bad),
            )
        self.report = report
        self.max_difference = max_difference
        self.min_ratio = min_ratio
        self.metrics = tuple(chosen)
        self.inconclusive = inconclusive
        self.undefined = undefined
        self.name = name

    def __repr__(self) -> str:
        return (
            f"FairnessGate(max_difference={self.max_difference}, min_ratio={self.min_ratio}, "
            f"metrics={list(self.metrics)}, inconclusive={self.inconclusive!r})"
        )

    def checks(self) -> list[dict[str, Any]]:
        """One row per metric and group: the thresholds' verdicts and the combined status."""
        data = self.report.to_dict()
        out = []
        for r in data["disparities"]:
            if r["metric"] not in self.metrics:
                continue
            nan = float("nan")
            parts = []
            if self.max_difference is not None:
                t = self.max_difference
                parts.append(
                    disp.verdict(
                        r["difference_low"] if r["difference_low"] is not None else nan,
                        r["difference_high"] if r["difference_high"] is not None else nan,
                        r["difference"] if r["difference"] is not None else nan,
                        -t,
                        t,
                    )
                )
            if self.min_ratio is not None:
                lo = self.min_ratio
                parts.append(
                    disp.verdict(
                        r["ratio_low"] if r["ratio_low"] is not None else nan,
                        r["ratio_high"] if r["ratio_high"] is not None else nan,
                        r["ratio"] if r["ratio"] is not None else nan,
                        lo,
                        1 / lo,
                    )
                )
            status = next((s for s in ("fail", "undefined", "inconclusive") if s in parts), "pass")
            label = ", ".join(
                f"{f}={v}" for f, v in zip(data["features"], data["groups"][r["group"]])
            )
            out.append(
                {
                    "metric": r["metric"],
                    "group": label,
                    "status": status,
                    "difference": r["difference"],
                    "ratio": r["ratio"],
                }
            )
        return out

    def __call__(
        self, candidate: Any = None, current: Any | None = None, /, *, actor: str | None = None
    ) -> FairnessVerdict:
        rows = self.checks()
        fails = [r for r in rows if r["status"] == "fail"]
        inconc = [r for r in rows if r["status"] == "inconclusive"]
        undef = [r for r in rows if r["status"] == "undefined"]
        passed = (
            not fails
            and (not inconc or self.inconclusive == "pass")
            and (not undef or self.undefined == "ignore")
        )
        bounds = []
        if self.max_difference is not None:
            bounds.append(f"|difference| <= {self.max_difference:g}")
        if self.min_ratio is not None:
            bounds.append(f"ratio in [{self.min_ratio:g}, {1 / self.min_ratio:.3g}]")
        worst = (fails or inconc or undef)[:3]
        detail = "; ".join(f"{r['metric']} for {r['group']}: {r['status']}" for r in worst)
        message = (
            f"{len(rows) - len(fails) - len(inconc) - len(undef)} of {len(rows)} disparities "
            f"within {' and '.join(bounds)}"
            + (
                f"; {len(fails)} fail, {len(inconc)} inconclusive, {len(undef)} undefined"
                f" ({detail})"
                if worst
                else ""
            )
        )
        evidence = {
            "thresholds": {
                "max_difference": self.max_difference,
                "min_ratio": self.min_ratio,
                "metrics": list(self.metrics),
                "inconclusive": self.inconclusive,
                "undefined": self.undefined,
            },
            "failed": fails,
            "inconclusive": inconc,
            "undefined": undef,
            "checked": len(rows),
            "report_digest": self.report.digest,
            "report": self.report.to_dict(),
        }
        return FairnessVerdict(self.name, passed, evidence, message)
