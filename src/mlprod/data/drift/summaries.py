"""Per-column summaries that merge: numbers (and datetimes), categories.

A :class:`NumericSummary` holds counts, min/max, mean and the sum of squared
deviations (merged with Chan et al.'s parallel formula, stable for any split)
and a :class:`~mlprod.data.drift.sketch.QuantileSketch`. A
:class:`CategoricalSummary` holds counts per value up to a cap; past it, the
rarest values go to one "other" bucket. Both are frozen and serialise to
JSON-ready dicts.
"""

from __future__ import annotations

import itertools
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
        return self._with_moments_of(other, QuantileSketch.merge([self.sketch, other.sketch]))

    def _with_moments_of(self, other: NumericSummary, sketch: QuantileSketch) -> NumericSummary:
        """Counts and moments of both batches (Chan et al.), with ``sketch`` as theirs."""
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
            sketch=sketch,
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
    buf: np.ndarray[Any, Any], *, kind: str, dtype: str, missing: int, size: int
) -> NumericSummary:
    """Summarise ``buf``, a private float64 array that is sorted and then overwritten here.

    One sort serves everything: NaN (missing) sorts last and the infinities
    sit at the ends, so their counts are binary searches; min and max are the
    ends of the finite run, the sketch reads it, and its deviations from the
    mean are then written over it for the sum of squares. No other array of
    the column's length is made.
    """
    buf.sort()
    end = int(np.searchsorted(buf, np.nan, side="left"))  # NaN sorts last
    finite_lo = int(np.searchsorted(buf[:end], -np.inf, side="right"))
    finite_hi = int(np.searchsorted(buf[:end], np.inf, side="left"))
    values = buf[finite_lo:finite_hi]
    n = len(values)
    sketch = QuantileSketch.from_sorted(values, size=size)
    lo = float(values[0]) if n else None
    hi = float(values[-1]) if n else None
    mean = float(values.mean()) if n else 0.0
    m2 = 0.0
    if n:
        np.subtract(values, mean, out=values)
        m2 = float(np.dot(values, values))
    return NumericSummary(
        kind=kind,
        dtype=dtype,
        count=n,
        missing=missing + len(buf) - end,
        pos_inf=end - finite_hi,
        neg_inf=finite_lo,
        min=lo,
        max=hi,
        mean=mean,
        m2=m2,
        sketch=sketch,
    )


def _float_copy(series: pd.Series) -> np.ndarray[Any, Any]:
    """The numeric column as a float64 array of its own, missing values as NaN.

    Exactly one copy: the summary sorts and overwrites it, so it must never
    share memory with the caller's column (a masked or Arrow array without
    missing values can hand out its own buffer when no copy is asked for).
    """
    if isinstance(series.dtype, np.dtype):  # numpy dtypes hold no NA but NaN
        if series.dtype == np.float64:
            return series.to_numpy(dtype=np.float64, copy=True)
        return series.to_numpy().astype(np.float64)
    return series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


#: a longer numeric column is summarised piece by piece (memory: one piece)
PIECE_ROWS = 1 << 18
#: pieces are sketched this much finer, then compacted once to the profile's size
_PIECE_DETAIL = 16


def _numeric_pieces(series: pd.Series, *, dtype: str, size: int) -> NumericSummary:
    """A numeric column's summary; above :data:`PIECE_ROWS` rows, piece by piece.

    Each piece is copied, sorted and sketched at ``16 * size`` points, and the
    pieces' sketches are compacted once: the rank error is then at most
    ``1/32 + 1/2`` of a run of ``ceil(n / size)`` values (against ``1/2``
    for one sort of the whole column), and the extra memory one piece.
    """
    n = len(series)
    if n <= PIECE_ROWS:
        return _numeric(_float_copy(series), kind="numeric", dtype=dtype, missing=0, size=size)
    k = -(-n // PIECE_ROWS)
    bounds = [n * i // k for i in range(k + 1)]
    parts = [
        _numeric(
            _float_copy(series.iloc[a:b]),
            kind="numeric",
            dtype=dtype,
            missing=0,
            size=size * _PIECE_DETAIL,
        )
        for a, b in itertools.pairwise(bounds)
    ]
    sketch = QuantileSketch.merge([p.sketch for p in parts], size=size)
    whole = parts[0]
    for part in parts[1:]:
        whole = whole._with_moments_of(part, sketch)
    return replace(whole, sketch=sketch)


def summarise(series: pd.Series, *, bins: int, max_categories: int) -> ColumnSummary:
    """The summary of one column: numeric, datetime or categorical by dtype."""
    dtype = str(series.dtype)
    if pd.api.types.is_bool_dtype(series.dtype):
        return _categorical(
            series,
            kind="boolean",
            dtype=dtype,
            missing=int(series.isna().sum()),
            cap=max_categories,
        )
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _numeric_pieces(series, dtype=dtype, size=bins)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        missing_mask = series.isna().to_numpy()
        present = series[~missing_mask]
        if getattr(series.dtype, "tz", None) is not None:
            present = present.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = present.to_numpy().astype("datetime64[ns]").astype(np.int64)
        return _numeric(
            ns / 1e9, kind="datetime", dtype=dtype, missing=int(missing_mask.sum()), size=bins
        )
    return _categorical(
        series,
        kind="categorical",
        dtype=dtype,
        missing=int(series.isna().sum()),
        cap=max_categories,
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
