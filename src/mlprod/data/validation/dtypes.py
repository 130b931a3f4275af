"""Dtype names as users write them, how a column's dtype is matched, and coercion.

A :class:`~mlprod.Column` keeps its dtype as a canonical *name*, so a schema
stays plain data that serialises. Names are pandas' own spellings:

* numpy: ``int64``, ``uint8``, ``float32``, ``bool``, ``object``, ``datetime64[ns]``;
* pandas nullable: ``Int64``, ``Float64``, ``boolean``, ``string``;
* pandas 3's default text dtype: ``str``;
* pyarrow-backed: ``int64[pyarrow]``, ``double[pyarrow]``, ``large_string[pyarrow]``;
* ``category`` (allowed categories live on the column), ``datetime64[ns, UTC]``.

Matching is exact, with deliberate exceptions where pandas changes the
storage under the user's feet:

* text names (``str``, ``string``) accept any text column: every pandas
  string dtype whatever its storage or missing-value marker
  (``string[python]`` and ``string[pyarrow]`` pin the storage) and, on
  pandas 2 (which keeps text in ``object`` columns unless
  ``future.infer_string`` is on), an ``object`` column holding only text
  and missing values (:func:`column_matches`);
* datetime names compare the time zone but not the resolution (pandas 3
  parses to microseconds where pandas 2 gave nanoseconds).

``coerce`` converts to exactly the named dtype; ``str`` converts to the
dtype pandas itself gives text (``str`` on pandas 3, ``object`` on pandas 2).

Examples
--------
>>> from mlprod.data.validation.dtypes import canonical_name, column_matches, matches
>>> canonical_name(int), canonical_name("Int64"), canonical_name("datetime64[ns, UTC]")
('int64', 'Int64', 'datetime64[ns, UTC]')
>>> import pandas as pd
>>> matches("str", pd.StringDtype()), matches("int64", pd.Series([1.5]).dtype)
(True, False)
>>> column_matches("str", pd.Series(["a", None])), column_matches("str", pd.Series([1]))
(True, False)
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlprod.errors import ConfigurationError

__all__ = [
    "KNOWN_NAMES",
    "canonical_name",
    "coerce_series",
    "column_matches",
    "describe",
    "describe_column",
    "matches",
    "pandas_dtype",
    "text_in_object",
]

# The names that mean "any text column", whatever pandas stores it as.
_TEXT_NAMES = frozenset({"str", "string"})

_PANDAS_3 = int(pd.__version__.split(".", 1)[0]) >= 3

_PY_TYPES: dict[Any, str] = {
    int: "int64",
    float: "float64",
    bool: "bool",
    str: "str",
    object: "object",
    bytes: "object",
}

_ALIASES = {
    "int": "int64",
    "integer": "int64",
    "float": "float64",
    "double": "float64",
    "boolean": "boolean",
    "datetime": "datetime64[ns]",
    "datetime64": "datetime64[ns]",
    "timedelta": "timedelta64[ns]",
    "timedelta64": "timedelta64[ns]",
    "text": "str",
}

# Offered when a name is misspelled; also what the docs list.
KNOWN_NAMES = (
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "bool", "object", "str", "string", "category",
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
    "Float32", "Float64", "boolean", "datetime64[ns]", "datetime64[us]",
    "datetime64[ns, UTC]", "timedelta64[ns]", "string[python]", "string[pyarrow]",
    "int64[pyarrow]", "double[pyarrow]", "bool[pyarrow]", "large_string[pyarrow]",
    "timestamp[us][pyarrow]",
)  # fmt: skip


def text_in_object() -> bool:
    """Whether pandas puts text in ``object`` columns (pandas 2 without ``future.infer_string``).

    Examples
    --------
    >>> import pandas as pd
    >>> text_in_object() == (pd.Series(["a"]).dtype == object)
    True
    """
    if _PANDAS_3:
        # pandas 3 always infers ``str``; reading the option would only raise a deprecation.
        return False
    return not pd.get_option("future.infer_string")


def _object_text_kind(values: Any) -> str | None:
    """``"string"``, ``"empty"`` (only missing values, or none) or ``None`` for an object column.

    ``None`` also when pandas keeps text in its own dtype, where an ``object``
    column is a deliberate choice rather than pandas' way of holding text.
    """
    dtype = getattr(values, "dtype", None)
    if not isinstance(dtype, np.dtype) or dtype.kind != "O" or not text_in_object():
        return None
    kind = pd.api.types.infer_dtype(values, skipna=True)
    return kind if kind in ("string", "empty") else None


def describe(dtype: Any) -> str:
    """The canonical name of an actual pandas/numpy dtype.

    Examples
    --------
    >>> import pandas as pd
    >>> describe(pd.Series([1, None], dtype="Int64").dtype)
    'Int64'
    >>> describe(pd.Series(["a"], dtype="category").dtype)
    'category'
    """
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        return "str" if dtype.na_value is not pd.NA else "string"
    if isinstance(dtype, np.dtype):
        return dtype.name
    return str(dtype)


def describe_column(values: Any) -> str:
    """The canonical name of a column's dtype, naming pandas 2's ``object`` text ``str``.

    ``values`` is a Series or array. On pandas 2 an ``object`` column of text
    is how pandas holds text, so it is described as ``str``, as pandas 3
    would hold it; any other column is :func:`describe` of its dtype.

    Examples
    --------
    >>> import pandas as pd
    >>> describe_column(pd.Series(["a", None])), describe_column(pd.Series([1.5]))
    ('str', 'float64')
    """
    if _object_text_kind(values) == "string":
        return "str"
    return describe(values.dtype)


def canonical_name(spec: Any, *, column: str | None = None) -> str:
    """Turn a dtype as a user writes it (name, Python type, numpy or pandas dtype) into its name.

    Raises :class:`~mlprod.ConfigurationError` for a name neither mlprod nor
    pandas knows, suggesting the closest known names.

    Examples
    --------
    >>> canonical_name("float"), canonical_name(str), canonical_name("int64[pyarrow]")
    ('float64', 'str', 'int64[pyarrow]')
    """
    if spec in _PY_TYPES and not isinstance(spec, str):
        return _PY_TYPES[spec]
    if isinstance(spec, str):
        text = spec.strip()
        if text in ("str", "string", "category", "string[python]", "string[pyarrow]"):
            return text
        text = _ALIASES.get(text, text)
        try:
            resolved = pd.api.types.pandas_dtype(text)
        except (TypeError, ValueError, ImportError):
            where = f" for column {column!r}" if column is not None else ""
            close = difflib.get_close_matches(text, KNOWN_NAMES, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigurationError(
                f"Unknown dtype {spec!r}{where}.{hint} Use a numpy or pandas dtype name "
                "such as 'int64', 'Int64', 'float64', 'str', 'string', 'category', "
                "'datetime64[ns, UTC]' or 'int64[pyarrow]'.",
                parameter="dtype",
                value=spec,
            ) from None
        return describe(resolved)
    try:
        resolved = pd.api.types.pandas_dtype(spec)
    except (TypeError, ValueError):
        where = f" for column {column!r}" if column is not None else ""
        raise ConfigurationError(
            f"Cannot use {spec!r} ({type(spec).__name__}) as a dtype{where}: pass a dtype "
            "name such as 'int64' or 'str', a Python type, or a numpy/pandas dtype.",
            parameter="dtype",
            value=repr(spec),
        ) from None
    return describe(resolved)


def _is_arrow_string(dtype: Any) -> bool:
    pa_type = getattr(dtype, "pyarrow_dtype", None)
    if pa_type is None:
        return False
    import pyarrow as pa

    return bool(pa.types.is_string(pa_type) or pa.types.is_large_string(pa_type))


def _tz_of(name: str) -> str | None:
    inner = name[name.index("[") + 1 : -1] if "[" in name else ""
    return inner.split(",", 1)[1].strip() if "," in inner else None


@functools.lru_cache(maxsize=512)
def _matcher(name: str) -> Callable[[Any], bool]:
    if name in _TEXT_NAMES:
        return lambda d: isinstance(d, pd.StringDtype) or _is_arrow_string(d)
    if name == "string[python]":
        return lambda d: isinstance(d, pd.StringDtype) and d.storage == "python"
    if name == "string[pyarrow]":
        return lambda d: (
            # pandas 2.2 names the storage of its future "str" dtype "pyarrow_numpy".
            (isinstance(d, pd.StringDtype) and d.storage in ("pyarrow", "pyarrow_numpy"))
            or _is_arrow_string(d)
        )
    if name == "category":
        return lambda d: isinstance(d, pd.CategoricalDtype)
    if name.startswith(("datetime64", "timedelta64")):
        kind = "M" if name.startswith("datetime64") else "m"
        tz = _tz_of(name)

        def match_time(d: Any) -> bool:
            if getattr(d, "kind", None) != kind:
                return False
            actual_tz = getattr(d, "tz", None)
            if tz is None or actual_tz is None:
                return tz is None and actual_tz is None
            return str(actual_tz) == tz

        return match_time
    return lambda d: describe(d) == name


# Actual dtypes are few and hashable, so each (name, dtype) verdict is computed once.
_VERDICTS: dict[tuple[str, Any], bool] = {}


def matches(name: str | None, dtype: Any) -> bool:
    """Tell whether an actual dtype satisfies the dtype ``name`` (``None`` accepts any).

    Examples
    --------
    >>> import numpy as np
    >>> matches("datetime64[ns]", np.dtype("datetime64[us]"))
    True
    >>> matches("Int64", np.dtype("int64"))
    False
    """
    if name is None:
        return True
    if isinstance(dtype, pd.CategoricalDtype):
        # Hashing or comparing a categorical dtype walks its categories; the verdict does not.
        return _matcher(name)(dtype)
    key = (name, dtype)
    try:
        return _VERDICTS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable dtype: decide without caching
        return _matcher(name)(dtype)
    verdict = _matcher(name)(dtype)
    if len(_VERDICTS) < 4096:
        _VERDICTS[key] = verdict
    return verdict


def column_matches(name: str | None, values: Any) -> bool:
    """Tell whether a column (Series or array) satisfies the dtype ``name``.

    As :func:`matches` on its dtype; besides, where pandas keeps text in
    ``object`` columns (pandas 2), an ``object`` column holding only text and
    missing values satisfies the text names ``str`` and ``string``. A column
    with no value at all is given the benefit of the doubt, so a slice of a
    text column that happens to hold only missing values still passes.

    Examples
    --------
    >>> import pandas as pd
    >>> column_matches("str", pd.Series(["a"], dtype="string"))
    True
    >>> column_matches("string", pd.Series(["a", 1], dtype=object))
    False
    """
    if matches(name, values.dtype):
        return True
    return name in _TEXT_NAMES and _object_text_kind(values) is not None


def pandas_dtype(
    name: str, *, categories: Sequence[Any] | None = None, ordered: bool = False
) -> Any:
    """The pandas/numpy dtype object a name converts to (what ``coerce`` produces).

    Examples
    --------
    >>> pandas_dtype("Int64"), pandas_dtype("category", categories=["a", "b"]).categories.tolist()
    (Int64Dtype(), ['a', 'b'])
    """
    if name == "str":
        return _default_text_dtype()
    if name == "category":
        return pd.CategoricalDtype(list(categories) if categories is not None else None, ordered)
    if name == "string[pyarrow]":
        return pd.StringDtype("pyarrow")
    if name == "string[python]":
        return pd.StringDtype("python")
    return pd.api.types.pandas_dtype(name)


def _default_text_dtype() -> Any:
    if _PANDAS_3:
        return pd.api.types.pandas_dtype("str")
    if text_in_object():
        return np.dtype(object)
    # pandas 2 with future.infer_string: its NaN-marked Arrow strings, as pandas 3's "str".
    return pd.StringDtype("pyarrow_numpy")


def _kind(target: Any) -> str:
    if isinstance(target, pd.CategoricalDtype):
        return "category"
    if isinstance(target, pd.StringDtype) or _is_arrow_string(target):
        return "text"
    kind = getattr(target, "kind", "O")
    return {
        "i": "int",
        "u": "int",
        "f": "float",
        "b": "bool",
        "M": "datetime",
        "m": "timedelta",
    }.get(kind, "other")


_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
               "t": True, "f": False, "y": True, "n": False}  # fmt: skip


def coerce_series(
    series: pd.Series,
    name: str,
    *,
    categories: Sequence[Any] | None = None,
    ordered: bool = False,
) -> tuple[pd.Series, np.ndarray]:
    """Convert ``series`` to the dtype ``name``; return it and a mask of cells that could not.

    A cell that could not convert becomes missing in the result and ``True``
    in the mask; cells that were missing already are not counted. When the
    target cannot hold missing values (``int64`` with gaps), the result keeps
    the closest dtype that can (``float64``), so no value is lost.

    Examples
    --------
    >>> import pandas as pd
    >>> out, failed = coerce_series(pd.Series(["1", "x", None]), "Int64")
    >>> out.tolist(), failed.tolist()
    ([1, <NA>, <NA>], [False, True, False])
    """
    target = pandas_dtype(name, categories=categories, ordered=ordered)
    was_missing = np.asarray(series.isna(), dtype=bool)
    kind = _kind(target)
    if kind == "text":
        out = series.astype(target)
        return out, np.zeros(len(series), dtype=bool)
    if name in _TEXT_NAMES and isinstance(target, np.dtype) and target.kind == "O":
        # pandas 2's astype(str) writes missing values as the text "None"/"nan"; keep them missing.
        text = series.astype(pd.StringDtype("python")).astype(object)
        return text.where(~was_missing, np.nan), np.zeros(len(series), dtype=bool)
    if kind == "category":
        if categories is None:
            return series.astype(target), np.zeros(len(series), dtype=bool)
        failed = ~np.asarray(series.isin(list(categories)), dtype=bool) & ~was_missing
        return series.where(~failed).astype(target), failed
    if kind in ("int", "float"):
        if pd.api.types.is_bool_dtype(series.dtype):
            numeric = series.astype("float64")
        else:
            numeric = pd.to_numeric(series, errors="coerce")
        failed = np.asarray(numeric.isna(), dtype=bool) & ~was_missing
        if kind == "int":
            as_float = numeric.astype("float64")
            values = as_float.to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                fractional = np.isfinite(values) & (values != np.floor(values))
                # Beyond 2**63 an int64 wraps around silently; refuse instead.
                too_big = np.abs(values) >= 2.0**63
            failed |= (fractional | too_big | np.isinf(values)) & ~was_missing
            numeric = as_float.where(~(failed | was_missing), np.nan)
        else:
            numeric = numeric.where(~failed, np.nan)
        return _cast_or_keep(numeric, target), failed
    if kind == "bool":
        if pd.api.types.is_numeric_dtype(series.dtype):
            mapped = series.map({1: True, 0: False})
        else:
            mapped = series.astype("str").str.strip().str.lower().map(_BOOL_WORDS)
        failed = np.asarray(mapped.isna(), dtype=bool) & ~was_missing
        return _cast_or_keep(mapped.astype("boolean"), target), failed
    if kind == "datetime":
        tz = getattr(target, "tz", None)
        converted = pd.to_datetime(series, errors="coerce", utc=tz is not None)
        if tz is not None:
            converted = converted.dt.tz_convert(tz)
        failed = np.asarray(converted.isna(), dtype=bool) & ~was_missing
        return _cast_or_keep(converted, target), failed
    if kind == "timedelta":
        delta = pd.to_timedelta(series, errors="coerce")
        failed = np.asarray(delta.isna(), dtype=bool) & ~was_missing
        return _cast_or_keep(delta, target), failed
    try:
        out = series.astype(target)
    except (TypeError, ValueError):
        return series, ~was_missing
    return out, np.asarray(out.isna(), dtype=bool) & ~was_missing


def _cast_or_keep(series: pd.Series, target: Any) -> pd.Series:
    try:
        return series.astype(target)
    except (TypeError, ValueError, OverflowError):
        return series
