"""Array kernels behind the built-in checks: missing values, comparisons, Arrow text.

Each works on a column's array (numpy or a pandas extension array) and
answers *whether* anything fails with a reduction before it builds a mask of
*where*; a kernel returns ``None`` when nothing fails, so the clean case
allocates nothing the size of the column.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlprod.data.validation.temporal import comparable
from mlprod.errors import ConfigurationError

__all__ = [
    "OPS",
    "VIOLATION",
    "arrow_failures",
    "arrow_strings",
    "null_mask",
    "numeric_view",
    "object_text_failures",
    "strip_nulls",
    "to_bool_array",
    "violations",
]

OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
# For each comparison the operator that picks out the *violations*.
VIOLATION = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def null_mask(values: Any) -> np.ndarray | None:
    """Mask of missing cells in a column array, or ``None`` when there are none (cheaply)."""
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if kind == "f":
            # One O(1)-space reduction answers "any NaN?" for the clean common case:
            # min propagates NaN and, unlike a sum, never overflows.
            if len(values) == 0 or not np.isnan(values.min()):
                return None
            mask = np.isnan(values)
        elif kind in "iub":
            return None
        elif kind in "mM":
            mask = np.isnat(values)
        else:
            mask = np.asarray(pd.isna(values), dtype=bool)
        return mask if mask.any() else None
    pa_array = getattr(values, "_pa_array", None)
    if pa_array is not None and pa_array.null_count == 0:
        return None
    codes = getattr(values, "codes", None)
    if isinstance(codes, np.ndarray):
        mask = codes < 0
    else:
        mask = np.asarray(values.isna(), dtype=bool)
    return mask if mask.any() else None


def to_bool_array(result: Any) -> np.ndarray:
    if isinstance(result, np.ndarray):
        return result.astype(bool, copy=False)
    if hasattr(result, "to_numpy"):
        return np.asarray(result.to_numpy(dtype=bool, na_value=False))
    return np.asarray(result, dtype=bool)


def numeric_view(values: Any) -> np.ndarray | None:
    """The column as a plain numpy numeric array, when that is free."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        return values
    return None


def bound_for(values: Any, bound: Any) -> Any:
    kind = getattr(getattr(values, "dtype", None), "kind", "")
    if kind == "M" and isinstance(bound, str | _dt.date):
        stamp = pd.Timestamp(bound)
        tz = getattr(values.dtype, "tz", None)
        if tz is not None and stamp.tzinfo is None:
            raise ConfigurationError(
                f"Bound {bound!r} has no time zone but the column is in {tz}: "
                "give the bound a time zone, e.g. '2024-01-01T00:00Z'.",
                parameter="bound",
                value=str(bound),
            )
        if isinstance(values, np.ndarray):
            return stamp.to_datetime64()
        return stamp
    return bound


def violations(values: Any, op: str, bound: Any) -> np.ndarray | None:
    """Cells where ``values <op> bound`` is false (missing cells never count)."""
    bound = bound_for(values, bound)
    values = comparable(values, bound)
    num = numeric_view(values)
    if num is not None and len(num):
        # Cheap check first: the extremes decide without allocating a mask.
        lo, hi = num.min(), num.max()
        if OPS[op](lo, bound) and OPS[op](hi, bound) and op in ("<", "<=", ">", ">="):
            return None
        bad = OPS[VIOLATION[op]](num, bound)
        return bad if bad.any() else None
    bad = to_bool_array(OPS[VIOLATION[op]](values, bound))
    if isinstance(values, np.ndarray) and values.dtype.kind == "O":
        bad &= ~np.asarray(pd.isna(values), dtype=bool)
    return bad if bad.any() else None


def arrow_strings(values: Any) -> Any:
    """The column as an Arrow string array (zero-copy for Arrow-backed text)."""
    import pyarrow as pa

    pa_array = getattr(values, "_pa_array", None)
    if pa_array is not None and (
        pa.types.is_string(pa_array.type) or pa.types.is_large_string(pa_array.type)
    ):
        return pa_array
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        values = np.asarray(values, dtype=object)
    try:
        return pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def arrow_failures(result: Any) -> np.ndarray | None:
    import pyarrow.compute as pc

    if pc.all(result).as_py() is not False:
        return None
    return ~np.asarray(pc.fill_null(result, True).to_numpy(zero_copy_only=False), dtype=bool)


def object_text_failures(
    values: Any, predicate: Callable[[pd.Series], pd.Series]
) -> np.ndarray | None:
    series = pd.Series(np.asarray(values, dtype=object), copy=False)
    try:
        # The .str accessor gives NaN for anything that is not text.
        is_text = np.asarray(series.str.len().notna(), dtype=bool)
    except AttributeError:  # not a single text value in the column
        is_text = np.zeros(len(series), dtype=bool)
    ok = np.zeros(len(series), dtype=bool)
    if is_text.any():
        ok[is_text] = np.asarray(predicate(series[is_text].astype(object)), dtype=bool)
    bad = ~ok & ~np.asarray(series.isna(), dtype=bool)
    return bad if bad.any() else None


def strip_nulls(bad: np.ndarray | None, null: np.ndarray | None) -> np.ndarray | None:
    if bad is None:
        return None
    if null is not None:
        bad = bad & ~null
    return bad if bad.any() else None
