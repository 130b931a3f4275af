"""Hypothesis strategies shared by the whole suite: frames, columns, schemas.

One place (attrs keeps its ``tests/strategies.py`` the same way):

* :func:`frames` -- DataFrames of every supported dtype, for fingerprint,
  snapshot, diff and inference properties;
* :func:`schemas` -- valid schemas with built-in checks, for validation laws;
* ``TEXT`` is a strategy of strings; ``TEXT_DTYPE`` is the dtype pandas gives
  text on this pandas version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import mlprod as mp

C = mp.checks

# short and long strings, so both the inline (<= 12 bytes) and the buffer path run
TEXT = st.one_of(st.text(max_size=4), st.text(min_size=10, max_size=30), st.just("é" * 7))
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)

# The dtype pandas gives text: "str" on pandas 3, object on pandas 2, whose
# astype("str") would also turn missing values into the text "None".
TEXT_DTYPE = pd.Series(["a"]).dtype


def text_dtype(name):
    """``name``, with pandas 3's default text dtype ``"str"`` read as this pandas' own."""
    return TEXT_DTYPE if name == "str" else name


KINDS = ("int64", "float64", "string", "bool", "category", "datetime", "Int64", "object_str")
# what inference sees: no object columns, and time zones too
INFER_KINDS = ("int64", "float64", "string", "bool", "category", "datetime", "datetime_tz", "Int64")


def _datetimes(values, tz):
    # Built at microseconds directly: pandas 2 parses to nanoseconds, which end in 2262.
    return pd.Series(values, dtype="datetime64[us]").dt.tz_localize(tz)


def column(kind: str, n: int) -> st.SearchStrategy[pd.Series]:
    """A strategy for one column of ``n`` values of ``kind`` (one of ``KINDS``/``INFER_KINDS``)."""
    if kind == "int64":
        return st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype="int64")
        )
    if kind == "float64":
        return st.lists(FLOATS, min_size=n, max_size=n).map(lambda v: pd.Series(v, dtype="float64"))
    if kind == "string":
        return st.lists(st.none() | TEXT, min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype="str")
        )
    if kind == "object_str":
        return st.lists(st.none() | TEXT, min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype=object)
        )
    if kind == "bool":
        return st.lists(st.booleans(), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype=bool)
        )
    if kind == "category":
        return st.lists(
            st.none() | st.sampled_from(["red", "green", "blue"]), min_size=n, max_size=n
        ).map(lambda v: pd.Series(pd.Categorical(v, categories=["red", "green", "blue"])))
    if kind == "datetime":
        return st.lists(st.none() | st.integers(0, 2**40), min_size=n, max_size=n).map(
            lambda v: pd.Series(
                pd.to_datetime([np.datetime64(x, "us") if x is not None else None for x in v]),
                dtype="datetime64[us]",
            )
        )
    if kind == "datetime_tz":
        return st.lists(st.none() | st.datetimes(), min_size=n, max_size=n).map(
            lambda v: _datetimes(v, "UTC")
        )
    if kind == "Int64":
        return st.lists(st.none() | st.integers(-(2**40), 2**40), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype="Int64")
        )
    raise ValueError(kind)


@st.composite
def frames(
    draw: st.DrawFn,
    *,
    min_rows: int = 0,
    max_rows: int = 40,
    kinds: tuple[str, ...] = KINDS,
    shift_index: bool = False,
) -> pd.DataFrame:
    """DataFrames with 1-4 columns of ``kinds`` and unique names.

    With ``shift_index`` about half of them get a non-default integer index.
    """
    n = draw(st.integers(min_rows, max_rows))
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=4))
    data = {f"c{i}_{kind}": draw(column(kind, n)) for i, kind in enumerate(chosen)}
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    if shift_index and draw(st.booleans()):
        frame.index = pd.Index(np.arange(n) * 3 + 7)
    return frame


NAMES = st.text("abcdefgh", min_size=1, max_size=6)
PATTERNS = [r"[a-z]+", r"[A-Z]{2}\d+", r"\d{3}-\d{2}", r"(ab|cd)e?"]


@st.composite
def numeric_columns(draw):
    dtype = draw(
        st.sampled_from(
            ["int64", "Int64", "float64", "float32", "int32", "double[pyarrow]", "int64[pyarrow]"]
        )
    )
    lo = draw(st.integers(-1000, 1000))
    hi = draw(st.integers(lo, lo + 2000))
    checks = draw(
        st.lists(
            st.sampled_from(
                [
                    C.in_range(lo, hi),
                    C.ge(lo),
                    C.le(hi),
                    C.gt(lo - 1),
                    C.lt(hi + 1),
                    C.in_range(lo, hi + 1, include_max=False),
                    C.monotonic(),
                    C.finite(),
                ]
            ),
            max_size=3,
            unique=True,
        )
    )
    nullable = draw(st.booleans()) and dtype not in ("int64", "int32")
    unique = draw(st.booleans())
    return mp.Column(dtype, nullable=nullable, unique=unique, checks=checks)


@st.composite
def text_columns(draw):
    dtype = draw(st.sampled_from(["str", "string", "string[python]", "large_string[pyarrow]"]))
    options = [
        [C.str_matches(draw(st.sampled_from(PATTERNS)))],
        [C.str_length(1, 6)],
        [C.str_startswith("id-"), C.str_length(3, 9)],
        [C.str_endswith(".csv")],
        [C.isin(["red", "green", "blue"])],
        [],
    ]
    checks = draw(st.sampled_from(options))
    return mp.Column(dtype, nullable=draw(st.booleans()), checks=checks)


@st.composite
def other_columns(draw):
    kind = draw(st.sampled_from(["category", "datetime", "bool", "boolean"]))
    nullable = draw(st.booleans())
    if kind == "category":
        return mp.Column("category", categories=["x", "y", "z"], nullable=nullable)
    if kind == "datetime":
        tz = draw(st.sampled_from([None, "UTC", "Europe/Oslo"]))
        dtype = "datetime64[ns]" if tz is None else f"datetime64[ns, {tz}]"
        lo = "2000-01-01" + ("T00:00Z" if tz else "")
        hi = "2030-01-01" + ("T00:00Z" if tz else "")
        return mp.Column(dtype, nullable=nullable, checks=[C.datetime_between(lo, hi)])
    return mp.Column(kind, nullable=nullable and kind == "boolean")


COLUMNS = st.one_of(numeric_columns(), text_columns(), other_columns())


@st.composite
def schemas(draw, *, max_columns=4):
    names = draw(st.lists(NAMES, min_size=1, max_size=max_columns, unique=True))
    columns = {name: draw(COLUMNS) for name in names}
    return mp.Schema(
        columns,
        strict=draw(st.booleans()),
        ordered=draw(st.booleans()),
        name=draw(st.none() | NAMES),
    )
