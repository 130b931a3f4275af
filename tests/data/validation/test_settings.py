"""Check settings are refused when made; inference on Arrow dates and nested columns."""

from __future__ import annotations

import datetime

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprod as mp


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: mp.checks.in_range(5, 1), "min_value"),
        (lambda: mp.checks.in_range(1, 1, include_max=False), "max_value"),
        (lambda: mp.checks.in_range(float("nan"), 1), "min_value"),
        (lambda: mp.checks.in_range(0, "z"), "max_value"),
        (lambda: mp.checks.in_range(0, 1, include_min="no"), "include_min"),
        (lambda: mp.checks.datetime_between("2021-01-01", "2020-01-01"), "min_value"),
        (lambda: mp.checks.datetime_between("2020-01-01T00:00Z", "2021-01-01"), "max_value"),
        (lambda: mp.checks.str_length(3, 1), "min_value"),
        (lambda: mp.checks.str_length(1.5, 3), "min_value"),
        (lambda: mp.checks.str_length(-1, 3), "min_value"),
        (lambda: mp.checks.str_matches("("), "pattern"),
        (lambda: mp.checks.str_contains("[a-"), "pattern"),
        (lambda: mp.checks.str_matches(5), "pattern"),
        (lambda: mp.checks.str_startswith(None), "prefix"),
        (lambda: mp.checks.str_endswith(1), "suffix"),
    ],
)
def test_bad_settings_are_refused_at_construction(make, parameter: str) -> None:
    with pytest.raises(mp.ConfigurationError) as err:
        make()
    assert err.value.parameter == parameter
    assert len(str(err.value)) > 30


def test_bad_settings_are_refused_when_a_schema_is_read() -> None:
    text = mp.Schema({"a": mp.Column("int64", checks=[mp.checks.in_range(1, 5)])}).to_json()
    with pytest.raises(mp.ConfigurationError, match="greater than"):
        mp.Schema.from_json(text.replace('"min_value": 1', '"min_value": 9'))


@given(st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_in_range_accepts_exactly_the_ordered_bounds(a: int, b: int) -> None:
    if a <= b:
        check = mp.checks.in_range(a, b)
        assert check(pd.Series([a, b])).tolist() == [True, True]
    else:
        with pytest.raises(mp.ConfigurationError):
            mp.checks.in_range(a, b)


def test_valid_settings_still_work() -> None:
    assert mp.checks.in_range(1, 1)(pd.Series([1, 2])).tolist() == [True, False]
    assert mp.checks.str_matches(r"\d+")(pd.Series(["12", "a"])).tolist() == [True, False]
    assert mp.checks.str_length(None, 2)(pd.Series(["ab", "abc"])).tolist() == [True, False]


@pytest.mark.parametrize("unit", ["date32", "date64"])
def test_inferred_datetime_between_passes_its_own_arrow_date_frame(unit: str) -> None:
    typ = pa.date32() if unit == "date32" else pa.date64()
    days = [datetime.date(2020, 1, 1), None, datetime.date(2021, 6, 30)]
    df = pd.DataFrame({"d": pd.array(days, dtype=pd.ArrowDtype(typ))})
    schema = mp.infer_schema(df)
    assert schema.validate(df).ok
    assert mp.Schema.from_json(schema.to_json()).validate(df).ok
    later = pd.DataFrame({"d": pd.array([datetime.date(2022, 1, 1)], dtype=pd.ArrowDtype(typ))})
    failures = schema.validate(later).failures
    assert failures["check"].str.startswith("datetime_between").tolist() == [True]
    assert failures["index"].tolist() == [0]


def test_datetime_between_on_arrow_dates_matches_row_by_row() -> None:
    days = [datetime.date(2019, 12, 31), datetime.date(2020, 1, 1), datetime.date(2020, 1, 2)]
    s = pd.Series(pd.array(days, dtype=pd.ArrowDtype(pa.date32())))
    check = mp.checks.datetime_between("2020-01-01", "2020-01-01T12:00")
    expected = [
        pd.Timestamp("2020-01-01") <= pd.Timestamp(d) <= pd.Timestamp("2020-01-01T12:00")
        for d in days
    ]
    assert check(s).tolist() == expected == [False, True, False]


def test_infer_schema_keeps_nested_arrow_columns_with_a_reason() -> None:
    df = pd.DataFrame(
        {
            "l": pd.array([[1, 2], None, []], dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
            "s": pd.array(
                [{"a": 1}, {"a": 2}, {"a": 3}], dtype=pd.ArrowDtype(pa.struct([("a", pa.int64())]))
            ),
            "x": [1, 2, 3],
        }
    )
    schema = mp.infer_schema(df)
    assert schema.columns["l"].dtype is None
    assert schema.columns["l"].nullable
    assert "nested Arrow type" in schema.columns["l"].description
    assert schema.columns["s"].dtype is None
    assert not schema.columns["s"].nullable
    assert schema.columns["x"].dtype == "int64"
    assert schema.validate(df).ok
    assert mp.Schema.from_json(schema.to_json()) == schema
