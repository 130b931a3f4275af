"""The compiled row kernels give the numpy kernels' values bit for bit, and load as they should."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.data.fingerprint.test_canonical import PINNED, pinned_frames
from tests.strategies import frames

import mlprod as mp
from mlprod.data.fingerprint import cell_hashes, compiled, row_hashes

pytest.importorskip("numba")

ODD_FLOATS = np.array(
    [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-310, -1e308, 2.5],
    dtype=np.float64,
)
# a signalling NaN and a NaN with a payload: both must hash as the one quiet NaN
ODD_FLOATS = np.concatenate(
    [ODD_FLOATS, np.array([0x7FF0000000000001, 0xFFF8DEADBEEF0000], dtype=np.uint64).view("f8")]
)


def _both(fn, monkeypatch):
    monkeypatch.setenv(compiled.ENV, "0")
    reference = fn()
    monkeypatch.setenv(compiled.ENV, "1")
    assert compiled.use_compiled(1) is not None
    return reference, fn()


@given(frames(max_rows=60))
def test_unordered_fingerprints_and_row_hashes_match_numpy(df):
    with pytest.MonkeyPatch.context() as mp_env:
        fp_np, fp_jit = _both(lambda: mp.fingerprint(df, ordered=False), mp_env)
        rows_np, rows_jit = _both(lambda: row_hashes(df), mp_env)
    assert fp_np == fp_jit
    assert rows_np.tolist() == rows_jit.tolist()


@given(
    st.lists(st.sampled_from(range(len(ODD_FLOATS))), min_size=1, max_size=50),
    st.sampled_from(["float64", "float32"]),
)
def test_floats_canonicalise_alike(picks, dtype):
    with np.errstate(over="ignore", invalid="ignore"):  # -1e308 and NaNs as float32
        s = pd.Series(ODD_FLOATS[picks].astype(dtype))
    with pytest.MonkeyPatch.context() as mp_env:
        (d_np, h_np), (d_jit, h_jit) = _both(lambda: cell_hashes(s), mp_env)
    assert d_np == d_jit
    assert h_np.tolist() == h_jit.tolist()
    frame = pd.DataFrame({"x": s, "y": s[::-1].to_numpy()})  # the fused float step
    with pytest.MonkeyPatch.context() as mp_env:
        rows_np, rows_jit = _both(lambda: row_hashes(frame), mp_env)
    assert rows_np.tolist() == rows_jit.tolist()
    # -0.0 is 0.0 and every NaN is one NaN, on both paths
    zero, nan = h_jit[s.eq(0).to_numpy()], h_jit[s.isna().to_numpy()]
    assert len(set(zero.tolist())) <= 1
    assert len(set(nan.tolist())) <= 1


def test_strings_of_every_length_and_missing_values_hash_alike(monkeypatch):
    values = ["", "a", "abcd", "abcdefghijkl", "abcdefghijklm", "é" * 9, "x" * 41, None, "a\x00"]
    s = pd.Series(values * 3000, dtype="str")  # several string-view spans
    (d_np, h_np), (_, h_jit) = _both(lambda: cell_hashes(s), monkeypatch)
    assert d_np == "string"
    assert h_np.tolist() == h_jit.tolist()
    assert len(set(h_jit[:9].tolist())) == 9


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_unordered_values_on_the_compiled_path(name, monkeypatch):
    monkeypatch.setenv(compiled.ENV, "1")
    assert mp.fingerprint(pinned_frames()[name], ordered=False) == PINNED[name][1]


def test_a_process_moves_to_compiled_kernels_after_enough_work(monkeypatch):
    monkeypatch.delenv(compiled.ENV, raising=False)
    monkeypatch.setattr(compiled, "AFTER_CELLS", 1_000)
    monkeypatch.setattr(compiled, "_folded", 0)
    compiled._build.cache_clear()
    assert compiled.use_compiled(600) is None  # 600 cells so far
    assert compiled.use_compiled(600) is not None  # 1,200: past the threshold
    assert compiled.use_compiled(1) is not None  # loaded: every later call uses them
    monkeypatch.setenv(compiled.ENV, "0")
    assert compiled.use_compiled(10**12) is None


def test_without_numba_everything_stays_on_numpy(monkeypatch):
    df = pd.DataFrame({"a": np.arange(100), "b": np.linspace(0, 1, 100)})
    expected = mp.fingerprint(df, ordered=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    compiled._build.cache_clear()
    try:
        monkeypatch.setenv(compiled.ENV, "1")
        assert compiled.kernels() is None
        assert mp.fingerprint(df, ordered=False) == expected
    finally:
        compiled._build.cache_clear()


def test_the_context_variable_is_reset_after_a_call(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "1")
    mp.fingerprint(pd.DataFrame({"a": [1, 2]}), ordered=False)
    assert compiled.active() is None
    with compiled.activated(10) as k:
        assert k is not None
        assert compiled.active() is k
    assert compiled.active() is None


@pytest.mark.parametrize("arrow_type", ["string", "large_string"])
def test_chunked_sliced_arrow_strings_hash_alike(arrow_type, monkeypatch):
    import pyarrow as pa

    rng = np.random.default_rng(3)
    texts = [
        None if k % 17 == 0 else "v" * (k % 15) + str(k) for k in rng.integers(0, 10**6, 70_000)
    ]
    typ = getattr(pa, arrow_type)()
    chunked = pa.chunked_array(
        [pa.array(texts[:30_001], type=typ), pa.array(texts[30_001:], type=typ)]
    )
    df = pd.DataFrame(
        {"s": pd.Series(pd.arrays.ArrowExtensionArray(chunked)), "i": np.arange(70_000)}
    )
    rows_np, rows_jit = _both(lambda: row_hashes(df), monkeypatch)
    assert rows_np.tolist() == rows_jit.tolist()
    plain = pd.DataFrame({"s": pd.Series(texts, dtype="str"), "i": np.arange(70_000)})
    assert mp.fingerprint(df, ordered=False) == mp.fingerprint(
        plain.astype({"s": df["s"].dtype}), ordered=False
    )
