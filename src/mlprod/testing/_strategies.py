"""Strategies of data: frames a schema accepts, and rows like a real frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.lazy import optional_import
from mlprod.errors import ConfigurationError
from mlprod.testing._calls import public

__all__ = ["frames", "from_profile", "rows_like"]

# Beyond this many distinct values a text column samples its most frequent ones.
_MAX_CHOICES = 1000


def _st() -> Any:
    return optional_import("hypothesis.strategies", feature="mlprod.testing", extra="testing")


def _row_bounds(rows: int | Sequence[int] | None, default: tuple[int, int]) -> tuple[int, int]:
    if rows is None:
        return default
    if isinstance(rows, bool):
        raise ConfigurationError(
            f"rows must be a count or a (min, max) pair, got {rows!r}.",
            parameter="rows",
            value=rows,
        )
    if isinstance(rows, int | np.integer):
        low = high = int(rows)
    else:
        try:
            low, high = (int(r) for r in rows)
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"rows must be a count or a (min, max) pair, got {rows!r}.",
                parameter="rows",
                value=rows,
            ) from None
    if low < 0 or high < low:
        raise ConfigurationError(
            f"rows needs 0 <= min <= max, got {rows!r}.", parameter="rows", value=rows
        )
    return low, high


def _probe(strategy: Any) -> bool:
    """Whether ``strategy`` yields any example within a few tries."""
    hyp = optional_import("hypothesis", feature="mlprod.testing", extra="testing")
    # generate only: the first example answers the question, shrinking it is waste
    settings = hyp.settings(
        max_examples=20, database=None, deadline=None, phases=[hyp.Phase.generate]
    )
    try:
        hyp.find(strategy, lambda _: True, settings=settings)
    except (
        hyp.errors.NoSuchExample,
        hyp.errors.Unsatisfiable,
        hyp.errors.FailedHealthCheck,
        hyp.errors.InvalidArgument,  # e.g. a non-empty list of nothing(): isin([])
    ):
        return False
    return True


def frames(schema: Any, *, rows: int | tuple[int, int] = (0, 20)) -> Any:
    """A hypothesis strategy of DataFrames that ``schema.validate`` accepts.

    The public face of :meth:`mlprod.Schema.strategy`: values are generated
    to satisfy the built-in checks (bounds, ``isin``, patterns, uniqueness,
    order) rather than drawn and filtered. Before returning, each column is
    probed once, so a schema no row can satisfy fails here, naming the
    column and its checks, instead of as a hypothesis health check later.

    Parameters
    ----------
    schema:
        An :class:`mlprod.Schema`.
    rows:
        An exact row count, or a ``(min, max)`` pair (default ``(0, 20)``).

    Raises
    ------
    mlprod.ConfigurationError
        ``schema`` is not a Schema, ``rows`` is invalid, or a column's checks
        admit no value (``parameter="schema"``, ``value`` the column).

    Examples
    --------
    >>> import mlprod as mp, mlprod.testing as mt
    >>> from hypothesis import given, settings
    >>> schema = mp.Schema({"age": mp.Column("int64", checks=[mp.checks.in_range(0, 120)])})
    >>> @settings(max_examples=10)
    ... @given(mt.frames(schema, rows=(1, 5)))
    ... def test_ages(df):
    ...     assert df["age"].between(0, 120).all()
    >>> test_ages()
    """
    Schema = public("Schema")
    if not isinstance(schema, Schema):
        raise ConfigurationError(
            f"frames() needs an mlprod.Schema, got {type(schema).__name__}; build one with "
            "mp.Schema({...}) or mp.infer_schema(df).",
            parameter="schema",
            value=type(schema).__name__,
        )
    low, high = _row_bounds(rows, (0, 20))
    for name, column in schema.columns.items():
        single = Schema({name: column})
        try:
            ok = _probe(single.strategy(min_rows=1, max_rows=1))
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"Column {name!r} cannot be generated: {exc}", parameter="schema", value=name
            ) from exc
        if not ok:
            checks = ", ".join(getattr(c, "name", None) or repr(c) for c in column.checks)
            raise ConfigurationError(
                f"No valid value of column {name!r} ({column.dtype}) could be generated: its "
                f"checks [{checks}] admit nothing the strategy can draw. Widen or remove the "
                "check that excludes every value.",
                parameter="schema",
                value=name,
            )
    strategy = schema.strategy(min_rows=low, max_rows=high)
    if low > 0 and not _probe(strategy):
        raise ConfigurationError(
            "Each column can be generated, but no frame passes the schema's frame-level "
            f"checks or uniqueness rules with {low}..{high} rows: relax schema.checks/unique "
            "or lower rows.",
            parameter="schema",
            value="frame-level checks",
        )
    return strategy


def _column_elements(series: pd.Series) -> Any:
    st = _st()
    values = series.dropna()
    dtype = series.dtype
    if len(values) == 0:
        return st.just(None)
    if isinstance(dtype, pd.CategoricalDtype):
        return st.sampled_from(list(dtype.categories))
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return st.sampled_from(sorted(set(values.astype(bool))))
    if kind in "iu":
        return st.integers(int(values.min()), int(values.max()))
    if kind == "f":
        width = 32 if getattr(dtype, "itemsize", 8) == 4 else 64
        finite = values[np.isfinite(values.to_numpy(dtype="float64"))]
        if len(finite) == 0:
            return st.sampled_from(list(values))
        return st.floats(float(finite.min()), float(finite.max()), width=width)
    if kind == "M":
        low, high = values.min(), values.max()
        span = int((high - low) / pd.Timedelta(1, "s"))
        return st.integers(0, max(span, 0)).map(lambda s: low + pd.Timedelta(s, "s"))
    counts = values.value_counts()
    return st.sampled_from(list(counts.index[:_MAX_CHOICES]))


def rows_like(df: pd.DataFrame, *, rows: int | tuple[int, int] = (1, 10)) -> Any:
    """A hypothesis strategy of frames shaped like ``df``, drawn around its values.

    Each column keeps its name, position and dtype; numbers and dates are
    drawn within the observed range, categories and text from the observed
    values (categorical columns keep their categories), and missing values
    appear only in columns that have them. Use it to exercise a model trained
    on ``df`` with inputs it could plausibly meet.

    Parameters
    ----------
    df:
        The frame to imitate (a few hundred rows are enough).
    rows:
        An exact row count, or a ``(min, max)`` pair (default ``(1, 10)``).

    Raises
    ------
    mlprod.ConfigurationError
        ``df`` is not a DataFrame, has no columns, or ``rows`` is invalid.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> from hypothesis import given, settings
    >>> df = pd.DataFrame({"income": [20.0, 90.0], "region": ["north", "south"]})
    >>> @settings(max_examples=10)
    ... @given(mt.rows_like(df, rows=3))
    ... def test_within_range(sample):
    ...     assert len(sample) == 3 and sample["income"].between(20, 90).all()
    ...     assert set(sample["region"]) <= {"north", "south"}
    >>> test_within_range()
    """
    if not isinstance(df, pd.DataFrame):
        raise ConfigurationError(
            f"rows_like() needs a pandas DataFrame, got {type(df).__name__}.",
            parameter="df",
            value=type(df).__name__,
        )
    if df.shape[1] == 0:
        raise ConfigurationError(
            "rows_like() needs a frame with at least one column.", parameter="df", value=0
        )
    low, high = _row_bounds(rows, (1, 10))
    st = _st()
    plans = []
    for position in range(df.shape[1]):
        series = df.iloc[:, position]
        elements = _column_elements(series)
        if series.isna().any() and series.notna().any():
            elements = st.one_of(elements, st.none())
        plans.append((position, series.dtype, elements))

    dtypes = [dtype for _, dtype, _ in plans]

    def build(records: list[tuple[Any, ...]]) -> pd.DataFrame:
        n = len(records)
        index = pd.RangeIndex(n)
        columns = {
            position: pd.Series([r[position] for r in records], dtype=dtype, index=index)
            for position, dtype in enumerate(dtypes)
        }
        frame = pd.DataFrame(columns, index=index)
        frame.columns = df.columns
        return frame

    # A list of row tuples, so shrinking deletes whole rows as well as simplifying values.
    row = st.tuples(*(elements for _, _, elements in plans))
    return st.lists(row, min_size=low, max_size=high).map(build)


def _profile_dtype(summary: Any) -> Any:
    name = str(summary.dtype)
    if summary.kind == "categorical" and name == "category":
        return pd.CategoricalDtype(sorted(str(k) for k in summary.counts))
    try:
        return pd.api.types.pandas_dtype(name)
    except TypeError:
        return np.dtype(object)


def _profile_elements(column: str, summary: Any) -> Any:
    st = _st()
    kind = summary.kind
    if kind in ("categorical", "boolean"):
        keys = [str(k) for k in summary.counts]
        if not keys:
            return st.just(None)
        if kind == "boolean":
            return st.sampled_from(sorted({k == "True" for k in keys}))
        return st.sampled_from(sorted(keys)[:_MAX_CHOICES])
    low, high = summary.min, summary.max
    if low is None or high is None:
        return st.just(None)
    if kind == "datetime":
        dtype = str(summary.dtype)
        tz = dtype.split(",", 1)[1].rstrip("]").strip() if "," in dtype else None
        start = pd.Timestamp(float(low), unit="s", tz="UTC")
        span = max(int(float(high) - float(low)), 0)

        def at(seconds: int) -> Any:
            stamp = start + pd.Timedelta(seconds, "s")
            return stamp.tz_convert(tz) if tz else stamp.tz_localize(None)

        return st.integers(0, span).map(at)
    if _profile_dtype(summary).kind in "iu":
        return st.integers(int(np.ceil(low)), int(np.floor(high)))
    return st.floats(float(low), float(high), allow_nan=False, allow_infinity=False)


def from_profile(profile: Any, *, rows: int | tuple[int, int] = (1, 10)) -> Any:
    """A hypothesis strategy of frames drawn from a drift profile (:func:`mlprod.profile`).

    Each column keeps the profile's dtype; numbers and dates are drawn within
    the profiled minimum and maximum, categories and text from the profiled
    values (the most frequent ones past a cap), and missing values appear
    only in columns the profile saw missing. The reference data itself is not
    needed: a kilobyte profile stored with the model is enough to test it on
    inputs like those it was trained on.

    Parameters
    ----------
    profile:
        A :class:`mlprod.Profile`.
    rows:
        An exact row count, or a ``(min, max)`` pair (default ``(1, 10)``).

    Raises
    ------
    mlprod.ConfigurationError
        ``profile`` is not a profile, has no columns, or ``rows`` is invalid.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp, mlprod.testing as mt
    >>> from hypothesis import given, settings
    >>> ref = mp.profile(pd.DataFrame({"income": [20.0, 90.0, 55.0], "region": ["n", "s", "n"]}))
    >>> @settings(max_examples=10)
    ... @given(mt.from_profile(ref, rows=3))
    ... def test_within_range(sample):
    ...     assert len(sample) == 3 and sample["income"].between(20, 90).all()
    ...     assert set(sample["region"]) <= {"n", "s"}
    >>> test_within_range()
    """
    columns = getattr(profile, "columns", None)
    if not isinstance(columns, Mapping) or not hasattr(profile, "to_json"):
        raise ConfigurationError(
            "from_profile() needs an mlprod Profile (mp.profile(df)), got "
            f"{type(profile).__name__}.",
            parameter="profile",
            value=type(profile).__name__,
        )
    if not columns:
        raise ConfigurationError(
            "from_profile() needs a profile with at least one column.", parameter="profile", value=0
        )
    low, high = _row_bounds(rows, (1, 10))
    st = _st()
    names = list(columns)
    plans = []
    for name in names:
        summary = columns[name]
        elements = _profile_elements(name, summary)
        if summary.missing and summary.count:
            elements = st.one_of(elements, st.none())
        plans.append((_profile_dtype(summary), elements))

    def build(records: list[tuple[Any, ...]]) -> pd.DataFrame:
        index = pd.RangeIndex(len(records))
        data = {
            name: pd.Series([r[i] for r in records], dtype=dtype, index=index)
            for i, (name, (dtype, _)) in enumerate(zip(names, plans))
        }
        return pd.DataFrame(data, index=index)

    row = st.tuples(*(elements for _, elements in plans))
    return st.lists(row, min_size=low, max_size=high).map(build)
