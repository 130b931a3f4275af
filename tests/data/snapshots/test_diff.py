"""DatasetDiff: schema changes, keyed row changes, multiset counts, rendering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import frames

import mlprod as mp


def test_keyed_diff_reports_added_removed_and_changed_rows():
    a = pd.DataFrame(
        {"id": [1, 2, 3, 4], "x": [1.0, np.nan, 3.0, -0.0], "s": ["a", "b", None, "d"], "old": 0}
    )
    b = pd.DataFrame(
        {"id": [2, 3, 4, 5], "x": [np.nan, 3.5, 0.0, 5.0], "s": ["b", "c", "d", "e"], "new": 1}
    )
    d = mp.DatasetDiff.compute(a, b, key="id", labels=("v1", "v2"))
    assert d.columns_added == ("new",)
    assert d.columns_removed == ("old",)
    assert (d.rows_added, d.rows_removed, d.rows_changed) == (1, 1, 1)
    assert d.added["id"].tolist() == [5]
    assert d.removed["id"].tolist() == [1]
    # NaN == NaN and -0.0 == 0.0, as for the fingerprint; row 3 changed x and s
    assert d.changed.to_dict("records") == [{"id": 3, "changed_columns": "x, s"}]
    assert d.column_changes == {"x": 1, "s": 1}
    assert not d.identical
    text = d.summary()
    assert text.splitlines()[0] == "Dataset diff v1 → v2"
    assert "rows changed: 1" in text
    assert "new" in text
    assert "<table>" in d._repr_html_()
    assert "### Schema changes" in d.to_markdown()
    as_dict = d.to_dict()
    assert as_dict["rows_added"] == 1
    assert as_dict["changed"] == [{"id": 3, "changed_columns": "x, s"}]
    assert "DatasetDiff('v1' → 'v2'" in repr(d)


def test_retyped_columns_and_composite_keys():
    a = pd.DataFrame({"k1": [1, 1], "k2": ["a", "b"], "v": [1, 2]})
    b = pd.DataFrame({"k1": [1, 1], "k2": ["a", "b"], "v": [1.0, 2.5]})
    d = mp.DatasetDiff.compute(a, b, key=["k1", "k2"])
    assert d.columns_retyped == (("v", "int64", "float64"),)
    assert d.rows_changed == 1
    assert d.changed["k2"].tolist() == ["b"]


def test_multiset_diff_counts_duplicates():
    a = pd.DataFrame({"x": [1, 1, 2, 3]})
    b = pd.DataFrame({"x": [1, 2, 2, 3, 3]})
    d = mp.DatasetDiff.compute(a, b)
    assert (d.rows_added, d.rows_removed, d.rows_changed) == (2, 1, 0)
    assert sorted(d.added["x"].tolist()) == [2, 3]
    assert d.removed["x"].tolist() == [1]
    same = mp.DatasetDiff.compute(a, a.iloc[::-1])
    assert same.identical
    assert "identical: yes" in same.summary()


@given(frames(), st.randoms(use_true_random=False))
def test_a_permutation_has_an_empty_multiset_diff(df, rnd):
    order = list(range(len(df)))
    rnd.shuffle(order)
    d = mp.DatasetDiff.compute(df, df.iloc[order])
    assert d.identical


def test_key_errors_are_clear():
    a = pd.DataFrame({"id": [1, 1], "x": [1, 2]})
    with pytest.raises(mp.ConfigurationError, match="not unique"):
        mp.DatasetDiff.compute(a, a, key="id")
    with pytest.raises(mp.ConfigurationError, match="not in"):
        mp.DatasetDiff.compute(a, a, key="nope")


def test_store_diff_accepts_versions_refs_and_frames(tmp_path):
    store = mp.DatasetStore(tmp_path)
    v1 = store.commit(pd.DataFrame({"id": [1, 2], "x": [1, 2]}), name="t")
    v2 = store.commit(pd.DataFrame({"id": [1, 2], "x": [1, 3]}), name="t")
    for a, b in [(v1, v2), ("t:1", "t:2"), ("t:1", "t"), (("t", 1), ("t", "latest"))]:
        d = store.diff(a, b, key="id")
        assert d.labels == ("t:1", "t:2")
        assert d.rows_changed == 1
    d = store.diff(v1, pd.DataFrame({"id": [1, 2], "x": [1, 2]}))
    assert d.identical
    assert d.labels == ("t:1", "frame")


# ----------------------------------------------------------------- laws


def _same_frame(x, y):
    return x.reset_index(drop=True).astype(object).equals(y.reset_index(drop=True).astype(object))


@given(frames())
def test_law_a_diff_with_itself_is_empty(df):
    d = mp.DatasetDiff.compute(df, df)
    assert d.identical
    assert (d.rows_added, d.rows_removed, d.rows_changed) == (0, 0, 0)
    assert d.columns_added == d.columns_removed == d.columns_retyped == ()
    assert len(d.added) == len(d.removed) == 0


@given(frames(min_rows=1, max_rows=12), st.data())
def test_law_swapping_arguments_swaps_added_and_removed(df, data):
    keep_a = data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))
    keep_b = data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))
    a, b = df[keep_a], df[keep_b]
    ab = mp.DatasetDiff.compute(a, b)
    ba = mp.DatasetDiff.compute(b, a)
    assert (ab.rows_added, ab.rows_removed) == (ba.rows_removed, ba.rows_added)
    assert (ab.columns_added, ab.columns_removed) == (ba.columns_removed, ba.columns_added)
    assert _same_frame(ab.added, ba.removed)
    assert _same_frame(ab.removed, ba.added)
    assert ab.identical == ba.identical


@given(frames(min_rows=1, max_rows=12), st.data())
def test_law_keyed_swap_swaps_added_and_removed(df, data):
    df = df.assign(id=range(len(df)))
    keep_a = data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))
    keep_b = data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))
    a, b = df[keep_a], df[keep_b]
    ab = mp.DatasetDiff.compute(a, b, key="id")
    ba = mp.DatasetDiff.compute(b, a, key="id")
    assert sorted(ab.added["id"]) == sorted(ba.removed["id"])
    assert sorted(ab.removed["id"]) == sorted(ba.added["id"])
    assert ab.rows_changed == ba.rows_changed == 0
