"""Canonical JSON: one value, one byte string."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprod._internal.canonical import (
    NONFINITE_TAG,
    canonical_json,
    loads_canonical,
    sha256_hex,
    to_jsonable,
)
from mlprod.errors import EncodingError

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


@pytest.mark.parametrize("allow_nonfinite", [False, True])
def test_unencodable_leaf_is_located_by_its_key_path(allow_nonfinite):
    value = {"inputs": {"a": [1.0, 2.0], "c": [0j, np.complex128(1 + 2j)]}, "n": 1}
    with pytest.raises(EncodingError) as info:
        canonical_json(value, allow_nonfinite=allow_nonfinite)
    err = info.value
    assert err.path == ("inputs", "c", 0)
    assert err.obj_type == "complex"
    assert "['inputs']['c'][0]" in str(err)
    assert "real and imaginary" in str(err)
    assert isinstance(err, TypeError)  # callers that fall back on TypeError keep working
    assert err.to_dict()["path"] == ["inputs", "c", 0]


def test_a_key_collision_below_a_container_keeps_its_own_error():
    with pytest.raises(EncodingError) as info:
        canonical_json({"outer": [{1: "a", "1": "b"}]})
    assert info.value.keys == ("1", "'1'")
    assert "written as the JSON key" in str(info.value)


def test_pinned_bytes_of_finite_values_do_not_change():
    # Digests in registries and stores in the field are taken over these bytes.
    value = {"b": [1, 2.5, -0.0, 1e-7, 1e22], "a": {"z": None, "y": True}, "é": "ü\n"}
    pinned = b'{"a":{"y":true,"z":null},"b":[1,2.5,-0.0,1e-07,1e+22],"\xc3\xa9":"\xc3\xbc\\n"}'
    assert canonical_json(value) == pinned
    assert canonical_json(value, allow_nonfinite=True) == pinned
    assert sha256_hex(value) == hashlib.sha256(pinned).hexdigest()


@given(json_values)
def test_allowing_nonfinite_changes_nothing_for_finite_values(value):
    assert canonical_json(value, allow_nonfinite=True) == canonical_json(value)


nonfinite_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**62), 2**62) | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(nonfinite_values)
def test_nonfinite_floats_round_trip_and_every_json_reader_parses_them(value):
    data = canonical_json(value, allow_nonfinite=True)
    json.loads(data.decode(), parse_constant=pytest.fail)  # no bare NaN or Infinity token
    assert _same(loads_canonical(data), value)


def test_the_nonfinite_encoding_is_stated_and_cannot_be_a_users_value():
    assert canonical_json([math.nan, math.inf, -math.inf], allow_nonfinite=True) == (
        b'[{"$mlprod.float":"NaN"},{"$mlprod.float":"Infinity"},{"$mlprod.float":"-Infinity"}]'
    )
    # The strings a user writes stay strings; the tag's own key is refused.
    assert loads_canonical(canonical_json(["NaN", "Infinity"], allow_nonfinite=True)) == [
        "NaN",
        "Infinity",
    ]
    for reserved in ({NONFINITE_TAG: "NaN"}, [{NONFINITE_TAG: 1, "x": math.nan}]):
        with pytest.raises(EncodingError, match="reserved"):
            canonical_json(reserved, allow_nonfinite=True)
    # Where NaN is not allowed, the tag's key is ordinary data (no collision is possible).
    assert loads_canonical(canonical_json({NONFINITE_TAG: "x"})) == {NONFINITE_TAG: "x"}


@pytest.mark.parametrize(
    "ambiguous",
    [{1: "a", "1": "b"}, {"x": [{True: 1, "True": 2}]}, {None: 0, "None": 1}],
)
def test_keys_that_collide_as_strings_are_refused(ambiguous):
    with pytest.raises(EncodingError, match="distinct string key") as info:
        canonical_json(ambiguous)
    assert isinstance(info.value, TypeError)
    assert len(info.value.keys) == 2
    with pytest.raises(EncodingError):
        to_jsonable(ambiguous)
    # Lenient conversion (error reports) keeps both entries apart instead.
    lenient = to_jsonable(ambiguous, strict=False)
    assert len(json.dumps(lenient)) > 0
    assert to_jsonable({1: "a", "1": "b"}, strict=False) == {"1": "a", "'1'": "b"}
