"""Per-column summaries that merge: numbers (and datetimes), categories.

A :class:`NumericSummary` holds counts, min/max, mean and the sum of squared
deviations (merged with Chan et al.'s parallel formula, stable for any split)
and a :class:`~mlprod.data.drift.sketch.QuantileSketch`. A
:class:`CategoricalSummary` holds counts per value up to a cap; past it, the
rarest values go to one "other" bucket. Both are frozen and serialise to
JSON-ready dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mlprod.data.drift.sketch import QuantileSketch

__all__ = ["CategoricalSummary", "ColumnSummary", "NumericSummary", "summarise"]


@dataclass(frozen=True)
class NumericSummary:
    """Mergeable summary of a numeric or datetime column.

    ``count`` counts finite values; ``missing`` NaN/None/NaT; ``pos_inf`` and
    ``neg_inf`` infinities (kept out of the moments and the sketch).
    Datetimes are summarised as seconds since the epoch (``kind="datetime"``).
    """

    kind: str
    dtype: str
    count: int
    missing: int
    pos_inf: int
    neg_inf: int
    min: float | None
    max: float | None
    mean: float
    m2: float
    sketch: QuantileSketch

    @property
    def rows(self) -> int:
        """All rows seen, missing and infinite included."""
        return self.count + self.missing + self.pos_inf + self.neg_inf

    @property
    def variance(self) -> float:
        """Sample variance (``ddof=1``); NaN below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else float("nan")

    @property
    def std(self) -> float:
        """Sample standard deviation."""
        return float(np.sqrt(self.variance))

    def merge(self, other: NumericSummary) -> NumericSummary:
        """The summary of both batches' values together."""
        na, nb = self.count, other.count
        n = na + nb
        if na == 0 or nb == 0:
            mean, m2 = (other.mean, other.m2) if na == 0 else (self.mean, self.m2)
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * nb / n
            m2 = self.m2 + other.m2 + delta * delta * na * nb / n
        lo = [v for v in (self.min, other.min) if v is not None]
        hi = [v for v in (self.max, other.max) if v is not None]
        return replace(
            self,
            count=n,
            missing=self.missing + other.missing,
            pos_inf=self.pos_inf + other.pos_inf,
            neg_inf=self.neg_inf + other.neg_inf,
            min=min(lo) if lo else None,
            max=max(hi) if hi else None,
            mean=mean,
            m2=m2,
            sketch=QuantileSketch.merge([self.sketch, other.sketch]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "dtype": self.dtype,
            "count": self.count,
            "missing": self.missing,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "m2": self.m2,
            "sketch": self.sketch.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericSummary:
        """Inverse of :meth:`to_dict`."""
        fields = {k: data[k] for k in data if k != "sketch"}
        return cls(**fields, sketch=QuantileSketch.from_dict(data["sketch"]))


@dataclass(frozen=True)
class CategoricalSummary:
    """Mergeable counts of a categorical, string or boolean column.

    ``counts`` holds at most ``cap`` values; ``other`` counts the rows of
    every value past the cap and ``overflowed`` how many distinct values went
    there (a lower bound after merges). ``mixed_types`` is set when an object
    column held values of several Python types (they are counted by their
    ``str``).
    """

    kind: str
    dtype: str
    count: int
    missing: int
    counts: Mapping[str, int]
    other: int
    overflowed: int
    cap: int
    mixed_types: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.counts, MappingProxyType):
            object.__setattr__(self, "counts", MappingProxyType(dict(self.counts)))

    @property
    def rows(self) -> int:
        """All rows seen, missing included."""
        return self.count + self.missing

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        """The summary of both batches together (exact while under the cap)."""
        merged = dict(self.counts)
        for key, value in other.counts.items():
            merged[key] = merged.get(key, 0) + value
        counts, extra, dropped = _cap(merged, self.cap)
        return replace(
            self,
            count=self.count + other.count,
            missing=self.missing + other.missing,
            counts=counts,
            other=self.other + other.other + extra,
            overflowed=max(self.overflowed, other.overflowed) + dropped,
            mixed_types=self.mixed_types or other.mixed_types,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "dtype": self.dtype,
            "count": self.count,
            "missing": self.missing,
            "counts": dict(self.counts),
            "other": self.other,
            "overflowed": self.overflowed,
            "cap": self.cap,
            "mixed_types": self.mixed_types,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalSummary:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in data})


ColumnSummary = NumericSummary | CategoricalSummary


def _cap(counts: dict[str, int], cap: int) -> tuple[dict[str, int], int, int]:
    """Keep the ``cap`` most frequent values (ties by name); count the rest."""
    if len(counts) <= cap:
        return dict(sorted(counts.items())), 0, 0
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = dict(sorted(ranked[:cap]))
    rest = ranked[cap:]
    return kept, sum(v for _, v in rest), len(rest)


def _numeric(
    values: np.ndarray[Any, Any], *, kind: str, dtype: str, missing: int, size: int
) -> NumericSummary:
    finite = np.isfinite(values)
    pos_inf = neg_inf = 0
    if not finite.all():
        pos_inf = int(np.count_nonzero(values == np.inf))
        neg_inf = int(np.count_nonzero(values == -np.inf))
        values = values[finite]
    n = len(values)
    mean = float(values.mean()) if n else 0.0
    m2 = float(np.square(values - mean).sum()) if n else 0.0
    return NumericSummary(
        kind=kind,
        dtype=dtype,
        count=n,
        missing=missing,
        pos_inf=pos_inf,
        neg_inf=neg_inf,
        min=float(values.min()) if n else None,
        max=float(values.max()) if n else None,
        mean=mean,
        m2=m2,
        sketch=QuantileSketch.from_values(values, size=size),
    )


def summarise(series: pd.Series, *, bins: int, max_categories: int) -> ColumnSummary:
    """The summary of one column: numeric, datetime or categorical by dtype."""
    dtype = str(series.dtype)
    missing_mask = series.isna().to_numpy()
    missing = int(missing_mask.sum())
    if pd.api.types.is_bool_dtype(series.dtype):
        return _categorical(
            series, kind="boolean", dtype=dtype, missing=missing, cap=max_categories
        )
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        values = values[~missing_mask] if missing else values
        return _numeric(values, kind="numeric", dtype=dtype, missing=missing, size=bins)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        present = series[~missing_mask]
        if getattr(series.dtype, "tz", None) is not None:
            present = present.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = present.to_numpy().astype("datetime64[ns]").astype(np.int64)
        return _numeric(ns / 1e9, kind="datetime", dtype=dtype, missing=missing, size=bins)
    return _categorical(
        series, kind="categorical", dtype=dtype, missing=missing, cap=max_categories
    )


def _categorical(
    series: pd.Series, *, kind: str, dtype: str, missing: int, cap: int
) -> CategoricalSummary:
    present = series.dropna()
    mixed = False
    if present.dtype == object and len(present):
        inferred = pd.api.types.infer_dtype(present, skipna=True)
        mixed = inferred.startswith("mixed")
    counts_series = present.astype(str).value_counts(sort=False)
    counts = {str(k): int(v) for k, v in counts_series.items()}
    kept, other, dropped = _cap(counts, cap)
    return CategoricalSummary(
        kind=kind,
        dtype=dtype,
        count=len(present),
        missing=missing,
        counts=kept,
        other=other,
        overflowed=dropped,
        cap=cap,
        mixed_types=mixed,
    )
