"""frames(schema) and rows_like(df): every drawn frame is valid / within the observed data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import mlprod as mp
import mlprod.testing as mt

SCHEMA = mp.Schema(
    {
        "age": mp.Column("int64", checks=[mp.checks.in_range(18, 90)]),
        "plan": mp.Column("string", checks=[mp.checks.isin(["basic", "pro"])]),
        "score": mp.Column("float64", checks=[mp.checks.ge(0.0), mp.checks.lt(1.0)]),
    }
)

REAL = pd.DataFrame(
    {
        "income": [12.5, 80.0, 45.0, np.nan],
        "age": np.array([20, 65, 33, 41], dtype="int32"),
        "region": pd.Series(["north", "south", "north", "east"], dtype="str"),
        "tier": pd.Categorical(["a", "b", "a", "a"], categories=["a", "b", "c"]),
        "member": [True, False, True, True],
        "seen": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01", "2024-01-15"]),
    }
)


@settings(max_examples=30)
@given(mt.frames(SCHEMA, rows=(1, 6)))
def test_frames_are_valid(df):
    assert 1 <= len(df) <= 6
    assert SCHEMA.validate(df).ok


@settings(max_examples=10)
@given(mt.frames(SCHEMA, rows=3))
def test_exact_row_count(df):
    assert len(df) == 3


def test_unsatisfiable_column_is_named():
    schema = mp.Schema(
        {"ok": mp.Column("int64"), "bad": mp.Column("int64", checks=[mp.checks.isin([])])}
    )
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.frames(schema)
    assert exc.value.parameter == "schema"
    assert exc.value.value == "bad"
    assert "'bad'" in str(exc.value)


def test_custom_check_that_rejects_everything_is_named():
    def never(series):
        return series != series

    schema = mp.Schema({"x": mp.Column("int64", checks=[never])})
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.frames(schema)
    assert exc.value.value == "x"
    assert "never" in str(exc.value)


def test_bad_arguments():
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.frames({"age": "int64"})
    assert exc.value.parameter == "schema"
    for rows in (-1, (5, 2), "many", True):
        with pytest.raises(mp.ConfigurationError) as exc:
            mt.frames(SCHEMA, rows=rows)
        assert exc.value.parameter == "rows"
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.rows_like([1, 2])
    assert exc.value.parameter == "df"
    with pytest.raises(mp.ConfigurationError):
        mt.rows_like(pd.DataFrame(index=[0, 1]))


@settings(max_examples=40)
@given(mt.rows_like(REAL, rows=(1, 8)))
def test_rows_like_keeps_dtypes_and_ranges(df):
    assert list(df.columns) == list(REAL.columns)
    assert df.dtypes.tolist() == REAL.dtypes.tolist()
    income = df["income"].dropna()
    assert income.between(12.5, 80.0).all()
    assert df["age"].between(20, 65).all()
    assert set(df["region"]) <= {"north", "south", "east"}
    assert set(df["tier"].dropna()) <= {"a", "b", "c"}
    assert list(df["tier"].cat.categories) == ["a", "b", "c"]
    assert df["seen"].between(REAL["seen"].min(), REAL["seen"].max()).all()
    # only the column with missing values gets them
    assert df.drop(columns="income").notna().all().all()


def test_rows_like_shrinks_to_one_row():
    from hypothesis import find

    frame = find(mt.rows_like(REAL, rows=(1, 8)), lambda df: len(df) >= 1)
    assert len(frame) == 1


def test_from_profile_draws_within_the_profile():
    from hypothesis import given, settings

    import mlprod as mp
    import mlprod.testing as mt

    df = pd.DataFrame(
        {
            "age": pd.array([18, 40, 75], dtype="int64"),
            "income": [1_000.0, 5_000.0, None],
            "region": pd.Categorical(["n", "s", "n"]),
            "vip": [True, False, True],
        }
    )
    ref = mp.profile(df)

    @settings(max_examples=25, database=None)
    @given(mt.from_profile(ref, rows=(1, 6)))
    def check(sample):
        assert list(sample.columns) == ["age", "income", "region", "vip"]
        assert sample["age"].dtype == "int64"
        assert sample["age"].between(18, 75).all()
        present = sample["income"].dropna()
        assert present.between(1_000.0, 5_000.0).all()
        assert set(sample["region"].dropna()) <= {"n", "s"}
        assert sample["vip"].dtype == bool

    check()


def test_from_profile_refuses_what_is_not_a_profile():
    import mlprod as mp
    import mlprod.testing as mt

    with pytest.raises(mp.ConfigurationError, match="Profile"):
        mt.from_profile({"a": 1})
