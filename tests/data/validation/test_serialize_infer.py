"""Schemas to JSON/YAML and back; inferring a schema from a frame."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlprod as mp
from mlprod.data.validation.checks import builtin_kinds

C = mp.checks

EVERY_CHECK = [
    C.gt(0),
    C.ge(0.5),
    C.lt(10),
    C.le(-1),
    C.eq("x"),
    C.ne(0),
    C.in_range(0, 1, include_min=False),
    C.in_range(None, float("inf")),
    C.in_range(pd.Timestamp("2020-01-01", tz="UTC"), None),
    C.datetime_between("2020-01-01", "2030-01-01T00:00"),
    C.isin(["a", "b"]),
    C.notin([1, 2]),
    C.str_matches(r"^\d+$"),
    C.str_contains("@"),
    C.str_length(1, 5),
    C.str_startswith("A"),
    C.str_endswith("z"),
    C.unique(),
    C.monotonic(decreasing=True, strict=True),
    C.finite(),
]


def test_every_builtin_kind_is_covered_here():
    frame_kinds = {"compare_columns", "no_duplicates"}
    assert {c.kind for c in EVERY_CHECK} | frame_kinds == set(builtin_kinds())


@pytest.fixture
def full_schema():
    return mp.Schema(
        {
            "a": mp.Column("int64", checks=EVERY_CHECK[:8], unique=True, description="an id"),
            "b": mp.Column("category", categories=["x", "y"], ordered=True, nullable=True),
            "c": mp.Column(
                "datetime64[ns, UTC]", required=False, coerce=True, checks=EVERY_CHECK[8:10]
            ),
            "d": mp.Column("str", checks=EVERY_CHECK[10:]),
            "e": mp.Column(None),
        },
        strict=True,
        ordered=True,
        coerce=False,
        unique=["a", "d"],
        checks=[C.compare_columns("a", "<", "e"), C.no_duplicates(["a", "b"])],
        name="everything",
    )


def test_json_and_yaml_round_trip_every_check_and_option(full_schema):
    assert mp.Schema.from_json(full_schema.to_json()) == full_schema
    assert mp.Schema.from_yaml(full_schema.to_yaml()) == full_schema
    assert mp.Schema.from_dict(full_schema.to_dict()) == full_schema
    assert mp.Schema.from_yaml(full_schema.to_json()) == full_schema  # JSON is YAML
    assert mp.Schema.from_json(full_schema.to_json().encode()) == full_schema


def test_written_form_is_small_and_plain(full_schema):
    data = json.loads(full_schema.to_json())
    assert data["columns"]["e"] == {}
    assert data["columns"]["a"]["checks"][0] == {"check": "gt", "value": 0}
    assert data["columns"]["c"]["checks"][0]["min_value"] == {
        "$timestamp": "2020-01-01T00:00:00+00:00"
    }
    assert data["columns"]["a"]["checks"][7]["max_value"] == {"$float": "inf"}


def test_custom_check_refuses_to_serialise_by_name():
    schema = mp.Schema({"x": mp.Column("int64", checks=[C.custom(lambda s: s > 0, name="pos")])})
    with pytest.raises(mp.SerializationError, match="'pos' on column 'x'"):
        schema.to_json()

    def mine(df):
        return True

    with pytest.raises(mp.SerializationError, match="'mine' on the schema"):
        mp.Schema({}, checks=[mine]).to_yaml()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{", "not valid JSON"),
        ('{"columns": {"a": {"dtype": "int64", "nulable": true}}}', "columns.a.nulable"),
        ('{"columns": {"a": {"dtype": "int46"}}}', "Column 'a': Unknown dtype 'int46'"),
        ('{"columns": {"a": {"checks": [{"check": "nope"}]}}}', "Column 'a': Unknown check 'nope'"),
        ('{"columns": {"a": {"checks": [{"value": 1}]}}}', "columns.a.checks.0.check"),
        ('{"columns": {}, "strict": "very"}', "strict"),
        ("[1, 2]", "must be a mapping"),
        ('{"mlprod_schema": 99}', "newer than this mlprod"),
    ],
)
def test_malformed_schema_documents(text, match):
    with pytest.raises(mp.ConfigurationError, match=match):
        mp.Schema.from_json(text)


def test_malformed_yaml_says_where():
    with pytest.raises(mp.ConfigurationError, match=r"at line \d+, column \d+"):
        mp.Schema.from_yaml("columns:\n  a: [1\n")


def test_unknown_dtype_in_file_names_the_column():
    with pytest.raises(mp.ConfigurationError, match="Column 'age': Unknown dtype 'integr'"):
        mp.Schema.from_yaml("columns:\n  age:\n    dtype: integr\n")


def test_infer_schema_proposes_dtypes_ranges_categories_keys():
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "score": [0.5, np.nan, 0.9, 0.1],
            "color": ["red", "blue", "red", "blue"],
            "kind": pd.Categorical(["a", "b", "a", "a"]),
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01"], utc=True),
            "flag": [True, False, True, True],
        }
    )
    schema = mp.infer_schema(df, name="demo")
    cols = schema.columns
    assert cols["id"] == mp.Column("int64", unique=True, checks=[C.in_range(1, 4)])
    assert cols["score"] == mp.Column("float64", nullable=True, checks=[C.in_range(0.1, 0.9)])
    assert cols["color"] == mp.Column("str", checks=[C.isin(["blue", "red"])])
    assert cols["kind"] == mp.Column("category", categories=["a", "b"])
    assert cols["when"].nullable
    # The resolution pandas parsed to: microseconds on pandas 3, nanoseconds on pandas 2.
    assert cols["when"].dtype == f"datetime64[{df['when'].dt.unit}, UTC]"
    assert cols["flag"] == mp.Column("bool")
    assert schema.strict
    assert schema.name == "demo"
    assert schema.validate(df).ok
    assert mp.Schema.from_yaml(schema.to_yaml()) == schema
    assert not schema.validate(df.assign(id=[1, 1, 2, 3])).ok


def test_infer_schema_options_and_bad_input():
    df = pd.DataFrame({"x": [1, 2]})
    assert mp.infer_schema(df, ranges=False, unique=False, strict=False).columns["x"] == mp.Column(
        "int64"
    )
    with pytest.raises(mp.ConfigurationError, match="needs a pandas DataFrame"):
        mp.infer_schema([1, 2])
    with pytest.raises(mp.ConfigurationError, match="duplicate column names"):
        mp.infer_schema(pd.DataFrame([[1, 2]], columns=["a", "a"]))
