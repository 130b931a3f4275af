"""Canonical forms, accepted inputs, pinned values and errors of mp.fingerprint."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import mlprod as mp
from mlprod.data.fingerprint.compute import PartialFingerprint
from mlprod.data.fingerprint.kernels import hash_bytes_reference, hash_utf8


def _nan_with_payload(payload: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000000 | payload))[0]


def pinned_frames() -> dict[str, pd.DataFrame]:
    return {
        "ints": pd.DataFrame({"a": [1, 2, 3]}),
        "mixed": pd.DataFrame(
            {
                "id": [1, 2, 3],
                "x": [0.5, np.nan, -0.0],
                "s": ["a", None, "a long string value"],
                "c": pd.Categorical(["u", "v", None]),
                "t": pd.to_datetime(["2020-01-01", None, "2021-06-30"]).astype("datetime64[ns]"),
                "n": pd.array([1, None, 3], dtype="Int64"),
                "b": [True, False, True],
            }
        ),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="int64")}),
        # several blocks of the ordered grid, and a partial last one
        "blocks": pd.DataFrame(
            {
                "i": np.arange(140_000, dtype="int64") * 7919 % 100_003,
                "x": np.arange(140_000) / 7.0 - 10_000.0,
                "s": pd.Series([f"k{i % 977}" * (1 + i % 3) for i in range(140_000)], dtype="str"),
                "c": pd.Categorical(np.array(["p", "q", "r"])[np.arange(140_000) % 3]),
            }
        ),
    }


# Known values of algorithm mlprod-fp/2: a dependency upgrade that changes any of
# them is a bug to fix, never a constant to update.
PINNED = {
    "ints": (
        "7d08cbdbc634b7126370bc7bf20c4875",
        "bfd088945d0eb1565ce780c68ad42ffb",
        "d52ff51d9b2f535cfaec02b5b216e2bb",
    ),
    "mixed": (
        "2db3f72dba2c90a4add84ee4e8d62ce4",
        "83752aa83db9fb81cc24bb07bd6f1afd",
        "5d7cb80a4a6219eadd6b627460a98180",
    ),
    "empty": (
        "a1814fd4a13cdca9badac3c489f58dc5",
        "622ed539b4a0ff0876abd84fd294202e",
        "a6a0e1300464a7e91ea7181da852d7d5",
    ),
    "blocks": (
        "62ad5602ee3c00e1209fc97b61db2752",
        "450241ffdc0c0d5e28e885c2abedf1df",
        "46471390bb5ad05ba70994bf147bc62f",
    ),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_values_never_change(name):
    df = pinned_frames()[name]
    ordered, unordered, with_index = PINNED[name]
    assert mp.fingerprint(df) == ordered
    assert mp.fingerprint(df, ordered=False) == unordered
    assert mp.fingerprint(df, index=True) == with_index
    assert mp.fingerprint(df).algorithm == "mlprod-fp/2"


def test_fingerprint_is_a_hex_string_with_facts():
    df = pinned_frames()["mixed"]
    fp = mp.fingerprint(df)
    assert isinstance(fp, str)
    assert len(fp) == 32
    assert int(fp, 16) >= 0
    assert fp.rows == 3
    assert fp.columns == ("id", "x", "s", "c", "t", "n", "b")
    assert dict(fp.schema) == {
        "id": "int64",
        "x": "float64",
        "s": "string",
        "c": "category[string]",
        "t": "datetime64[ns]",
        "n": "Int64",
        "b": "bool",
    }
    assert (fp.ordered, fp.include_index, fp.columns_ordered) == (True, False, True)
    assert fp.index(fp[-1]) == str(fp).index(fp[-1])  # str methods keep their meaning
    assert repr(fp).startswith(f"Fingerprint('{fp}', rows=3, columns=7")
    back = pickle.loads(pickle.dumps(fp))
    assert back == fp
    assert back.schema == fp.schema
    assert back.rows == 3
    assert mp.Fingerprint.from_dict(fp.to_dict()).schema == fp.schema
    assert {fp: 1}[str(fp)] == 1


def test_nan_payloads_and_negative_zero_are_canonical():
    base = pd.DataFrame({"x": [0.0, np.nan, 1.0]})
    odd = pd.DataFrame({"x": [-0.0, _nan_with_payload(0x123), 1.0]})
    assert np.isnan(odd["x"][1])
    assert np.signbit(odd["x"][0])
    assert mp.fingerprint(odd) == mp.fingerprint(base)
    assert mp.fingerprint(
        pd.DataFrame({"x": [np.float32(-0.0), np.float32(1)]}, dtype="float32")
    ) == mp.fingerprint(pd.DataFrame({"x": [0.0, 1.0]}, dtype="float32"))


def test_missing_markers_are_one_missing_value():
    as_none = pd.DataFrame({"s": pd.Series(["a", None], dtype=object)})
    as_nan = pd.DataFrame({"s": pd.Series(["a", np.nan], dtype=object)})
    as_na = pd.DataFrame({"s": pd.Series(["a", pd.NA], dtype=object)})
    assert mp.fingerprint(as_none) == mp.fingerprint(as_nan) == mp.fingerprint(as_na)
    floats_na = pd.DataFrame({"x": pd.array([1.0, None], dtype="Float64")})
    floats_nan = pd.DataFrame({"x": pd.array([1.0, np.nan], dtype="Float64")})
    assert mp.fingerprint(floats_na) == mp.fingerprint(floats_nan)
    dt = pd.DataFrame({"t": pd.to_datetime(["2020-01-01", None])})
    dt2 = pd.DataFrame({"t": pd.to_datetime(["2020-01-01", pd.NaT])})
    assert mp.fingerprint(dt) == mp.fingerprint(dt2)
    # a missing value never equals a real one
    assert mp.fingerprint(
        pd.DataFrame({"n": pd.array([0, None], dtype="Int64")})
    ) != mp.fingerprint(pd.DataFrame({"n": pd.array([0, 0], dtype="Int64")}))
    assert mp.fingerprint(pd.DataFrame({"s": ["", None]})) != mp.fingerprint(
        pd.DataFrame({"s": ["", ""]})
    )


@pytest.mark.parametrize(
    "dtype",
    [
        object,
        "string",
        "str",
        "string[python]",
        "string[pyarrow]",
        pd.ArrowDtype(pa.string()),
        pd.ArrowDtype(pa.large_string()),
        pd.ArrowDtype(pa.string_view()),
    ],
)
def test_strings_hash_alike_in_every_storage(dtype):
    values = ["", "a", "twelve bytes", "thirteen byte", "é" * 9, None, "x" * 100]
    expected = mp.fingerprint(pd.DataFrame({"s": pd.Series(values, dtype="str")}))
    assert mp.fingerprint(pd.DataFrame({"s": pd.Series(values, dtype=dtype)})) == expected


def test_string_view_fast_path_matches_the_reference_hash():
    values = [
        "",
        "a",
        "abcd",
        "abcde",
        "abcdefgh",
        "abcdefghijkl",
        "abcdefghijklm",
        "é" * 7,
        "x" * 41,
        "a\x00",
        None,
    ]
    arr = pa.array(values, type=pa.large_string())
    fast, nulls = hash_utf8(arr)
    reference = hash_bytes_reference(arr)
    assert nulls is not None
    assert nulls.tolist() == [v is None for v in values]
    assert (fast[~nulls] == reference[~nulls]).all()
    assert len(set(fast[~nulls].tolist())) == len(values) - 1
    assert (hash_utf8(arr.slice(4))[0] == fast[4:]).all()


def test_categoricals_hash_their_values_not_their_codes():
    a = pd.DataFrame({"c": pd.Categorical(["x", "y", "x"], categories=["x", "y"])})
    b = pd.DataFrame({"c": pd.Categorical(["x", "y", "x"], categories=["y", "x", "unused"])})
    assert mp.fingerprint(a) == mp.fingerprint(b)
    assert mp.fingerprint(a) != mp.fingerprint(a.astype(str))
    ordered = pd.DataFrame({"c": pd.Categorical(["x", "y", "x"], ordered=True)})
    assert mp.fingerprint(ordered).schema[0][1].startswith("category[string, ordered, order=")


def test_numpy_arrays_and_series_are_accepted():
    arr = np.arange(6, dtype="int64")
    assert mp.fingerprint(arr) == mp.fingerprint(pd.Series(arr))
    grid = arr.reshape(3, 2)
    assert mp.fingerprint(grid) == mp.fingerprint(pd.DataFrame(grid))
    assert mp.fingerprint(np.asfortranarray(grid)) == mp.fingerprint(grid)
    assert mp.fingerprint(pd.Series([1.5, 2.5], name="y")).columns == ("y",)


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([1 + 2j, 3 - 1j]),
        pd.Series(pd.period_range("2020-01", periods=2, freq="M")),
        pd.Series(pd.interval_range(0, 2)),
        pd.Series(pd.to_timedelta([1, 2], unit="s")),
        pd.Series(pd.date_range("2020", periods=2, tz="Europe/Oslo")),
        pd.Series([1, None], dtype=pd.ArrowDtype(pa.int64())),
        pd.Series([1.5, None], dtype=pd.ArrowDtype(pa.float64())),
        pd.Series([True, None], dtype="boolean"),
        pd.Series([1, 2], dtype="uint8"),
        pd.Series([b"ab", None], dtype=object),
        pd.Series([1, "a", 2.5, None], dtype=object),
    ],
    ids=lambda s: str(s.dtype),
)
def test_other_dtypes_fingerprint_and_detect_changes(series):
    df = series.to_frame("v")
    fp = mp.fingerprint(df)
    assert fp == mp.fingerprint(df.copy())
    assert fp == mp.fingerprint([df.iloc[:1], df.iloc[1:]])
    assert fp != mp.fingerprint(df.iloc[::-1])


def test_index_option_and_index_types():
    df = pd.DataFrame({"a": [1, 2, 3]})
    as_int_index = df.set_axis(pd.Index([0, 1, 2], dtype="int64"))
    assert mp.fingerprint(df, index=True) == mp.fingerprint(as_int_index, index=True)
    assert mp.fingerprint(df.set_axis([9, 8, 7]), index=True) != mp.fingerprint(df, index=True)
    multi = df.set_axis(pd.MultiIndex.from_arrays([["x", "y", "z"], [1, 2, 3]], names=["k", "n"]))
    assert mp.fingerprint(multi, index=True) != mp.fingerprint(df, index=True)
    assert mp.fingerprint(multi) == mp.fingerprint(df)


def test_object_column_chunks_merge_with_string_chunks():
    mixed = pd.DataFrame({"m": pd.Series(["a", "b", 3, None], dtype=object)})
    assert mp.fingerprint(mixed).schema == (("m", "object"),)
    assert mp.fingerprint([mixed.iloc[:2], mixed.iloc[2:]]) == mp.fingerprint(mixed)


def test_bad_inputs_get_clear_errors():
    with pytest.raises(mp.ConfigurationError, match="3-dimensional"):
        mp.fingerprint(np.zeros((2, 2, 2)))
    with pytest.raises(mp.ConfigurationError, match="Cannot fingerprint a int"):
        mp.fingerprint(5)
    with pytest.raises(mp.ConfigurationError, match="different schemas"):
        mp.fingerprint([pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1.5]})])
    with pytest.raises(mp.ConfigurationError, match="empty"):
        mp.fingerprint(iter([]))
    with pytest.raises(mp.ConfigurationError, match="fingerprint_files"):
        mp.fingerprint("data.parquet")


@pytest.mark.parametrize("ordered_fp", [True, False])
def test_ordered_categoricals_with_reversed_category_order_differ(ordered_fp: bool) -> None:
    values = ["x", "y", "x"]
    a = pd.DataFrame({"c": pd.Categorical(values, categories=["x", "y"], ordered=True)})
    b = pd.DataFrame({"c": pd.Categorical(values, categories=["y", "x"], ordered=True)})
    assert (a["c"] < "y").tolist() != (b["c"] < "y").tolist()  # they compare differently
    assert mp.fingerprint(a, ordered=ordered_fp) != mp.fingerprint(b, ordered=ordered_fp)
    same = pd.DataFrame({"c": pd.Categorical(values, categories=["x", "y"], ordered=True)})
    assert mp.fingerprint(a, ordered=ordered_fp) == mp.fingerprint(same, ordered=ordered_fp)
    # unordered categoricals still ignore category order
    ua, ub = a.astype({"c": "category"}), b.copy()
    ub["c"] = ub["c"].cat.as_unordered()
    ua["c"] = ua["c"].cat.as_unordered()
    assert mp.fingerprint(ua, ordered=ordered_fp) == mp.fingerprint(ub, ordered=ordered_fp)


@pytest.mark.parametrize("option", ["ordered", "index", "columns_ordered"])
@pytest.mark.parametrize("value", ["no", 0, None, "False"])
def test_fingerprint_refuses_non_boolean_options(option: str, value: object) -> None:
    df = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(mp.ConfigurationError, match=option) as err:
        mp.fingerprint(df, **{option: value})  # type: ignore[arg-type]
    assert err.value.parameter == option
    with pytest.raises(mp.ConfigurationError):
        PartialFingerprint.of(df, **{option: value})  # type: ignore[arg-type]


def test_structured_array_fingerprints_as_its_fields() -> None:
    arr = np.array([(1, 2.0), (3, 4.5)], dtype=[("a", "i8"), ("b", "f8")])
    frame = pd.DataFrame({"a": [1, 3], "b": [2.0, 4.5]})
    assert mp.fingerprint(arr) == mp.fingerprint(frame)
    assert mp.fingerprint(arr, ordered=False) == mp.fingerprint(frame, ordered=False)


@pytest.mark.parametrize("typ", ["date32", "time32", "date64", "timestamp"], ids=lambda t: str(t))
def test_arrow_temporal_columns_fingerprint(typ: str) -> None:
    import datetime

    import pyarrow as pa

    types = {
        "date32": (pa.date32(), [datetime.date(2020, 1, 1), None, datetime.date(1969, 12, 31)]),
        "date64": (pa.date64(), [datetime.date(2020, 1, 1), None, datetime.date(1969, 12, 31)]),
        "time32": (pa.time32("s"), [datetime.time(1), None, datetime.time(23, 59)]),
        "timestamp": (pa.timestamp("us"), [datetime.datetime(2020, 1, 1), None, None]),
    }
    pa_type, values = types[typ]
    df = pd.DataFrame({"d": pd.array(values, dtype=pd.ArrowDtype(pa_type))})
    whole = mp.fingerprint(df)
    assert whole == mp.fingerprint([df.iloc[:1], df.iloc[1:]])
    assert mp.fingerprint(df, ordered=False) == mp.fingerprint(df.iloc[::-1], ordered=False)
    changed = df.copy()
    changed.loc[0, "d"] = values[2] if values[2] is not None else values[0]
    if values[2] is not None:
        assert mp.fingerprint(changed) != whole
