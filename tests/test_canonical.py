"""Canonical JSON: one value, one byte string."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprod._internal.canonical import canonical_json, sha256_hex, to_jsonable

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**62), 2**62)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_round_trips_through_json(value):
    assert json.loads(canonical_json(value)) == value


@given(st.dictionaries(st.text(max_size=8), st.integers(), max_size=8))
def test_key_order_does_not_matter(d):
    reversed_d = dict(reversed(list(d.items())))
    assert canonical_json(d) == canonical_json(reversed_d)
    assert sha256_hex(d) == sha256_hex(reversed_d)


def test_compact_sorted_utf8():
    assert canonical_json({"b": "é", "a": [1, 2.5]}) == '{"a":[1,2.5],"b":"é"}'.encode()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_rejected(bad):
    with pytest.raises(ValueError, match="canonical JSON"):
        canonical_json({"x": bad})


def test_numpy_and_datetime_values_convert():
    value = {
        "i": np.int64(3),
        "f": np.float32(0.5),
        "a": np.arange(3),
        "t": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "s": {3, 1},
    }
    assert to_jsonable(value) == {
        "i": 3,
        "f": 0.5,
        "a": [0, 1, 2],
        "t": "2024-01-02T03:04:05+00:00",
        "s": [1, 3],
    }
    assert json.loads(canonical_json(value))["a"] == [0, 1, 2]


def test_unencodable_value_says_what_to_do():
    with pytest.raises(TypeError, match="cannot encode object"):
        canonical_json({"x": object()})
