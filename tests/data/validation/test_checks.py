"""Each built-in check on its own: the values it passes and fails, missing values, repr."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.strategies import text_dtype

import mlprod as mp
from mlprod.data.validation.kernels import null_mask

C = mp.checks


def mask(check, values, dtype=None):
    return check(pd.Series(values, dtype=dtype)).tolist()


@pytest.mark.parametrize(
    ("check", "values", "expected"),
    [
        (C.gt(0), [-1, 0, 1], [False, False, True]),
        (C.ge(0), [-1, 0, 1], [False, True, True]),
        (C.lt(0), [-1, 0, 1], [True, False, False]),
        (C.le(0), [-1, 0, 1], [True, True, False]),
        (C.eq(0), [-1, 0, 1], [False, True, False]),
        (C.ne(0), [-1, 0, 1], [True, False, True]),
        (C.in_range(0, 1), [-0.5, 0.0, 1.0, 1.5], [False, True, True, False]),
        (C.in_range(0, 1, include_min=False), [0.0, 0.5], [False, True]),
        (C.in_range(0, 1, include_max=False), [1.0, 0.5], [False, True]),
        (C.in_range(None, 1), [-1e9, 2], [True, False]),
        (C.in_range(min_value=5), [4, 5], [False, True]),
        (C.finite(), [1.0, np.inf, -np.inf], [True, False, False]),
    ],
)
def test_numeric_checks(check, values, expected):
    assert mask(check, values) == expected


@pytest.mark.parametrize(
    "dtype", ["float64", "Float64", "Int64", "double[pyarrow]", "int64[pyarrow]"]
)
def test_comparisons_skip_missing_values_for_every_numeric_dtype(dtype):
    values = [1, None, 5]
    assert mask(C.in_range(0, 2), values, dtype) == [True, True, False]
    assert mask(C.lt(2), values, dtype) == [True, True, False]


def test_in_range_needs_a_bound():
    with pytest.raises(mp.ConfigurationError, match="min_value, max_value or both"):
        C.in_range()


@pytest.mark.parametrize("dtype", ["str", "string", "object", "category", "large_string[pyarrow]"])
def test_isin_and_notin_on_text(dtype):
    values = ["red", "blue", None]
    assert mask(C.isin(["red", "green"]), values, dtype) == [True, False, True]
    assert mask(C.notin(["blue"]), values, dtype) == [True, False, True]


def test_isin_numbers_and_set_argument():
    assert mask(C.isin({3, 1}), [1, 2, 3]) == [True, False, True]
    assert C.isin({3, 1}) == C.isin([1, 3])


@pytest.mark.parametrize("dtype", ["str", "string[python]", "object", "large_string[pyarrow]"])
def test_text_checks(dtype):
    values = ["AB12", "ab12", "XAB1", None, "A"]
    assert mask(C.str_matches(r"[A-Z]{2}\d+"), values, dtype) == [True, False, False, True, False]
    assert mask(C.str_contains(r"\d"), values, dtype) == [True, True, True, True, False]
    assert mask(C.str_length(2, 4), values, dtype) == [True, True, True, True, False]
    assert mask(C.str_length(max_value=1), values, dtype) == [False, False, False, True, True]
    assert mask(C.str_startswith("AB"), values, dtype) == [True, False, False, True, False]
    assert mask(C.str_endswith("1"), values, dtype) == [False, False, True, True, False]


def test_str_matches_anchors_at_start_like_re_match():
    assert mask(C.str_matches("b"), ["ab", "ba"]) == [False, True]
    assert mask(C.str_matches("a$"), ["a", "aa", "ab"]) == [True, False, False]


def test_regex_that_arrow_cannot_compile_falls_back_to_python():
    backref = C.str_matches(r"(a)\1")
    assert mask(backref, ["aa", "ab"], "str") == [True, False]


def test_text_check_fails_values_that_are_not_text():
    assert mask(C.str_length(1, 3), ["ab", 5, None], "object") == [True, False, True]


def test_unique_fails_every_copy_and_ignores_missing():
    assert mask(C.unique(), [1.0, 2.0, 1.0, np.nan, np.nan]) == [False, True, False, True, True]


@pytest.mark.parametrize(
    ("check", "values", "expected"),
    [
        (C.monotonic(), [1, 2, 2, 1, 3], [True, True, True, False, True]),
        (C.monotonic(strict=True), [1, 2, 2, 3], [True, True, False, True]),
        (C.monotonic(decreasing=True), [3, 2, 4, 1], [True, True, False, True]),
        (C.monotonic(), [1.0, np.nan, 0.5, 2.0], [True, True, False, True]),
        (C.monotonic(), [], []),
    ],
)
def test_monotonic(check, values, expected):
    assert mask(check, values, "float64" if not values else None) == expected


def test_datetime_between_and_time_zones():
    naive = pd.Series(pd.to_datetime(["2019-12-31", "2024-06-01", None]))
    check = C.datetime_between("2020-01-01", "2030-01-01")
    assert check(naive).tolist() == [False, True, True]
    aware = pd.Series(pd.to_datetime(["2019-12-31", "2024-06-01"], utc=True))
    assert C.datetime_between("2020-01-01T00:00Z", None)(aware).tolist() == [False, True]
    assert C.in_range("2020-01-01T00:00Z", None)(aware).tolist() == [False, True]


def test_naive_bound_on_aware_column_is_a_clear_error():
    aware = pd.Series(pd.to_datetime(["2024-06-01"], utc=True))
    with pytest.raises(mp.ConfigurationError, match="time zone"):
        C.in_range("2020-01-01", None)(aware)


def test_frame_checks():
    df = pd.DataFrame({"start": [1, 5, None], "end": [2, 4, 1], "k": [1, 1, 2]})
    assert C.compare_columns("start", "<=", "end")(df).tolist() == [True, False, True]
    assert C.no_duplicates(["k"])(df).tolist() == [False, False, True]
    with pytest.raises(mp.ConfigurationError, match="Unknown operator"):
        C.compare_columns("a", "=<", "b")


def test_frame_check_in_a_column_is_refused():
    with pytest.raises(mp.ConfigurationError, match="Schema\\(checks="):
        mp.Column("int64", checks=[C.no_duplicates(["a"])])


def test_checks_are_frozen_values_with_readable_repr_and_dict():
    check = C.in_range(0, 120)
    assert check == C.in_range(0, 120)
    assert hash(check) == hash(C.in_range(np.int64(0), 120))
    assert repr(check) == "checks.in_range(min_value=0, max_value=120)"
    assert check.name == "in_range(0, 120)"
    assert check.to_dict() == {"check": "in_range", "min_value": 0, "max_value": 120}
    assert C.from_dict(check.to_dict()) == check
    assert repr(C.str_matches("a+")) == "checks.str_matches('a+')"
    with pytest.raises(AttributeError):
        check.min_value = 3


def test_from_dict_rejects_unknown_checks_and_parameters():
    with pytest.raises(mp.ConfigurationError, match="Unknown check 'in_rnge'"):
        C.from_dict({"check": "in_rnge"})
    with pytest.raises(mp.ConfigurationError, match="Bad parameters"):
        C.from_dict({"check": "ge", "valu": 1})


def test_custom_names_a_function():
    check = C.custom(lambda s: s > 0, name="positive")
    assert check.name == "positive"
    assert check(pd.Series([1, -1])).tolist() == [True, False]
    with pytest.raises(mp.ConfigurationError):
        C.custom(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        ([1.0, 2.0], "float64", None),
        ([1.0, np.nan], "float64", [False, True]),
        ([1, 2], "int64", None),
        ([1, None], "Int64", [False, True]),
        (["a", None], "str", [False, True]),
        (["a", None], "category", [False, True]),
        ([None, "a"], "object", [True, False]),
    ],
)
def test_null_mask(values, dtype, expected):
    got = null_mask(
        pd.Series(values, dtype=dtype).array
        if dtype != "float64" and dtype != "int64"
        else np.asarray(values, dtype=dtype)
    )
    assert (None if got is None else got.tolist()) == expected


@pytest.mark.parametrize("dtype", ["str", "string", "large_string[pyarrow]"])
def test_long_low_cardinality_text_is_checked_by_distinct_values(dtype):
    rng = np.random.default_rng(3)
    values = pd.Series(rng.choice(["AB1", "CD22", "ab3", "E"], 60_000), dtype=object)
    values[rng.choice(60_000, 50, replace=False)] = None
    series = values.astype(text_dtype(dtype))
    expected = (series.isna() | values.str.match(r"[A-Z]{2}\d", na=True)).tolist()
    assert C.str_matches(r"[A-Z]{2}\d")(series).tolist() == expected
    assert (
        C.str_length(2, 4)(series).tolist()
        == (series.isna() | values.str.len().between(2, 4)).tolist()
    )
    clean = pd.Series(rng.choice(["AB1", "CD22"], 60_000), dtype=text_dtype(dtype))
    assert C.str_matches(r"[A-Z]{2}\d")(clean).all()
