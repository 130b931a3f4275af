"""Hypothesis strategies for fingerprint and snapshot tests: frames of every supported dtype."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

# short and long strings, so both the inline (<= 12 bytes) and the buffer path run
TEXT = st.one_of(st.text(max_size=4), st.text(min_size=10, max_size=30), st.just("é" * 7))
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)

KINDS = ("int64", "float64", "string", "bool", "category", "datetime", "Int64", "object_str")


def column(kind: str, n: int) -> st.SearchStrategy[pd.Series]:
    """A strategy for one column of ``n`` values of ``kind``."""
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
    if kind == "Int64":
        return st.lists(st.none() | st.integers(-(2**40), 2**40), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype="Int64")
        )
    raise ValueError(kind)


@st.composite
def frames(
    draw: st.DrawFn, *, min_rows: int = 0, max_rows: int = 40, kinds: tuple[str, ...] = KINDS
) -> pd.DataFrame:
    """DataFrames with 1-4 columns of mixed supported dtypes and unique names."""
    n = draw(st.integers(min_rows, max_rows))
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=4))
    data = {f"c{i}_{kind}": draw(column(kind, n)) for i, kind in enumerate(chosen)}
    return pd.DataFrame(data)
