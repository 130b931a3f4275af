"""Propose a schema from a frame: :func:`infer_schema`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlprod.data.validation import checks as _checks
from mlprod.data.validation.dtypes import describe_column
from mlprod.data.validation.nested import unnamed_dtype_reason
from mlprod.data.validation.schema import Column, Schema
from mlprod.errors import ConfigurationError

__all__ = ["infer_schema"]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _infer_column(
    series: pd.Series, *, ranges: bool, max_categories: int, uniqueness: bool
) -> Column:
    dtype = series.dtype
    present = series.dropna()
    nullable = len(present) < len(series)
    reason = unnamed_dtype_reason(dtype)
    if reason is not None:
        return Column(None, nullable=nullable, description=reason)
    name = describe_column(series)
    column_checks: list[Any] = []
    categories = None
    unique = False
    kind = getattr(dtype, "kind", "O")
    is_text = pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
    if isinstance(dtype, pd.CategoricalDtype):
        categories = list(dtype.categories)
    elif ranges and len(present) and kind in "iuf" and not pd.api.types.is_bool_dtype(dtype):
        low, high = _plain(present.min()), _plain(present.max())
        column_checks.append(_checks.in_range(low, high))
    elif ranges and len(present) and kind == "M":
        column_checks.append(_checks.datetime_between(present.min(), present.max()))
    elif is_text and len(present) and name != "object":
        distinct = present.unique()
        if len(distinct) <= max_categories and len(distinct) * 2 <= len(series):
            column_checks.append(_checks.isin(tuple(sorted(str(v) for v in distinct))))
    if uniqueness and len(present) >= 2 and (kind in "iu" or is_text):
        try:
            unique = bool(present.is_unique)
        except TypeError:  # unhashable values in an object column
            unique = False
    ordered = bool(getattr(dtype, "ordered", False))
    return Column(
        name,
        nullable=nullable,
        unique=unique,
        checks=column_checks,
        categories=categories,
        ordered=ordered,
    )


def infer_schema(
    data: pd.DataFrame,
    *,
    ranges: bool = True,
    max_categories: int = 20,
    unique: bool = True,
    strict: bool = True,
    name: str | None = None,
) -> Schema:
    """Propose a schema that ``data`` passes: dtypes, nullability, ranges, categories, keys.

    A starting point to edit, not a verdict: observed ranges are as tight as
    the sample, so widen them to what the data *may* hold.

    Parameters
    ----------
    data:
        The frame to learn from.
    ranges:
        Add ``in_range``/``datetime_between`` checks from observed minima and maxima.
    max_categories:
        Text columns with at most this many distinct values (and each seen
        at least twice on average) get an ``isin`` check.
    unique:
        Mark integer and text columns whose values are all distinct as ``unique``.
    strict:
        Make the schema refuse columns it does not name.
    name:
        The schema's name.

    Examples
    --------
    >>> import pandas as pd, mlprod as mp
    >>> df = pd.DataFrame({"id": [1, 2, 3], "score": [0.5, None, 0.9]})
    >>> schema = mp.infer_schema(df)
    >>> schema.columns["id"]
    Column('int64', unique=True, checks=[checks.in_range(min_value=1, max_value=3)])
    >>> schema.validate(df).ok
    True
    """
    if not isinstance(data, pd.DataFrame):
        raise ConfigurationError(
            f"infer_schema() needs a pandas DataFrame, got {type(data).__name__}.",
            parameter="data",
            value=type(data).__name__,
        )
    if not data.columns.is_unique:
        dupes = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise ConfigurationError(
            f"Cannot infer a schema with duplicate column names {dupes}: rename them first.",
            parameter="data",
        )
    columns = {
        str(col): _infer_column(
            data[col], ranges=ranges, max_categories=max_categories, uniqueness=unique
        )
        for col in data.columns
    }
    return Schema(columns, strict=strict, name=name)


# Reported, documented and pickled under the public path.
infer_schema.__module__ = "mlprod"
