"""Hypothesis strategies shared by the validation property tests: schemas and frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import mlprod as mp

C = mp.checks

# The dtype pandas gives text: "str" on pandas 3, object on pandas 2, whose
# astype("str") would also turn missing values into the text "None".
TEXT = pd.Series(["a"]).dtype


def text_dtype(name):
    """``name``, with pandas 3's default text dtype ``"str"`` read as this pandas' own."""
    return TEXT if name == "str" else name


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


@st.composite
def frames(draw, *, max_rows=30):
    """Arbitrary frames of mixed dtypes, with missing values, for inference."""
    n = draw(st.integers(0, max_rows))
    cols = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    data = {}
    for name in cols:
        kind = draw(st.sampled_from(["int", "float", "text", "cat", "time", "bool", "Int64"]))
        if kind == "int":
            data[name] = pd.Series(
                draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n)), dtype="int64"
            )
        elif kind == "float":
            values = draw(
                st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)
            )
            data[name] = pd.Series(values, dtype="float64")
        elif kind == "Int64":
            values = draw(st.lists(st.none() | st.integers(-100, 100), min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype="Int64")
        elif kind == "text":
            alphabet = st.characters(codec="utf-8", exclude_characters="\x00")
            values = draw(
                st.lists(st.none() | st.text(alphabet, max_size=5), min_size=n, max_size=n)
            )
            data[name] = pd.Series(values, dtype=TEXT)
        elif kind == "cat":
            values = draw(st.lists(st.none() | st.sampled_from("pqr"), min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype="category")
        elif kind == "time":
            values = draw(st.lists(st.none() | st.datetimes(), min_size=n, max_size=n))
            # Built at microseconds directly: pandas 2 parses to nanoseconds, which end in 2262.
            data[name] = pd.Series(values, dtype="datetime64[us]").dt.tz_localize(
                draw(st.sampled_from([None, "UTC"]))
            )
        else:
            data[name] = pd.Series(
                draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype="bool"
            )
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    if draw(st.booleans()):
        frame.index = pd.Index(np.arange(n) * 3 + 7)
    return frame
