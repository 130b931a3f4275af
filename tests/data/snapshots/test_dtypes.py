"""``load`` returns exactly what ``commit`` was given: every dtype pandas offers, and the index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlprod as mp

pa = pytest.importorskip("pyarrow")

_PANDAS3 = int(pd.__version__.split(".")[0]) >= 3


def _arrow(values: list[object], kind: object) -> pd.Series:
    return pd.Series(pa.array(values, type=kind).to_pandas(types_mapper=pd.ArrowDtype))


COLUMNS: dict[str, Callable[[], pd.Series]] = {
    "int8": lambda: pd.Series([1, -2, 3, 4], dtype="int8"),
    "int64": lambda: pd.Series([1, -2, 3, 2**60]),
    "uint64": lambda: pd.Series([1, 2, 3, 2**63], dtype="uint64"),
    "float32": lambda: pd.Series([1.5, np.nan, 3, -np.inf], dtype="float32"),
    "float64": lambda: pd.Series([1.5, np.nan, 3, 4]),
    "bool": lambda: pd.Series([True, False, True, True]),
    "datetime64[ns]": lambda: pd.Series(pd.date_range("2020", periods=4)),
    "datetime64[s]": lambda: pd.Series(pd.date_range("2020", periods=4, unit="s")),
    "datetime64[ns, tz]": lambda: pd.Series(pd.date_range("2020", periods=4, tz="Europe/Oslo")),
    "timedelta64": lambda: pd.Series(pd.to_timedelta([1, 2, None, 4], unit="s")),
    "Int64": lambda: pd.Series([1, None, 3, 4], dtype="Int64"),
    "UInt8": lambda: pd.Series([1, None, 3, 4], dtype="UInt8"),
    "Float32": lambda: pd.Series([1.5, None, 3, 4], dtype="Float32"),
    "boolean": lambda: pd.Series([True, None, False, True], dtype="boolean"),
    "string[python]": lambda: pd.Series(["a", None, "b", "c"], dtype="string[python]"),
    "string[pyarrow]": lambda: pd.Series(["a", None, "b", "c"], dtype="string[pyarrow]"),
    "object with NaN": lambda: pd.Series(["a", np.nan, "b", "c"], dtype=object),
    "object with None": lambda: pd.Series(["a", None, "b", "c"], dtype=object),
    "category": lambda: pd.Series(["a", "b", "a", "c"], dtype="category"),
    "category ordered": lambda: pd.Series(
        pd.Categorical(["a", "b", "a", "c"], categories=["c", "b", "a"], ordered=True)
    ),
    "period": lambda: pd.Series(pd.period_range("2020-01", periods=4, freq="M")),
    "interval": lambda: pd.Series(pd.interval_range(0, 4)),
    "int64[pyarrow]": lambda: pd.Series([1, 2, None, 4], dtype="int64[pyarrow]"),
    "double[pyarrow]": lambda: pd.Series([1.5, 2, None, 4], dtype="double[pyarrow]"),
    "bool[pyarrow]": lambda: pd.Series([True, None, False, True], dtype="bool[pyarrow]"),
    "arrow string": lambda: _arrow(["x", "y", None, "z"], pa.string()),
    "arrow large_string": lambda: _arrow(["x", "y", None, "z"], pa.large_string()),
    "arrow timestamp tz": lambda: _arrow(
        [pd.Timestamp("2020-01-01", tz="UTC")] * 3 + [None], pa.timestamp("us", tz="UTC")
    ),
}
if _PANDAS3:
    COLUMNS["str"] = lambda: pd.Series(["a", None, "b", "c"], dtype="str")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> mp.DatasetStore:
    return mp.DatasetStore(tmp_path_factory.mktemp("dtypes"))


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_every_dtype_round_trips_exactly(store: mp.DatasetStore, kind: str) -> None:
    df = pd.DataFrame({"col": COLUMNS[kind](), "n": [1, 2, 3, 4]})
    loaded = store.load(store.commit(df, name="t"))
    pd.testing.assert_frame_equal(loaded, df, check_exact=True)
    assert repr(loaded["col"].dtype) == repr(df["col"].dtype)


def test_all_dtypes_in_one_frame(store: mp.DatasetStore) -> None:
    df = pd.DataFrame({k: f() for k, f in COLUMNS.items()})
    pd.testing.assert_frame_equal(store.load(store.commit(df, name="all")), df)


def test_nan_in_an_object_column_stays_nan(store: mp.DatasetStore) -> None:
    df = pd.DataFrame({"c": pd.Series(["a", np.nan], dtype=object)})
    value = store.load(store.commit(df, name="nan"))["c"].iloc[1]
    assert isinstance(value, float)
    assert np.isnan(value)


@pytest.mark.skipif(not _PANDAS3, reason="the str dtype is pandas 3's")
def test_string_python_and_str_stay_apart(store: mp.DatasetStore) -> None:
    # equal values once committed as str must not change how string[python] compares
    as_str = pd.DataFrame({"city": pd.Series(["Oslo", None], dtype="str")})
    as_python = pd.DataFrame({"city": pd.Series(["Oslo", None], dtype="string[python]")})
    store.commit(as_str, name="cities")
    back = store.load(store.commit(as_python, name="cities"))
    assert repr(back["city"].dtype) == repr(as_python["city"].dtype)
    assert (back["city"] == "Oslo").iloc[1] is pd.NA
    assert str(store.load("cities", 1)["city"].dtype) == "str"


@pytest.mark.parametrize(
    "index",
    [
        pd.date_range("2020", periods=4, freq="D"),
        pd.date_range("2020", periods=4, freq="h", tz="UTC"),
        pd.RangeIndex(10, 14),
        pd.Index(["a", "b", "c", "d"], dtype="string[python]"),
        pd.period_range("2020", periods=4, freq="Y"),
        pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1), ("b", 2)], names=["k", "j"]),
    ],
    ids=repr,
)
def test_index_round_trips_with_dtype_and_freq(store: mp.DatasetStore, index: pd.Index) -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}, index=index)
    loaded = store.load(store.commit(df, name="indexed"))
    pd.testing.assert_frame_equal(loaded, df, check_freq=True)
    assert getattr(loaded.index, "freq", None) == getattr(df.index, "freq", None)


def test_manifest_records_precise_specs(tmp_path: Path) -> None:
    store = mp.DatasetStore(tmp_path)
    df = pd.DataFrame({"s": pd.Series(["a"], dtype="string[python]")})
    df.index = pd.date_range("2020", periods=1, freq="D")
    v = store.commit(df, name="t")
    assert dict(v.pandas_dtypes) == {"s": "string[python]"}
    assert v.pandas_index["freq"] == "D"
