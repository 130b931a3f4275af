"""The laws of validation, as properties.

* a schema inferred from a frame validates that frame;
* ``from_json(to_json(s)) == s`` (and YAML);
* frames drawn from ``schema.strategy()`` pass ``schema.validate``;
* one corrupted cell is found at the right label by the right check, and nothing else;
* validating in chunks gives the same report as validating the whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import INFER_KINDS, frames, schemas

import mlprod as mp

C = mp.checks


@given(frames(max_rows=30, kinds=INFER_KINDS, shift_index=True))
def test_inferred_schema_validates_its_frame(df):
    schema = mp.infer_schema(df)
    report = schema.validate(df)
    assert report.ok, report.summary()


@given(frames(max_rows=30, kinds=INFER_KINDS, shift_index=True))
def test_inferred_schema_round_trips(df):
    schema = mp.infer_schema(df)
    assert mp.Schema.from_json(schema.to_json()) == schema


@given(schemas())
def test_json_and_yaml_round_trip(schema):
    assert mp.Schema.from_json(schema.to_json()) == schema
    assert mp.Schema.from_yaml(schema.to_yaml()) == schema


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(schemas(), st.data())
def test_strategy_frames_pass_their_schema(schema, data):
    df = data.draw(schema.strategy(max_rows=12))
    report = schema.validate(df)
    assert report.ok, report.summary()


CORRUPTIBLE = mp.Schema(
    {
        "age": mp.Column("int64", checks=[C.in_range(0, 120)]),
        "code": mp.Column("str", checks=[C.str_matches(r"[A-Z]{2}\d{2}$")]),
        "score": mp.Column("float64", nullable=True, checks=[C.ge(0.0), C.lt(1.0)]),
        "color": mp.Column("category", categories=["r", "g", "b"]),
        "n": mp.Column("Int64", checks=[C.isin([1, 2, 3])]),
    }
)
BAD_VALUES = {
    "age": (121, "in_range(0, 120)"),
    "code": ("A123", "str_matches('[A-Z]{2}\\\\d{2}$')"),
    "score": (1.0, "lt(1.0)"),
    "n": (7, "isin((1, 2, 3))"),
}


@given(CORRUPTIBLE.strategy(min_rows=1, max_rows=25), st.data())
def test_one_corrupted_cell_is_found_where_it_is(df, data):
    df.index = pd.Index([f"r{i}" for i in np.random.default_rng(len(df)).permutation(len(df))])
    column = data.draw(st.sampled_from([*sorted(BAD_VALUES), "color"]))
    row = data.draw(st.integers(0, len(df) - 1))
    label = df.index[row]
    if column == "color":
        df["color"] = df["color"].cat.add_categories(["purple"])
        df.iloc[row, df.columns.get_loc("color")] = "purple"
        value, check = "purple", "categories"
    else:
        value, check = BAD_VALUES[column]
        df.iloc[row, df.columns.get_loc(column)] = value
    report = CORRUPTIBLE.validate(df)
    assert report.failures.values.tolist() == [[column, check, label, value]]


CHUNKED = mp.Schema(
    {
        "id": mp.Column("int64", unique=True, checks=[C.in_range(0, 60)]),
        "t": mp.Column("float64", nullable=True, checks=[C.monotonic()]),
        "s": mp.Column("str", checks=[C.isin(["a", "b", "c"])]),
    },
    unique=["s", "t"],
)


@given(
    st.lists(
        st.tuples(st.integers(-5, 65), st.none() | st.floats(0, 20), st.sampled_from("abcd")),
        max_size=60,
    ),
    st.integers(1, 25),
    st.integers(0, 8) | st.none(),
)
def test_chunked_equals_whole(rows, size, cap):
    df = pd.DataFrame(rows, columns=["id", "t", "s"]).astype(
        {"id": "int64", "t": "float64", "s": "str"}
    )
    whole = CHUNKED.validate(df, max_failures=cap)
    chunks = [df.iloc[i : i + size] for i in range(0, len(df), size)]
    chunked = CHUNKED.validate_chunks(chunks, max_failures=cap)
    pd.testing.assert_frame_equal(chunked.failures, whole.failures)
    pd.testing.assert_frame_equal(chunked.counts, whole.counts)


@pytest.mark.parametrize("size", [1, 3])
def test_chunked_equals_whole_with_empty_chunks(size):
    df = pd.DataFrame({"id": [1, 1, 2], "t": [1.0, 0.5, 2.0], "s": ["a", "a", "z"]})
    chunks = [df.iloc[:0], *[df.iloc[i : i + size] for i in range(0, 3, size)], df.iloc[:0]]
    pd.testing.assert_frame_equal(
        CHUNKED.validate_chunks(chunks).failures, CHUNKED.validate(df).failures
    )
