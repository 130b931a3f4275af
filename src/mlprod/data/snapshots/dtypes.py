"""The exact dtypes and index a version loads back with.

Parquet keeps values but not every pandas storage choice: ``string[python]``
and ``str`` read back as pyarrow-backed strings, ``datetime64[s]`` as
milliseconds, a ``DatetimeIndex`` loses its ``freq`` and ``NaN`` in an
object column comes back as ``None``. A commit records a precise spec per
column (:func:`describe`) and the index's (:func:`describe_index`); a load
casts back to them (:func:`restore`), so ``assert_frame_equal(loaded,
committed)`` holds.

Specs are plain strings: ``str(dtype)`` where that names the dtype exactly,
``string[python]``/``string[pyarrow]`` for ``pd.StringDtype`` with ``<NA>``,
``str``/``str[python]`` for the NaN-missing string dtype of pandas 3,
``arrow:<pyarrow type>`` for ``pd.ArrowDtype``, ``object:nan`` for an
object column whose missing values are all float ``NaN``, and
``category:{"categories": [...], "dtype": ..., "ordered": ...}`` for a
categorical column with no rows (whose categories Parquet does not keep).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.canonical import to_jsonable

__all__ = ["describe", "describe_index", "restore"]


def _spec(dtype: Any, values: pd.Series | pd.Index | None = None) -> str:
    if isinstance(dtype, pd.StringDtype):
        na = getattr(dtype, "na_value", pd.NA)
        if na is pd.NA:
            return f"string[{dtype.storage}]"
        return "str" if dtype.storage == "pyarrow" else "str[python]"
    if isinstance(dtype, pd.ArrowDtype):
        return f"arrow:{dtype.pyarrow_dtype}"
    if isinstance(dtype, pd.CategoricalDtype) and values is not None and not len(values):
        # Parquet keeps a categorical's categories in the dictionary of its data
        # pages, and a column with no rows has none: record them here
        return _categories_spec(dtype)
    if isinstance(dtype, np.dtype) and dtype.kind == "O" and values is not None:
        missing = values[pd.isna(values)]
        if len(missing) and all(isinstance(v, float) and math.isnan(v) for v in missing):
            return "object:nan"
    return str(dtype)


def _categories_spec(dtype: pd.CategoricalDtype) -> str:
    cats = dtype.categories
    try:
        values = to_jsonable(cats.tolist())
    except TypeError:  # categories with no JSON form: Parquet's word stands
        return str(dtype)
    inner = _spec(cats.dtype, cats)
    return "category:" + json.dumps(
        {"categories": values, "dtype": inner, "ordered": bool(dtype.ordered)},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _dtype(spec: str) -> Any:
    if spec.startswith("category:"):
        facts = json.loads(spec[9:])
        cats = pd.Index(facts["categories"], dtype=object)
        if facts["dtype"] != "object":
            cats = cats.astype(_dtype(facts["dtype"]))
        return pd.CategoricalDtype(cats, ordered=facts["ordered"])
    if spec.startswith("string[") and spec.endswith("]"):
        return pd.StringDtype(spec[7:-1])
    if spec in {"str", "str[python]"}:
        storage = "pyarrow" if spec == "str" else "python"
        return pd.StringDtype(storage, na_value=float("nan"))
    if spec.startswith("arrow:"):
        return pd.ArrowDtype(_arrow_type(spec[6:]))
    return pd.api.types.pandas_dtype(spec)


def _arrow_type(text: str) -> Any:
    import pyarrow as pa

    aliases = {"date32[day]": pa.date32(), "date64[ms]": pa.date64(), "string": pa.string()}
    if text in aliases:
        return aliases[text]
    dtype: Any = pd.ArrowDtype.construct_from_string(f"{text}[pyarrow]")
    return dtype.pyarrow_dtype


def describe(frame: pd.DataFrame) -> dict[str, str]:
    """Column name (as text) to the precise spec of its dtype."""
    return {str(c): _spec(frame.dtypes.iloc[i], frame.iloc[:, i]) for i, c in enumerate(frame)}


def describe_index(index: pd.Index) -> dict[str, Any]:
    """The index's dtype spec, and its ``freq`` when it has one."""
    if isinstance(index, pd.MultiIndex):
        return {"levels": [_spec(level.dtype, level) for level in index.levels]}
    out: dict[str, Any] = {"dtype": _spec(index.dtype, index)}
    freq = getattr(index, "freqstr", None)
    if freq:
        out["freq"] = freq
    return out


def _cast(values: pd.Series, spec: str) -> pd.Series:
    if spec == "object:nan":
        values = values.astype(object) if values.dtype != object else values
        return values.where(values.notna(), float("nan"))
    if spec == "object":
        values = values.astype(object) if values.dtype != object else values
        # None is the missing marker object columns usually hold (all are one to a fingerprint)
        return values.where(values.notna(), None)
    if _spec(values.dtype) == spec:
        return values
    return values.astype(_dtype(spec))


def restore(
    frame: pd.DataFrame, specs: Mapping[str, str], index: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Cast ``frame``'s columns (and index) back to the recorded specs.

    Unknown or unreadable specs (older manifests, dtypes of another pandas)
    leave the column as Parquet returned it.
    """
    for i, column in enumerate(frame.columns):
        spec = specs.get(str(column))
        if spec is None:
            continue
        try:
            cast: Any = _cast(frame.iloc[:, i], spec)
        except (TypeError, ValueError, ImportError):
            continue
        if cast is not frame.iloc[:, i]:
            frame.isetitem(i, cast)
    if index:
        spec = index.get("dtype")
        try:
            if spec is not None and _spec(frame.index.dtype) != spec and spec != "object":
                frame.index = frame.index.astype(_dtype(spec))
            if index.get("freq") and isinstance(frame.index, pd.DatetimeIndex):
                frame.index = pd.DatetimeIndex(frame.index, freq=index["freq"])
        except (TypeError, ValueError, ImportError):
            pass
    return frame
