"""What a schema rejects equals what pandera rejects for the same rules, cell by cell."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import TEXT_DTYPE

import mlprod as mp

pa = pytest.importorskip("pandera.pandas")

C = mp.checks

OURS = mp.Schema(
    {
        "age": mp.Column("int64", checks=[C.in_range(0, 120)]),
        "score": mp.Column("float64", nullable=True, checks=[C.ge(0.0), C.lt(1.0)]),
        "code": mp.Column("str", checks=[C.str_matches(r"[A-Z]{2}\d")]),
        "name": mp.Column("str", nullable=True, checks=[C.str_length(2, 5)]),
        "color": mp.Column("str", checks=[C.isin(["r", "g", "b"])]),
        "n": mp.Column("int64", checks=[C.notin([13]), C.gt(0), C.le(50)]),
    }
)
THEIRS = pa.DataFrameSchema(
    {
        "age": pa.Column(int, pa.Check.in_range(0, 120)),
        "score": pa.Column(float, [pa.Check.ge(0.0), pa.Check.lt(1.0)], nullable=True),
        "code": pa.Column(str, pa.Check.str_matches(r"[A-Z]{2}\d")),
        "name": pa.Column(str, pa.Check.str_length(2, 5), nullable=True),
        "color": pa.Column(str, pa.Check.isin(["r", "g", "b"])),
        "n": pa.Column(int, [pa.Check.notin([13]), pa.Check.gt(0), pa.Check.le(50)]),
    }
)


def pandera_cells(schema, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            schema.validate(df, lazy=True)
        except pa.errors.SchemaErrors as exc:
            cases = exc.failure_cases
        else:
            return set()
    cases = cases[cases["index"].notna()]
    return {(c, int(i)) for c, i in zip(cases["column"], cases["index"])}


def our_cells(schema, df):
    failures = schema.validate(df).failures
    return {(c, int(i)) for c, i in zip(failures["column"], failures["index"])}


ROWS = st.tuples(
    st.integers(-10, 130),
    st.none() | st.floats(-0.5, 1.5),
    st.sampled_from(["AB1", "ab1", "XY9z", "A1", "QQ0"]),
    st.none() | st.text("abc", max_size=7),
    st.sampled_from("rgbx"),
    st.integers(-3, 60),
)


@given(st.lists(ROWS, min_size=1, max_size=40))
def test_same_failing_cells_as_pandera(rows):
    df = pd.DataFrame(rows, columns=["age", "score", "code", "name", "color", "n"])
    df = df.astype(
        {
            "age": "int64",
            "score": "float64",
            "code": TEXT_DTYPE,
            "name": TEXT_DTYPE,
            "color": TEXT_DTYPE,
            "n": "int64",
        }
    )
    assert our_cells(OURS, df) == pandera_cells(THEIRS, df)


def test_uniqueness_and_nullability_match_pandera():
    ours = mp.Schema({"k": mp.Column("float64", unique=True)})
    theirs = pa.DataFrameSchema({"k": pa.Column(float, unique=True)})
    df = pd.DataFrame({"k": [1.0, 2.0, 1.0, np.nan, 3.0, 3.0]})
    assert our_cells(ours, df) == pandera_cells(theirs, df)


def test_missing_column_and_wrong_dtype_are_rejected_by_both():
    df = pd.DataFrame({"age": ["x"]})
    assert not OURS.validate(df).ok
    with pytest.raises(pa.errors.SchemaErrors):
        THEIRS.validate(df, lazy=True)
    assert set(OURS.validate(df).failures["check"]) == {"dtype", "column_in_frame"}
