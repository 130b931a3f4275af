"""Schema.validate and ValidationReport: structure, every failure, caps, bad input, output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlprod as mp

C = mp.checks


@pytest.fixture
def schema():
    return mp.Schema(
        {
            "age": mp.Column("int64", checks=[C.in_range(0, 120)]),
            "city": mp.Column("str", nullable=True, checks=[C.str_length(1, 20)]),
            "score": mp.Column("float64", checks=[C.finite(), C.ge(0)]),
        },
        strict=True,
    )


def frame(**over):
    base = {"age": [30, 40, 50], "city": ["Oslo", None, "Rome"], "score": [0.1, 0.2, 0.3]}
    base.update(over)
    return pd.DataFrame(base)


def test_clean_frame_passes(schema):
    report = schema.validate(frame())
    assert report.ok
    assert report.n_failures == 0
    assert report.failures.columns.tolist() == ["column", "check", "index", "value"]
    assert len(report.failures) == 0
    assert report.raise_for_failures() is report


def test_every_failing_cell_is_reported_with_label_and_value(schema):
    df = frame(age=[-1, 40, 500], score=[np.inf, -2.0, np.nan])
    df.index = ["a", "b", "c"]
    report = schema.validate(df)
    rows = report.failures.values.tolist()
    assert np.isnan(rows[2][3])
    rows[2][3] = None  # the missing value itself
    assert rows == [
        ["age", "in_range(0, 120)", "a", -1],
        ["age", "in_range(0, 120)", "c", 500],
        ["score", "nullable", "c", None],
        ["score", "finite()", "a", np.inf],
        ["score", "ge(0)", "b", -2.0],
    ]
    assert dict(zip(report.counts["check"], report.counts["failures"])) == {
        "in_range(0, 120)": 2,
        "nullable": 1,
        "finite()": 1,
        "ge(0)": 1,
    }


def test_missing_and_unexpected_columns(schema):
    df = frame().drop(columns=["score"]).assign(extra=1)
    report = schema.validate(df)
    assert report.failures[["column", "check"]].values.tolist() == [
        ["score", "column_in_frame"],
        ["extra", "column_in_schema"],
    ]
    lenient = mp.Schema({"age": mp.Column("int64")})
    assert lenient.validate(df).ok


def test_optional_column_may_be_absent():
    schema = mp.Schema({"a": mp.Column("int64"), "b": mp.Column("int64", required=False)})
    assert schema.validate(pd.DataFrame({"a": [1]})).ok


def test_ordered_columns():
    schema = mp.Schema({"a": mp.Column("int64"), "b": mp.Column("int64")}, ordered=True)
    assert schema.validate(pd.DataFrame({"a": [1], "b": [2]})).ok
    report = schema.validate(pd.DataFrame({"b": [2], "a": [1]}))
    assert report.failures["check"].tolist() == ["column_order"]


def test_duplicate_column_names_are_reported():
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    report = mp.Schema({"a": mp.Column("int64")}).validate(df)
    assert report.failures["check"].tolist() == ["column_names_unique"]


def test_unique_column_and_schema_level_unique_combination():
    schema = mp.Schema(
        {"id": mp.Column("int64", unique=True), "day": mp.Column("int64")}, unique=["id", "day"]
    )
    df = pd.DataFrame({"id": [1, 2, 1, 1], "day": [1, 1, 2, 1]})
    report = schema.validate(df)
    got = report.failures[["column", "check", "index"]].values.tolist()
    assert got == [
        ["id", "unique", 0],
        ["id", "unique", 2],
        ["id", "unique", 3],
        ["id, day", "unique(id, day)", 0],
        ["id, day", "unique(id, day)", 3],
    ]
    assert report.failures["value"].tolist()[-1] == (1, 1)


def test_frame_level_checks():
    schema = mp.Schema(
        {"start": mp.Column("int64"), "end": mp.Column("int64")},
        checks=[
            C.compare_columns("start", "<=", "end"),
            C.custom(lambda df: len(df) < 10, name="small"),
        ],
    )
    report = schema.validate(pd.DataFrame({"start": [1, 5], "end": [2, 4]}))
    assert report.failures.values.tolist() == [
        ["start, end", "compare_columns(start <= end)", 1, (5, 4)]
    ]


def test_frame_check_on_missing_column_is_reported_not_raised():
    schema = mp.Schema({}, checks=[C.compare_columns("a", "<", "b")])
    report = schema.validate(pd.DataFrame({"a": [1]}))
    assert report.failures["check"].tolist() == ["compare_columns(a < b)"]
    assert "KeyError" in report.counts["reason"][0]


def test_user_checks_mask_bool_and_raising():
    def boom(s):
        raise RuntimeError("kaput")

    def even(s):
        return s % 2 == 0

    schema = mp.Schema(
        {"x": mp.Column("int64", checks=[even, lambda s: False, boom, C.custom(even, name="ev")])}
    )
    report = schema.validate(pd.DataFrame({"x": [2, 3]}))
    counts = report.counts
    assert counts["check"].tolist() == ["even", "<lambda>", "boom", "ev"]
    assert counts["failures"].tolist() == [1, 1, 1, 1]
    assert counts["reason"][1] == "check returned False"
    assert counts["reason"][2] == "check raised RuntimeError: kaput"
    assert report.failures["index"].tolist() == [1, None, None, 1]


def test_user_check_with_wrong_mask_length_is_reported():
    schema = mp.Schema({"x": mp.Column("int64", checks=[lambda s: [True]])})
    report = schema.validate(pd.DataFrame({"x": [1, 2]}))
    assert "shape (1,) for 2 rows" in report.counts["reason"][0]


def test_user_check_sees_the_series_with_its_index():
    seen = {}

    def look(s):
        seen["s"] = s
        return s > 0

    mp.Schema({"x": mp.Column("int64", checks=[look])}).validate(
        pd.DataFrame({"x": [1, 2]}, index=[10, 11])
    )
    assert seen["s"].index.tolist() == [10, 11]
    assert seen["s"].name == "x"


def test_max_failures_caps_cells_not_counts(schema):
    df = pd.DataFrame({"age": np.arange(-100, 0), "city": ["x"] * 100, "score": -np.ones(100)})
    report = schema.validate(df, max_failures=7)
    assert report.n_failures == 200
    assert len(report.failures) == 7
    assert report.truncated
    assert report.failures["column"].tolist() == ["age"] * 7
    assert report.failures["index"].tolist() == list(range(7))
    assert schema.validate(df, max_failures=0).failures.empty
    with pytest.raises(mp.ConfigurationError, match="max_failures"):
        schema.validate(df, max_failures=-1)


@pytest.mark.parametrize("bad", [[1, 2], {"a": [1]}, np.zeros((2, 2)), "frame.csv", None])
def test_non_dataframe_input_is_a_clear_error(schema, bad):
    with pytest.raises(mp.ConfigurationError, match="needs a pandas DataFrame") as info:
        schema.validate(bad)
    assert info.value.parameter == "data"


def test_schema_rejects_bad_declarations():
    with pytest.raises(mp.ConfigurationError, match="mapping"):
        mp.Schema([mp.Column("int64")])  # type: ignore[arg-type]
    with pytest.raises(mp.ConfigurationError, match="not callable"):
        mp.Column("int64", checks=[42])


def test_a_dtype_alone_is_short_for_a_column():
    schema = mp.Schema({"a": "int64"})
    assert schema.columns["a"] == mp.Column("int64")
    with pytest.raises(TypeError):
        schema.columns["b"] = mp.Column("int64")


def test_raise_for_failures_carries_the_report(schema):
    report = schema.validate(frame(age=[-1, 1, 2]))
    with pytest.raises(mp.SchemaError) as info:
        report.raise_for_failures()
    assert info.value.report is report
    message = str(info.value)
    assert "age: in_range(0, 120) ×1 (row 0)" in message
    assert "exc.report.failures" in message


def test_report_renders_as_text_markdown_html_and_dict(schema):
    report = schema.validate(frame(age=[-1, 1, 2]))
    text = report.summary()
    assert "failed" in text
    assert "in_range(0, 120)" in text
    md = report.to_markdown()
    assert md.startswith("## Validation report — failed")
    html = report._repr_html_()
    assert "<table>" in html
    assert "mlprod-bad" in html
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["failures"] == [
        {"column": "age", "check": "in_range(0, 120)", "index": 0, "value": -1}
    ]
    assert data["checks"] == [
        {
            "column": "age",
            "check": "in_range(0, 120)",
            "failures": 1,
            "reason": "value fails the check",
        }
    ]
    assert repr(report) == "<ValidationReport rows=3 1 failures in 1 checks>"


def test_report_is_frozen(schema):
    report = schema.validate(frame())
    with pytest.raises(AttributeError):
        report.rows = 5


def test_empty_frame_validates():
    schema = mp.Schema({"a": mp.Column("int64", unique=True, checks=[C.monotonic(), C.ge(0)])})
    assert schema.validate(pd.DataFrame({"a": pd.Series([], dtype="int64")})).ok


def test_plan_survives_different_column_orders_and_frames(schema):
    for cols in (["age", "city", "score"], ["score", "age", "city"]):
        assert schema.validate(frame()[cols]).ok
    bad = frame()[["score", "age", "city"]].assign(age=[1, 2, 300])
    assert schema.validate(bad).failures["index"].tolist() == [2]


def test_monotonic_and_unique_in_schema():
    schema = mp.Schema({"t": mp.Column("float64", checks=[C.monotonic(strict=True), C.unique()])})
    report = schema.validate(pd.DataFrame({"t": [1.0, 2.0, 2.0, 3.0]}))
    assert report.failures[["check", "index"]].values.tolist() == [
        ["monotonic(strictly increasing)", 2],
        ["unique()", 1],
        ["unique()", 2],
    ]


def test_frames_with_numbered_columns_match_by_name():
    schema = mp.Schema({"0": mp.Column("float64"), "1": mp.Column("float64")}, strict=True)
    assert schema.validate(pd.DataFrame(np.zeros((2, 2)))).ok
    report = schema.validate(pd.DataFrame(np.zeros((2, 3))))
    assert report.failures[["column", "check"]].values.tolist() == [["2", "column_in_schema"]]


def test_frames_with_mixed_text_and_number_labels_match_by_name():
    schema = mp.Schema({"0": mp.Column("float64"), "a": mp.Column("float64")}, strict=True)
    df = pd.DataFrame([[1.0, 2.0]], columns=pd.Index([0, "a"], dtype=object))
    assert schema.validate(df).ok
