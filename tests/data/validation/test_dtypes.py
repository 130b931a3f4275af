"""Dtypes as users write them: names, matching, mismatch reports and coercion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from tests.strategies import TEXT_DTYPE

import mlprod as mp
from mlprod.data.validation.dtypes import canonical_name, coerce_series, column_matches, matches

# pandas 2 keeps text in object columns (pandas 3 in its "str" dtype); "str" means text on both.
OBJECT_IS_TEXT = pd.api.types.is_object_dtype(TEXT_DTYPE)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        (int, "int64"),
        (float, "float64"),
        (bool, "bool"),
        (str, "str"),
        ("int", "int64"),
        ("float", "float64"),
        (np.dtype("int32"), "int32"),
        ("Int64", "Int64"),
        (pd.Int64Dtype(), "Int64"),
        ("boolean", "boolean"),
        ("string", "string"),
        ("str", "str"),
        ("string[pyarrow]", "string[pyarrow]"),
        (pd.StringDtype(), "string"),
        ("category", "category"),
        (pd.CategoricalDtype(["a"]), "category"),
        ("datetime64[ns, UTC]", "datetime64[ns, UTC]"),
        (pd.DatetimeTZDtype("ns", "Europe/Oslo"), "datetime64[ns, Europe/Oslo]"),
        ("int64[pyarrow]", "int64[pyarrow]"),
        (pd.ArrowDtype(pa.float64()), "double[pyarrow]"),
        ("timestamp[us, tz=UTC][pyarrow]", "timestamp[us, tz=UTC][pyarrow]"),
    ],
)
def test_canonical_names(spec, name):
    assert canonical_name(spec) == name


def test_unknown_dtype_suggests_close_names():
    with pytest.raises(mp.ConfigurationError, match="Did you mean 'int64'") as info:
        mp.Column("int46")
    assert info.value.parameter == "dtype"
    assert info.value.value == "int46"
    with pytest.raises(mp.ConfigurationError, match="Cannot use"):
        mp.Column(3.5)


FRAMES = {
    "int64": pd.Series([1, 2]),
    "float64": pd.Series([1.5, None]),
    "Int64": pd.Series([1, None], dtype="Int64"),
    "boolean": pd.Series([True, None], dtype="boolean"),
    "str": pd.Series(["a", None]),
    "string": pd.Series(["a", None], dtype="string"),
    "string[python]": pd.Series(["a"], dtype="string[python]"),
    "category": pd.Series(["a"], dtype="category"),
    "datetime64[ns]": pd.Series(pd.to_datetime(["2024-01-01"])),
    "datetime64[ns, UTC]": pd.Series(pd.to_datetime(["2024-01-01"], utc=True)),
    "int64[pyarrow]": pd.Series([1], dtype="int64[pyarrow]"),
    "large_string[pyarrow]": pd.Series(["a"], dtype="large_string[pyarrow]"),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_each_dtype_accepts_its_own_column(name):
    schema = mp.Schema({"x": mp.Column(name, nullable=True)})
    assert schema.validate(pd.DataFrame({"x": FRAMES[name]})).ok


@pytest.mark.parametrize(
    ("name", "series", "ok"),
    [
        ("int64", pd.Series([1], dtype="Int64"), False),
        ("Int64", pd.Series([1]), False),
        ("int64", pd.Series([1], dtype="int32"), False),
        ("float64", pd.Series([1]), False),
        ("str", pd.Series(["a"], dtype="string"), True),  # any pandas text dtype
        ("string", pd.Series(["a"]), True),
        ("string", pd.Series(["a"], dtype="large_string[pyarrow]"), True),
        ("string[python]", pd.Series(["a"], dtype="string[pyarrow]"), False),
        ("str", pd.Series(["a", None], dtype=object), OBJECT_IS_TEXT),
        ("string", pd.Series([None], dtype=object), OBJECT_IS_TEXT),
        ("str", pd.Series(["a", 1], dtype=object), False),
        ("str", pd.Series([b"a"], dtype=object), False),
        ("string[python]", pd.Series(["a"], dtype=object), False),
        ("datetime64[ns]", pd.Series(pd.to_datetime(["2024-01-01"]).as_unit("us")), True),
        ("datetime64[ns]", pd.Series(pd.to_datetime(["2024-01-01"], utc=True)), False),
        ("datetime64[ns, UTC]", pd.Series(pd.to_datetime(["2024-01-01"])), False),
        (
            "datetime64[ns, UTC]",
            pd.Series(pd.to_datetime(["2024-01-01"], utc=True).tz_convert("Europe/Oslo")),
            False,
        ),
        ("category", pd.Series(["a"]), False),
    ],
)
def test_matching_rules(name, series, ok):
    assert column_matches(name, series) is ok
    if not pd.api.types.is_object_dtype(series.dtype):
        assert matches(name, series.dtype) is ok
    else:  # whether an object column holds text is in its values, not its dtype
        assert matches(name, series.dtype) is False


def test_dtype_mismatch_is_a_failure_with_a_reason_not_an_exception():
    schema = mp.Schema({"age": mp.Column("int64", checks=[mp.checks.ge(0)])})
    report = schema.validate(pd.DataFrame({"age": ["3", "x"]}))
    assert not report.ok
    assert report.failures.values.tolist() == [["age", "dtype", None, "str"]]
    reason = report.counts["reason"][0]
    assert "dtype str, expected int64" in reason
    assert "coerce=True" in reason


def test_text_column_holding_a_number_is_a_dtype_failure_on_every_pandas():
    schema = mp.Schema({"s": mp.Column("str", nullable=True)})
    assert schema.validate(pd.DataFrame({"s": pd.Series(["a", None], dtype=TEXT_DTYPE)})).ok
    mixed = pd.DataFrame({"s": pd.Series(["a", 5], dtype=object)})
    assert schema.validate(mixed).failures.values.tolist() == [["s", "dtype", None, "object"]]


def test_category_with_allowed_categories():
    schema = mp.Schema({"c": mp.Column("category", categories=["a", "b"], nullable=True)})
    df = pd.DataFrame({"c": pd.Categorical(["a", "z", None, "b", "z"])})
    report = schema.validate(df)
    assert report.failures[["check", "index", "value"]].values.tolist() == [
        ["categories", 1, "z"],
        ["categories", 4, "z"],
    ]
    with pytest.raises(mp.ConfigurationError, match="isin"):
        mp.Column("str", categories=["a"])


def test_categorical_dtype_object_carries_its_categories():
    col = mp.Column(pd.CategoricalDtype(["lo", "hi"], ordered=True))
    assert (col.dtype, col.categories, col.ordered) == ("category", ("lo", "hi"), True)


@pytest.mark.parametrize(
    ("values", "name", "out", "failed"),
    [
        (["1", "2", "x", None], "int64", [1.0, 2.0, np.nan, np.nan], [False, False, True, False]),
        (["1", "2"], "int64", [1, 2], [False, False]),
        (["1.5", "2"], "Int64", [pd.NA, 2], [True, False]),
        (["1.5", "x"], "float64", [1.5, np.nan], [False, True]),
        (["yes", "0", "maybe"], "boolean", [True, False, pd.NA], [False, False, True]),
        ([1, 0, 2], "bool", [True, False, pd.NA], [False, False, True]),
        ([1, 2], "str", ["1", "2"], [False, False]),
        ([1, None, 2.5], "str", ["1", None, "2.5"], [False, False, False]),
        (["a", "q"], "category", ["a", np.nan], [False, True]),
    ],
)
def test_coerce_series(values, name, out, failed):
    categories = ["a"] if name == "category" else None
    converted, mask = coerce_series(pd.Series(values, dtype=object), name, categories=categories)
    assert mask.tolist() == failed
    assert [None if pd.isna(v) else v for v in converted.tolist()] == [
        None if pd.isna(v) else v for v in out
    ]


def test_coerce_datetimes_with_time_zone():
    converted, failed = coerce_series(
        pd.Series(["2024-01-01T00:00Z", "nope"]), "datetime64[ns, UTC]"
    )
    assert str(converted.dtype) == "datetime64[ns, UTC]"
    assert failed.tolist() == [False, True]


def test_schema_coerce_reports_values_that_did_not_convert_and_checks_the_rest():
    schema = mp.Schema(
        {"n": mp.Column("int64", checks=[mp.checks.le(10)]), "s": mp.Column("str")}, coerce=True
    )
    df = pd.DataFrame({"n": ["1", "oops", "50"], "s": [1, 2, 3]})
    report = schema.validate(df)
    assert report.failures.values.tolist() == [
        ["n", "coerce", 1, "oops"],
        ["n", "le(10)", 2, 50],
    ]
    fixed = schema.coerce_frame(df)
    assert fixed["s"].tolist() == ["1", "2", "3"]
    assert fixed["s"].dtype == TEXT_DTYPE


def test_column_level_coerce():
    schema = mp.Schema({"d": mp.Column("datetime64[ns]", coerce=True)})
    assert schema.validate(pd.DataFrame({"d": ["2024-01-01", "2024-02-01"]})).ok


def test_ordered_categories_are_checked_when_asked_for():
    schema = mp.Schema({"size": mp.Column(pd.CategoricalDtype(["S", "M", "L"], ordered=True))})
    ordered = pd.DataFrame({"size": pd.Categorical(["S", "L"], ["S", "M", "L"], ordered=True)})
    assert schema.validate(ordered).ok
    plain = pd.DataFrame({"size": pd.Categorical(["S", "XL"], ["S", "M", "L", "XL"])})
    assert schema.validate(plain).failures["check"].tolist() == ["ordered", "categories"]
