"""Odd frames: a commit either loads back exactly or raises an MlprodError naming the column."""

from __future__ import annotations

import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlprod as mp

pytest.importorskip("pyarrow")

from data.snapshots.test_dtypes import COLUMNS

_NAMES = st.one_of(
    st.text(max_size=4),
    st.integers(-3, 3),
    st.none(),
    st.just(float("nan")),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.booleans(),
    st.tuples(st.text(max_size=2), st.integers(0, 2)),
)

_STORE = mp.DatasetStore(tempfile.mkdtemp(prefix="odd-frames-"))


@st.composite
def odd_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 4))
    names = draw(st.lists(_NAMES, max_size=4))
    columns: dict[int, pd.Series] = {}
    for i, _ in enumerate(names):
        kind = draw(st.sampled_from([*sorted(COLUMNS), "complex"]))
        series = (pd.Series(np.array([1 + 1j] * 4)) if kind == "complex" else COLUMNS[kind]()).iloc[
            :n
        ]
        columns[i] = series.reset_index(drop=True)
    frame = (
        pd.DataFrame(columns, index=pd.RangeIndex(n)) if columns else pd.DataFrame(index=range(n))
    )
    frame.columns = pd.Index(names, dtype=object, tupleize_cols=False)
    return frame


@settings(max_examples=40, deadline=None)
@given(odd_frames())
def test_commit_round_trips_or_refuses_clearly(frame: pd.DataFrame) -> None:
    refusal: mp.MlprodError | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas warns about mixed-type column names
            version = _STORE.commit(frame, name="odd")
    except mp.MlprodError as exc:
        refusal = exc
    if isinstance(refusal, mp.UnstorableColumn):
        assert any(refusal.column is c or refusal.column == c for c in frame.columns)
        assert refusal.reason
        return
    if refusal is not None:
        # duplicate names, or rows without columns: said in words, with the facts attached
        assert isinstance(refusal, mp.ConfigurationError)
        assert refusal.parameter == "df"
        assert "column" in str(refusal)
        return
    loaded = _STORE.load(version)
    pd.testing.assert_frame_equal(loaded, frame, check_column_type=False)
    assert list(loaded.columns) == list(frame.columns)


@pytest.mark.parametrize(
    "categorical",
    [
        pd.Categorical([], categories=["a", "b", "c"]),
        pd.Categorical([], categories=[1, 2]),
        pd.Categorical([], categories=["z", "a"], ordered=True),
        pd.Categorical([], categories=[0.5, 1.5]),
        pd.Categorical(pd.to_datetime([]), categories=pd.to_datetime(["2020-01-01"])),
    ],
    ids=["str", "int", "ordered", "float", "datetime"],
)
def test_a_categorical_with_no_rows_keeps_its_categories(tmp_path, categorical):
    # Parquet keeps categories in the dictionaries of data pages, and no rows means none
    store = mp.DatasetStore(str(tmp_path))
    frame = pd.DataFrame({"c": categorical})
    version = store.commit(frame, name="empty")
    loaded = store.load("empty", version.version)
    assert repr(loaded["c"].dtype) == repr(frame["c"].dtype)
    pd.testing.assert_frame_equal(loaded, frame)
    assert store.verify().ok


def test_a_none_column_name_round_trips_without_a_pandas_warning(tmp_path):
    import warnings

    store = mp.DatasetStore(str(tmp_path))
    frame = pd.DataFrame({None: [1, 2]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        version = store.commit(frame, name="none")
        loaded = store.load("none", version.version)
    assert list(loaded.columns) == [None]
    pd.testing.assert_frame_equal(loaded, frame)
