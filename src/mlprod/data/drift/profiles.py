"""``mp.profile``: a reference dataset in kilobytes, mergeable chunk by chunk.

A :class:`Profile` maps each column to its summary (see
:mod:`mlprod.data.drift.summaries`). ``p1 + p2`` and :meth:`Profile.merge`
give the profile of the concatenated data: counts, missing values, min/max,
mean and variance exactly (up to float rounding), category counts exactly
while under the cap, quantiles within the sketch's stated rank error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd

from mlprod.data.drift.summaries import CategoricalSummary, ColumnSummary, NumericSummary, summarise
from mlprod.errors import ConfigurationError, SerializationError

__all__ = ["DEFAULT_BINS", "DEFAULT_MAX_CATEGORIES", "Profile", "profile"]

DEFAULT_BINS = 1024
DEFAULT_MAX_CATEGORIES = 100
_FORMAT = "mlprod.profile/1"


class Profile:
    """Per-column mergeable summaries of a dataset; build one with :func:`profile`.

    Attributes
    ----------
    columns:
        Column name -> summary (read-only mapping, in the frame's order).
    rows:
        Rows profiled.
    bins:
        Sketch size of numeric columns (at most ``bins`` points; the rank
        error of one batch is at most about ``1 / (2 * bins)``, tracked exactly).
    max_categories:
        Values counted per categorical column before the "other" bucket.

    Examples
    --------
    >>> import numpy as np, pandas as pd, mlprod as mp
    >>> df = pd.DataFrame({"x": np.arange(1000.0), "c": ["a", "b"] * 500})
    >>> p = mp.profile(df.iloc[:400]) + mp.profile(df.iloc[400:])
    >>> p.rows, p["x"].mean, dict(p["c"].counts)
    (1000, 499.5, {'a': 500, 'b': 500})
    >>> mp.Profile.from_json(p.to_json()) == p
    True
    """

    __module__ = "mlprod"
    __slots__ = ("_columns", "bins", "max_categories", "rows")
    _columns: Mapping[str, ColumnSummary]
    rows: int
    bins: int
    max_categories: int

    def __init__(
        self,
        columns: Mapping[str, ColumnSummary],
        *,
        rows: int,
        bins: int = DEFAULT_BINS,
        max_categories: int = DEFAULT_MAX_CATEGORIES,
    ) -> None:
        object.__setattr__(self, "_columns", MappingProxyType(dict(columns)))
        object.__setattr__(self, "rows", int(rows))
        object.__setattr__(self, "bins", int(bins))
        object.__setattr__(self, "max_categories", int(max_categories))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Profile is immutable; merge profiles with + or Profile.merge")

    @property
    def columns(self) -> Mapping[str, ColumnSummary]:
        """Column name -> summary."""
        return self._columns

    def __getitem__(self, column: str) -> ColumnSummary:
        try:
            return self.columns[column]
        except KeyError:
            raise KeyError(
                f"column {column!r} is not in the profile (columns: {list(self.columns)})"
            ) from None

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def __len__(self) -> int:
        return len(self.columns)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (Profile.from_dict, (self.to_dict(),))

    def __repr__(self) -> str:
        kb = len(self.to_json()) / 1024
        return (
            f"<Profile {self.rows:,} rows × {len(self)} columns, bins={self.bins}, "
            f"max_categories={self.max_categories}, {kb:.1f} kB as JSON>"
        )

    def __add__(self, other: Profile) -> Profile:
        if not isinstance(other, Profile):
            return NotImplemented
        return Profile.merge([self, other])

    @staticmethod
    def merge(profiles: Iterable[Profile]) -> Profile:
        """One profile of all the data behind ``profiles``.

        Raises
        ------
        ConfigurationError
            If no profile is given, or they were made with different ``bins``
            or ``max_categories``, or a column is numeric in one and
            categorical in another.
        """
        items = list(profiles)
        if not items:
            raise ConfigurationError(
                "Profile.merge needs at least one profile", parameter="profiles"
            )
        first = items[0]
        for p in items[1:]:
            if (p.bins, p.max_categories) != (first.bins, first.max_categories):
                raise ConfigurationError(
                    f"cannot merge profiles made with bins={first.bins}, "
                    f"max_categories={first.max_categories} and bins={p.bins}, "
                    f"max_categories={p.max_categories}: their sketches and caps differ. "
                    "Profile every chunk with the same options.",
                    parameter="bins" if p.bins != first.bins else "max_categories",
                    value=(p.bins, p.max_categories),
                )
        names: list[str] = []
        for p in items:
            names += [c for c in p.columns if c not in names]
        merged: dict[str, ColumnSummary] = {}
        for name in names:
            parts = [p.columns[name] for p in items if name in p.columns]
            kinds = {s.kind for s in parts}
            if len(kinds) > 1:
                raise ConfigurationError(
                    f"column {name!r} is {' in one profile and '.join(sorted(kinds))} in another: "
                    "cast it to one dtype in every chunk before profiling",
                    parameter="profiles",
                    value=name,
                )
            merged[name] = _merge_summaries(parts)
        return Profile(
            merged,
            rows=sum(p.rows for p in items),
            bins=first.bins,
            max_categories=first.max_categories,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see :meth:`from_dict`)."""
        return {
            "format": _FORMAT,
            "rows": self.rows,
            "bins": self.bins,
            "max_categories": self.max_categories,
            "columns": {name: s.to_dict() for name, s in self.columns.items()},
        }

    def to_json(self) -> str:
        """The profile as JSON text; :meth:`from_json` reads it back equal."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise SerializationError(
                f"not an mlprod profile (format {found!r}, expected {_FORMAT!r}): "
                "make one with mp.profile(df).to_json() or 'mlprod profile DATA > ref.json'"
            )
        columns: dict[str, ColumnSummary] = {}
        for name, s in data["columns"].items():
            columns[name] = (
                NumericSummary.from_dict(s)
                if s["kind"] in ("numeric", "datetime")
                else CategoricalSummary.from_dict(s)
            )
        return cls(
            columns, rows=data["rows"], bins=data["bins"], max_categories=data["max_categories"]
        )

    @classmethod
    def from_json(cls, text: str) -> Profile:
        """Read a profile written by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SerializationError(f"profile JSON does not parse: {exc}") from exc
        return cls.from_dict(data)


def _merge_summaries(parts: list[ColumnSummary]) -> ColumnSummary:
    if isinstance(parts[0], NumericSummary):
        from mlprod.data.drift.sketch import QuantileSketch

        nums = [p for p in parts if isinstance(p, NumericSummary)]
        acc = nums[0]
        for s in nums[1:]:
            acc = acc.merge(s)
        # one compaction over all sketches instead of one per pair keeps the error low
        from dataclasses import replace

        return replace(acc, sketch=QuantileSketch.merge([s.sketch for s in nums]))
    cats = [p for p in parts if isinstance(p, CategoricalSummary)]
    acc_c = cats[0]
    for c in cats[1:]:
        acc_c = acc_c.merge(c)
    return acc_c


def _check_options(bins: int, max_categories: int) -> None:
    if not isinstance(bins, int) or bins < 16:
        raise ConfigurationError(
            f"bins must be an integer >= 16 (the sketch size), got {bins!r}",
            parameter="bins",
            value=bins,
        )
    if not isinstance(max_categories, int) or max_categories < 1:
        raise ConfigurationError(
            f"max_categories must be a positive integer, got {max_categories!r}",
            parameter="max_categories",
            value=max_categories,
        )


def profile(
    data: Any,
    *,
    bins: int = DEFAULT_BINS,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    columns: Iterable[str] | None = None,
) -> Profile:
    """Profile a pandas or Dask DataFrame (or a Series) into a mergeable :class:`Profile`.

    Parameters
    ----------
    data:
        A pandas DataFrame or Series, or a Dask DataFrame (profiled partition
        by partition on its scheduler, then merged).
    bins:
        Sketch size per numeric column: at most ``bins`` weighted points
        kept, whatever the row count; rank error at most ``1 / (2 * bins)``
        for up to :data:`~mlprod.data.drift.summaries.PIECE_ROWS` rows and
        ``(1/2 + 1/32) / bins`` above (longer columns are sorted piece by
        piece, so memory stays at one piece), plus ``1 / (2 * bins)`` per
        merge (the exact bound is tracked in ``sketch.error``).
    max_categories:
        Distinct values counted per categorical column; the rest are counted
        together as "other".
    columns:
        Profile only these columns.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> p = mp.profile(pd.DataFrame({"age": [31, 45, None, 27]}))
    >>> p["age"].count, p["age"].missing, p["age"].max
    (3, 1, 45.0)
    """
    _check_options(bins, max_categories)
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else "value")
    if not isinstance(data, pd.DataFrame):
        if hasattr(data, "to_delayed") and hasattr(data, "npartitions"):
            return profile_dask(data, bins=bins, max_categories=max_categories, columns=columns)
        raise ConfigurationError(
            f"profile needs a pandas or Dask DataFrame, got {type(data).__name__}; "
            "for files use mp.profile_files(paths)",
            parameter="data",
            value=type(data).__name__,
        )
    names = list(data.columns) if columns is None else list(columns)
    missing = [c for c in names if c not in data.columns]
    if missing:
        raise ConfigurationError(
            f"columns {missing} are not in the frame (it has {list(data.columns)})",
            parameter="columns",
            value=missing,
        )
    summaries = {
        str(name): summarise(data[name], bins=bins, max_categories=max_categories) for name in names
    }
    return Profile(summaries, rows=len(data), bins=bins, max_categories=max_categories)


def profile_dask(
    ddf: Any,
    *,
    bins: int = DEFAULT_BINS,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    columns: Iterable[str] | None = None,
) -> Profile:
    """Profile a Dask DataFrame partition-wise on its scheduler and merge the profiles.

    Only the profiles (kilobytes) travel back from the workers. Runs on the
    current ``distributed`` client when one is active.
    """
    from mlprod._internal.lazy import optional_import

    dask = optional_import("dask", feature="profiling a Dask DataFrame")
    if columns is not None:
        ddf = ddf[list(columns)]
    task = dask.delayed(_profile_partition)
    parts = dask.compute(*[task(part, bins, max_categories) for part in ddf.to_delayed()])
    if not parts:
        return Profile({}, rows=0, bins=bins, max_categories=max_categories)
    return Profile.merge(list(parts))


def _profile_partition(frame: pd.DataFrame, bins: int, max_categories: int) -> Profile:
    return profile(frame, bins=bins, max_categories=max_categories)


profile.__module__ = "mlprod"  # documented and reported under its public path
