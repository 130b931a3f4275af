"""``DriftReport``: what :func:`mlprod.drift` found, per column and for the dataset."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.render import Document, Figure, Rendered, Section, Table

__all__ = ["ColumnDrift", "DriftReport"]

_VERDICTS = ("drift", "no drift", "not enough data", "not tested")


@dataclass(frozen=True)
class ColumnDrift:
    """One column's comparison.

    ``verdict`` is one of "drift", "no drift", "not enough data" (fewer
    values than the minimum on either side: never drift) or "not tested"
    (datetimes, columns absent on one side, a dtype change). ``p_value`` is
    the raw test p-value and ``p_adjusted`` its Benjamini–Hochberg
    adjustment across the report's columns. ``effect`` names the effect size
    (``effect_value`` with a 95% bootstrap interval ``effect_low``–``effect_high``).
    ``histogram`` holds ``(edges or categories, reference counts, current
    counts)`` for the HTML plot.
    """

    __module__ = "mlprod"

    column: str
    kind: str
    method: str
    verdict: str
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    threshold: float | None = None
    effect: str | None = None
    effect_value: float | None = None
    effect_low: float | None = None
    effect_high: float | None = None
    shift: str = ""
    n_reference: int = 0
    n_current: int = 0
    missing_reference: float | None = None
    missing_current: float | None = None
    missing_changed: bool = False
    new_categories: tuple[str, ...] = ()
    vanished_categories: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    histogram: tuple[tuple[Any, ...], tuple[float, ...], tuple[float, ...]] | None = field(
        default=None, repr=False
    )

    @property
    def drifted(self) -> bool | None:
        """True on drift, False on none, None when the column could not be judged."""
        if self.verdict == "drift":
            return True
        if self.verdict == "no drift":
            return False
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the plot data)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "verdict": self.verdict,
            "drifted": self.drifted,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "threshold": self.threshold,
            "effect": self.effect,
            "effect_value": self.effect_value,
            "effect_low": self.effect_low,
            "effect_high": self.effect_high,
            "shift": self.shift,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "missing_reference": self.missing_reference,
            "missing_current": self.missing_current,
            "missing_changed": self.missing_changed,
            "new_categories": list(self.new_categories),
            "vanished_categories": list(self.vanished_categories),
            "notes": list(self.notes),
        }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


@dataclass(frozen=True)
class DriftReport(Rendered):
    """The result of :func:`mlprod.drift`: frozen, renderable, serialisable.

    Attributes
    ----------
    columns:
        A :class:`ColumnDrift` per compared column.
    drifted:
        The dataset verdict: the share of drifted columns among those judged
        is at least ``drift_share``.
    share:
        Drifted columns / judged columns (0 when none was judged).
    missing_in_current, missing_in_reference:
        Columns present on one side only.
    dtype_changes:
        Column -> ``(reference dtype, current dtype)`` where the kind changed.

    Examples
    --------
    >>> import numpy as np, pandas as pd, mlprod as mp
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=5000)})
    >>> cur = pd.DataFrame({"x": rng.normal(0.5, 1, size=5000)})
    >>> report = mp.drift(ref, cur)
    >>> report.drifted, report["x"].verdict
    (True, 'drift')
    >>> report.to_frame().loc[0, "method"]
    'ks+wasserstein'
    """

    __module__ = "mlprod"

    columns: tuple[ColumnDrift, ...]
    drifted: bool
    share: float
    drift_share: float
    method: str
    alpha: float
    rows_reference: int
    rows_current: int
    missing_in_current: tuple[str, ...] = ()
    missing_in_reference: tuple[str, ...] = ()
    dtype_changes: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype_changes", MappingProxyType(dict(self.dtype_changes)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # a read-only view does not pickle: ship a plain dict, wrapped again on load
        values = [getattr(self, f.name) for f in dataclasses.fields(self)]
        values[-1] = dict(self.dtype_changes)
        return (DriftReport, tuple(values))

    def __getitem__(self, column: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(
            f"column {column!r} is not in the report ({[c.column for c in self.columns]})"
        )

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """Names of the columns whose verdict is "drift"."""
        return tuple(c.column for c in self.columns if c.verdict == "drift")

    @property
    def missing_rate_changes(self) -> tuple[str, ...]:
        """Columns whose missing rate changed significantly (reported apart from drift)."""
        return tuple(c.column for c in self.columns if c.missing_changed)

    def to_frame(self) -> pd.DataFrame:
        """A row per column (read-only values)."""
        records = [c.to_dict() for c in self.columns]
        cols = list(ColumnDrift("", "", "", "no drift").to_dict())
        frame = pd.DataFrame.from_records(records, columns=cols)
        for name in ("new_categories", "vanished_categories", "notes"):
            frame[name] = frame[name].map(tuple)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "drifted": self.drifted,
            "share": self.share,
            "drift_share": self.drift_share,
            "method": self.method,
            "alpha": self.alpha,
            "rows_reference": self.rows_reference,
            "rows_current": self.rows_current,
            "drifted_columns": list(self.drifted_columns),
            "missing_in_current": list(self.missing_in_current),
            "missing_in_reference": list(self.missing_in_reference),
            "dtype_changes": {k: list(v) for k, v in self.dtype_changes.items()},
            "missing_rate_changes": list(self.missing_rate_changes),
            "columns": [{k: _clean(v) for k, v in c.to_dict().items()} for c in self.columns],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __repr__(self) -> str:
        judged = sum(c.drifted is not None for c in self.columns)
        return (
            f"<DriftReport {'DRIFT' if self.drifted else 'no drift'}: "
            f"{len(self.drifted_columns)} of {judged} judged columns drifted "
            f"(share {self.share:.2f}, threshold {self.drift_share:.2f})>"
        )

    def _document(self, *, plots: bool = True, **options: Any) -> Document:
        judged = sum(c.drifted is not None for c in self.columns)
        facts = {
            "rows (reference → current)": f"{self.rows_reference:,} → {self.rows_current:,}",
            "drifted columns": f"{len(self.drifted_columns)} of {judged} judged "
            f"(share {self.share:.2f}; dataset drift at ≥ {self.drift_share:.2f})",
            "method": self.method,
        }
        rows = []
        for c in self.columns:
            eff = ""
            if c.effect is not None and c.effect_value is not None:
                eff = f"{c.effect} {c.effect_value:.3g}"
                if c.effect_low is not None and c.effect_high is not None:
                    eff += f" [{c.effect_low:.3g}, {c.effect_high:.3g}]"
            rows.append(
                [
                    c.column,
                    c.verdict,
                    c.method,
                    None if c.statistic is None else round(c.statistic, 4),
                    None if c.p_adjusted is None else float(f"{c.p_adjusted:.3g}"),
                    eff,
                    c.shift,
                ]
            )
        sections = [
            Section(
                "Columns",
                text=(
                    f"Dataset drift: {', '.join(self.drifted_columns)}."
                    if self.drifted
                    else (
                        f"Drift in {', '.join(self.drifted_columns)}, below the dataset threshold."
                        if self.drifted_columns
                        else "No column drifted."
                    )
                ),
                table=Table(
                    ["column", "verdict", "method", "statistic", "p (BH)", "effect [95%]", "shift"],
                    rows,
                ),
                level="bad" if self.drifted else ("warn" if self.drifted_columns else "ok"),
            )
        ]
        issues = []
        if self.missing_in_current:
            issues.append(f"Missing in current: {', '.join(self.missing_in_current)}.")
        if self.missing_in_reference:
            issues.append(
                f"New in current (not in reference): {', '.join(self.missing_in_reference)}."
            )
        for k, (a, b) in self.dtype_changes.items():
            issues.append(f"dtype of {k!r} changed: {a} → {b}.")
        for c in self.columns:
            if c.missing_changed:
                issues.append(
                    f"Missing rate of {c.column!r}: "
                    f"{c.missing_reference:.1%} → {c.missing_current:.1%}."
                )
            if c.new_categories:
                issues.append(f"New categories in {c.column!r}: {', '.join(c.new_categories)}.")
            if c.vanished_categories:
                issues.append(
                    f"Vanished categories in {c.column!r}: {', '.join(c.vanished_categories)}."
                )
            issues += [f"{c.column}: {n}" for n in c.notes]
        if issues:
            sections.append(
                Section("Data quality and schema", text="\n".join(issues), level="warn")
            )
        if plots and self.drifted_columns:
            figures = [f for c in self.columns if c.verdict == "drift" for f in _figure(c)]
            if figures:
                sections.append(Section("Drifted columns: reference vs current", figures=figures))
        return Document("Drift report", ok=not self.drifted, facts=facts, sections=sections)


def _figure(c: ColumnDrift) -> list[Figure]:
    if c.histogram is None:
        return []
    from mlprod._internal.plots import histogram_pair, svg_figure

    axis, ref, cur = c.histogram
    if c.kind in ("categorical", "boolean"):
        fig = histogram_pair([], ref, cur, categories=[str(a) for a in axis], title=c.column)
    else:
        fig = histogram_pair(axis, ref, cur, title=c.column)
    return [svg_figure(fig, caption=f"{c.column}: {c.shift}")]
