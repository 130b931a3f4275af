"""Hypothesis strategies of frames a schema accepts: :meth:`mlprod.Schema.strategy`.

Values are *generated* to satisfy the built-in checks (bounds become the
strategy's bounds, ``isin`` samples, ``str_matches`` generates from the
regular expression, ``unique`` draws distinct values, ``monotonic`` sorts)
rather than drawn at random and filtered, so property tests stay fast.
What cannot be built in — custom checks, frame-level checks, a second text
rule on one column — is met by filtering, which works while those rules
reject few values.

Needs the ``testing`` extra (hypothesis).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlprod._internal.lazy import optional_import
from mlprod.data.validation import checks as C  # noqa: N812
from mlprod.data.validation.dtypes import pandas_dtype
from mlprod.errors import ConfigurationError

if TYPE_CHECKING:
    from mlprod.data.validation.schema import Column, Schema

__all__ = ["column_elements", "schema_strategy"]

_ASCII = {"min_codepoint": 32, "max_codepoint": 126}
# Keeps generated timestamps inside every resolution pandas uses (ns overflows in 2262).
_EARLIEST = _dt.datetime(1970, 1, 1)
_LATEST = _dt.datetime(2200, 1, 1)


def _bounds(column: Column) -> tuple[Any, Any, bool, bool, set[int]]:
    """Lower/upper bound, whether each is inclusive, and which checks they satisfy."""
    lo: Any = None
    hi: Any = None
    lo_inc = hi_inc = True
    used: set[int] = set()

    def tighten_lo(value: Any, inclusive: bool) -> None:
        nonlocal lo, lo_inc
        if lo is None or value > lo or (value == lo and not inclusive):
            lo, lo_inc = value, inclusive

    def tighten_hi(value: Any, inclusive: bool) -> None:
        nonlocal hi, hi_inc
        if hi is None or value < hi or (value == hi and not inclusive):
            hi, hi_inc = value, inclusive

    for i, check in enumerate(column.checks):
        if isinstance(check, C.in_range):
            if check.min_value is not None:
                tighten_lo(check.min_value, check.include_min)
            if check.max_value is not None:
                tighten_hi(check.max_value, check.include_max)
            used.add(i)
        elif isinstance(check, C.ge | C.gt):
            tighten_lo(check.value, isinstance(check, C.ge))
            used.add(i)
        elif isinstance(check, C.le | C.lt):
            tighten_hi(check.value, isinstance(check, C.le))
            used.add(i)
    return lo, hi, lo_inc, hi_inc, used


def _text_elements(st: Any, column: Column, used: set[int]) -> Any:
    for i, check in enumerate(column.checks):
        # Python's "$" also matches before a final newline, Arrow's (RE2) does not.
        if isinstance(check, C.str_matches):
            used.add(i)
            return st.from_regex(f"^(?:{check.pattern})", alphabet=st.characters(**_ASCII)).filter(
                lambda s: "\n" not in s
            )
        if isinstance(check, C.str_contains):
            used.add(i)
            return st.from_regex(check.pattern, alphabet=st.characters(**_ASCII)).filter(
                lambda s: "\n" not in s
            )
    prefix = suffix = ""
    min_size, max_size = 0, 12
    for i, check in enumerate(column.checks):
        if isinstance(check, C.str_startswith):
            prefix = check.prefix
            used.add(i)
        elif isinstance(check, C.str_endswith):
            suffix = check.suffix
            used.add(i)
    for check in column.checks:
        if isinstance(check, C.str_length):
            fixed = len(prefix) + len(suffix)
            min_size = max((check.min_value or 0) - fixed, 0)
            max_size = max((check.max_value if check.max_value is not None else 12) - fixed, 0)
            max_size = max(max_size, min_size)
    body = st.text(
        st.characters(codec="utf-8", exclude_characters="\x00"),
        min_size=min_size,
        max_size=max_size,
    )
    if prefix or suffix:
        return body.map(lambda s: f"{prefix}{s}{suffix}")
    return body


def column_elements(column: Column) -> Any:
    """A strategy of single valid values for ``column`` (missing values not included).

    Examples
    --------
    >>> import mlprod as mp
    >>> from mlprod.data.validation.strategies import column_elements
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(column_elements(mp.Column("int64", checks=[mp.checks.in_range(1, 3)])))
    ... def test_in_range(value):
    ...     assert 1 <= value <= 3
    >>> test_in_range()
    """
    st = optional_import("hypothesis.strategies", feature="Schema.strategy()", extra="testing")
    name = column.dtype or "int64"
    target = pandas_dtype(name, categories=column.categories, ordered=column.ordered)
    used: set[int] = set()
    lo, hi, lo_inc, hi_inc, bounded = _bounds(column)
    kind = getattr(target, "kind", "O")
    is_text = isinstance(target, pd.StringDtype) or name.startswith(("str", "large_str"))
    choices = _choices(column)
    if choices is not None:
        options = list(choices.values) if isinstance(choices, C.isin) else [choices.value]
        used.add(column.checks.index(choices))
        base = st.sampled_from(options) if options else st.nothing()
    elif isinstance(target, pd.CategoricalDtype):
        cats = list(column.categories) if column.categories is not None else ["a", "b", "c"]
        base = st.sampled_from(cats)
    elif is_text or name == "object":
        base = _text_elements(st, column, used)
    elif kind == "b":
        base = st.booleans()
    elif kind in "iu":
        info = np.iinfo(getattr(target, "numpy_dtype", target))
        low = info.min if lo is None else math.ceil(lo) + (0 if lo_inc or lo != int(lo) else 1)
        high = info.max if hi is None else math.floor(hi) - (0 if hi_inc or hi != int(hi) else 1)
        base = st.integers(max(low, int(info.min)), min(high, int(info.max)))
        used |= bounded
    elif kind == "f":
        width = 32 if "32" in name or name.startswith("float[") else 64
        base = st.floats(
            min_value=lo,
            max_value=hi,
            exclude_min=not lo_inc and lo is not None,
            exclude_max=not hi_inc and hi is not None,
            allow_nan=False,
            allow_infinity=False,
            width=width,
        )
        used |= bounded
    elif kind == "M":
        tz = getattr(target, "tz", None) or getattr(
            getattr(target, "pyarrow_dtype", None), "tz", None
        )
        low = _EARLIEST if lo is None else max(_naive(lo), _EARLIEST)
        high = _LATEST if hi is None else min(_naive(hi), _LATEST)
        base = st.datetimes(min_value=low, max_value=high).map(
            lambda d: pd.Timestamp(d, tz="UTC").tz_convert(tz) if tz else pd.Timestamp(d)
        )
        used |= bounded
    elif kind == "m":
        base = st.timedeltas(
            min_value=_dt.timedelta(days=-9999), max_value=_dt.timedelta(days=9999)
        )
    else:
        raise ConfigurationError(
            f"Cannot generate values of dtype {name!r}: give the column a numeric, text, "
            "boolean, category or datetime dtype.",
            parameter="dtype",
            value=name,
        )
    rest = [
        c
        for i, c in enumerate(column.checks)
        if i not in used and not isinstance(c, C.unique | C.monotonic | C.finite)
    ]
    if rest:
        base = base.filter(lambda v: _passes(rest, v, target))
    return base


def _choices(column: Column) -> Any:
    """The first check that lists the allowed values (``isin`` or ``eq``), if any."""
    for check in column.checks:
        if isinstance(check, C.eq) or (
            isinstance(check, C.isin) and not isinstance(check, C.notin)
        ):
            return check
    return None


def _capacity(column: Column) -> int | None:
    """How many distinct valid values a column has, when that is small enough to matter."""
    choices = _choices(column)
    if choices is not None:
        return len(set(choices.values)) if isinstance(choices, C.isin) else 1
    if column.dtype == "category" and column.categories is not None:
        return len(column.categories)
    kind = getattr(pandas_dtype(column.dtype or "int64"), "kind", "O")
    if kind == "b":
        return 2
    lo, hi, lo_inc, hi_inc, _ = _bounds(column)
    if lo is None or hi is None:
        return None
    if kind in "iu":
        low = math.ceil(lo) + (0 if lo_inc or lo != int(lo) else 1)
        high = math.floor(hi) - (0 if hi_inc or hi != int(hi) else 1)
        return int(max(high - low + 1, 0))
    return 1 if lo == hi else None


def _naive(value: Any) -> _dt.datetime:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    result: _dt.datetime = stamp.to_pydatetime()
    return result


def _passes(rest: list[Any], value: Any, target: Any) -> bool:
    series = pd.Series([value], dtype=target)
    for check in rest:
        try:
            ok = check(series)
        except Exception:
            return False
        if isinstance(ok, bool | np.bool_):
            if not ok:
                return False
        elif not bool(np.asarray(ok, dtype=bool).all()):
            return False
    return True


def _series(values: list[Any], column: Column, index: pd.RangeIndex) -> pd.Series:
    target = pandas_dtype(
        column.dtype or "int64", categories=column.categories, ordered=column.ordered
    )
    if isinstance(target, np.dtype) and target.kind == "M":
        stamps: pd.Series = pd.Series(pd.to_datetime(values), index=index).astype(target)
        return stamps
    series: pd.Series = pd.Series(values, dtype=target, index=index)
    return series


def schema_strategy(schema: Schema, *, min_rows: int = 0, max_rows: int = 20) -> Any:
    """A strategy of DataFrames that ``schema.validate`` accepts; see ``Schema.strategy``.

    Examples
    --------
    >>> import mlprod as mp
    >>> from mlprod.data.validation.strategies import schema_strategy
    >>> schema = mp.Schema({"id": mp.Column("int64", unique=True)})
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(schema_strategy(schema, max_rows=5))
    ... def test_ids_are_unique(df):
    ...     assert df["id"].is_unique
    >>> test_ids_are_unique()
    """
    st = optional_import("hypothesis.strategies", feature="Schema.strategy()", extra="testing")
    if min_rows < 0 or max_rows < min_rows:
        raise ConfigurationError(
            f"Need 0 <= min_rows <= max_rows, got min_rows={min_rows}, max_rows={max_rows}.",
            parameter="max_rows",
            value=max_rows,
        )
    plans = []
    most = max_rows
    for name, column in schema.columns.items():
        elements = column_elements(column)
        monotone = next((c for c in column.checks if isinstance(c, C.monotonic)), None)
        distinct = (
            column.unique
            or any(isinstance(c, C.unique) for c in column.checks)
            or (monotone is not None and monotone.strict)
        )
        plans.append((name, column, elements, distinct, monotone))
        capacity = _capacity(column) if distinct else None
        if capacity is not None:
            most = min(most, capacity)
    if most < min_rows:
        raise ConfigurationError(
            f"The schema cannot hold {min_rows} rows: a unique column has only {most} "
            "valid values. Lower min_rows or widen the column's checks.",
            parameter="min_rows",
            value=min_rows,
        )

    @st.composite  # type: ignore[untyped-decorator]
    def frames(draw: Any) -> pd.DataFrame:
        rows = draw(st.integers(min_rows, most))
        index = pd.RangeIndex(rows)
        data: dict[str, pd.Series] = {}
        for name, column, elements, distinct, monotone in plans:
            values = draw(st.lists(elements, min_size=rows, max_size=rows, unique=distinct))
            if monotone is not None:
                values.sort(reverse=monotone.decreasing)
            if column.nullable and rows:
                missing = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
                values = [None if m else v for v, m in zip(values, missing)]
            data[name] = _series(values, column, index)
        return pd.DataFrame(data, index=index)

    strategy = frames()
    if (
        schema.checks
        or schema.unique
        or any(
            not isinstance(c, C.BuiltinCheck) for col in schema.columns.values() for c in col.checks
        )
    ):
        strategy = strategy.filter(lambda df: schema.validate(df).ok)
    return strategy
