"""Property tests: the laws a fingerprint obeys (issue 4)."""

from __future__ import annotations

import io
import itertools
import pickle

import numpy as np
import pandas as pd
from hypothesis import assume, given
from hypothesis import strategies as st

import mlprod as mp
from mlprod.data.fingerprint import PartialFingerprint

from .strategies import frames


@given(frames(), st.lists(st.integers(0, 40), max_size=4))
def test_rechunking_gives_the_whole_frames_fingerprint(df, cuts):
    bounds = sorted({0, len(df), *(min(c, len(df)) for c in cuts)})
    chunks = [df.iloc[a:b] for a, b in itertools.pairwise(bounds)] or [df]
    for ordered in (True, False):
        assert mp.fingerprint(iter(chunks), ordered=ordered) == mp.fingerprint(df, ordered=ordered)


@given(frames(min_rows=3), st.integers(1, 2))
def test_partial_states_merge_associatively(df, k):
    a, b, c = (
        PartialFingerprint.of(p) for p in (df.iloc[:k], df.iloc[k : k + 1], df.iloc[k + 1 :])
    )
    assert a.merge(b).merge(c).result() == a.merge(b.merge(c)).result() == mp.fingerprint(df)
    via_dict = PartialFingerprint.from_dict(a.to_dict()).merge(b.merge(c))
    assert via_dict.result() == mp.fingerprint(df)


@given(frames())
def test_layout_copies_and_index_do_not_matter(df):
    fp = mp.fingerprint(df)
    unconsolidated = pd.DataFrame({c: df[c].copy() for c in df.columns})
    assert mp.fingerprint(unconsolidated) == fp
    assert mp.fingerprint(df.copy(deep=True)) == fp
    assert mp.fingerprint(df.set_axis([f"r{i}" for i in range(len(df))])) == fp
    assert mp.fingerprint(pickle.loads(pickle.dumps(df))) == fp


@given(frames())
def test_parquet_round_trip_keeps_the_fingerprint(df):
    buf = io.BytesIO()
    df.to_parquet(buf)
    back = pd.read_parquet(io.BytesIO(buf.getvalue()))
    assert mp.fingerprint(back) == mp.fingerprint(df)
    assert mp.fingerprint(back, index=True) == mp.fingerprint(df, index=True)


@given(frames(kinds=("float64", "string", "object_str", "Int64", "int64")))
def test_strings_hash_alike_across_storages(df):
    string_cols = [c for c in df.columns if "str" in c]
    assume(string_cols)
    fp = mp.fingerprint(df)
    for dtype in (object, "string", "str", "string[python]"):
        assert mp.fingerprint(df.astype(dict.fromkeys(string_cols, dtype))) == fp


def _changed(series: pd.Series, i: int) -> pd.Series:
    out = series.copy()
    if isinstance(out.dtype, pd.CategoricalDtype):
        cats = list(out.dtype.categories)
        current = out.iloc[i]
        out.iloc[i] = cats[0] if pd.isna(current) or current != cats[0] else cats[1]
    elif out.dtype == bool:
        out.iloc[i] = not out.iloc[i]
    elif out.dtype.kind == "M":
        current = out.iloc[i]
        out.iloc[i] = pd.Timestamp(0) if pd.isna(current) else current + pd.Timedelta(1, "us")
    elif out.dtype.kind == "f":
        current = out.iloc[i]
        out.iloc[i] = 0.5 if not np.isfinite(current) or current == 0.25 else 0.25
    elif out.dtype.kind in "iu" or str(out.dtype) == "Int64":
        current = out.iloc[i]
        out.iloc[i] = 1 if pd.isna(current) or current == 0 else 0
    else:
        current = out.iloc[i]
        out.iloc[i] = "changed" if pd.isna(current) or current != "changed" else "other"
    return out


@given(frames(min_rows=1), st.data())
def test_one_changed_cell_changes_the_fingerprint(df, data):
    col = data.draw(st.sampled_from(list(df.columns)))
    row = data.draw(st.integers(0, len(df) - 1))
    changed = df.copy()
    changed[col] = _changed(df[col], row)
    for ordered in (True, False):
        assert mp.fingerprint(changed, ordered=ordered) != mp.fingerprint(df, ordered=ordered)


@given(frames())
def test_names_and_dtypes_are_part_of_the_fingerprint(df):
    fp = mp.fingerprint(df)
    first = df.columns[0]
    assert mp.fingerprint(df.rename(columns={first: f"{first}_renamed"})) != fp
    ints = [c for c in df.columns if df[c].dtype == "int64"]
    if ints:
        narrowed = df.astype({ints[0]: "float64"})
        assert mp.fingerprint(narrowed) != fp


@given(frames(min_rows=2), st.randoms(use_true_random=False))
def test_unordered_is_a_multiset_of_rows(df, rnd):
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = df.iloc[order]
    assert mp.fingerprint(shuffled, ordered=False) == mp.fingerprint(df, ordered=False)
    rows_differ = mp.fingerprint(df.iloc[[0]]) != mp.fingerprint(df.iloc[[1]].set_axis([0]))
    if rows_differ:
        # same rows, different duplicate counts
        more_first = pd.concat([df, df.iloc[[0]]])
        more_second = pd.concat([df, df.iloc[[1]]])
        assert mp.fingerprint(more_first, ordered=False) != mp.fingerprint(
            more_second, ordered=False
        )
        swapped = df.iloc[[1, 0, *range(2, len(df))]]
        assert mp.fingerprint(swapped) != mp.fingerprint(df)


@given(frames(min_rows=1, kinds=("int64", "float64", "string")))
def test_column_order_counts_unless_asked_not_to(df):
    reversed_cols = df[df.columns[::-1]]
    assert mp.fingerprint(reversed_cols, columns_ordered=False) == mp.fingerprint(
        df, columns_ordered=False
    )
    if len(df.columns) > 1:
        assert mp.fingerprint(reversed_cols) != mp.fingerprint(df)


@given(frames(min_rows=0, max_rows=90), st.integers(1, 40))
def test_block_size_never_changes_the_value(df, block_rows):
    from mlprod.data import fingerprint as module

    expected = (mp.fingerprint(df), mp.fingerprint(df, ordered=False))
    saved = module.BLOCK_ROWS
    module.BLOCK_ROWS = block_rows
    module._powers.cache_clear()
    try:
        got = (mp.fingerprint(df), mp.fingerprint(df, ordered=False))
    finally:
        module.BLOCK_ROWS = saved
        module._powers.cache_clear()
    assert got == expected


def test_chunks_across_real_block_boundaries():
    rng = np.random.default_rng(3)
    n = 100_003
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "s": pd.Series([f"v{i % 1000}" + "x" * (i % 17) for i in range(n)], dtype="str"),
        }
    )
    cuts = [0, 1, 32_767, 32_768, 65_537, 99_999, n]
    chunks = [df.iloc[a:b] for a, b in itertools.pairwise(cuts)]
    assert mp.fingerprint(chunks) == mp.fingerprint(df)
    assert mp.fingerprint(chunks, ordered=False) == mp.fingerprint(df.iloc[::-1], ordered=False)
    assert mp.fingerprint(df.iloc[::-1]) != mp.fingerprint(df)
