"""Benchmark mp.fingerprint against joblib.hash, pandas' hash_pandas_object and raw xxh3.

A frame of 1,000,000 rows x 10 columns (4 float64, 4 int64, a category and a
pandas 3 string column, which pyarrow backs) is hashed by every method in the
same run; each round runs all methods once, in turn, so machine noise hits
them alike. Prints median seconds, MB/s, ratios against the targets of issue
4, and the peak extra memory of mp.fingerprint next to the largest column.
The unordered fingerprint runs twice: on the compiled row kernels (numba, which
long-running processes move to by themselves) and on the numpy kernels every
process starts with. Then DatasetStore.commit and load on the same frame, next to the fingerprint
passes they make, so the share of fingerprinting in a commit is visible.

Run: python benchmarks/bench_fingerprint.py [--rows N] [--repeat K] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xxhash

import mlprod as mp
from mlprod.data.fingerprint import compiled


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {f"f{i}": rng.normal(size=rows) for i in range(4)}
    data.update({f"i{i}": rng.integers(0, 10**9, size=rows) for i in range(4)})
    data["cat"] = pd.Categorical(rng.choice(["red", "green", "blue", "yellow"], size=rows))
    data["s"] = pd.Series([f"user-{k}" for k in rng.integers(0, 10**7, size=rows)])
    return pd.DataFrame(data)


def raw_buffers(df: pd.DataFrame, *, numeric_only: bool) -> list[Any]:
    """The frame's value buffers: numeric arrays, and (unless numeric_only) codes and string buffers."""
    out: list[Any] = []
    for name in df.columns:
        col = df[name]
        if col.dtype.kind in "iufb":
            out.append(np.ascontiguousarray(col.to_numpy()))
        elif numeric_only:
            continue
        elif isinstance(col.dtype, pd.CategoricalDtype):
            out.append(np.asarray(col.array.codes))
        else:
            arrow = pa.array(col.array)
            chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
            out += [b for c in chunks for b in c.buffers() if b is not None]
    return out


def xxh3_all(buffers: list[Any]) -> str:
    h = xxhash.xxh3_128()
    for b in buffers:
        h.update(memoryview(b).cast("B") if not isinstance(b, pa.Buffer) else b)
    return h.hexdigest()


def peak_extra_memory(fn: Callable[[], Any]) -> tuple[int, int]:
    """Peak bytes allocated while ``fn`` runs: (numpy/Python via tracemalloc, pyarrow).

    Arrow allocations are counted on a memory pool nothing else in this
    process has used, so its high-water mark is ``fn``'s alone.
    """
    default = pa.default_memory_pool()
    fresh = (
        pa.system_memory_pool() if default.backend_name != "system" else pa.mimalloc_memory_pool()
    )
    pa.set_memory_pool(fresh)
    try:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        pa.set_memory_pool(default)
    return peak, fresh.max_memory() or 0


def store_lines(df: pd.DataFrame, repeat: int) -> None:
    """Median seconds of DatasetStore.commit/load and of the fingerprint passes inside them."""
    root = tempfile.mkdtemp(prefix="bench-store-")
    store = mp.DatasetStore(root)
    version = store.commit(df, name="bench")
    made: list[str] = []

    def commit_new() -> None:  # a new store each time, so the object is written
        made.append(f"{root}-{len(made)}")
        mp.DatasetStore(made[-1]).commit(df, name="bench")

    methods: dict[str, Callable[[], Any]] = {
        "fingerprint (content)": lambda: mp.fingerprint(df),
        "fingerprint(index=True) (key)": lambda: mp.fingerprint(df, index=True),
        "commit, new content": commit_new,
        "commit, same content": lambda: store.commit(df, name="bench"),
        "load(verify=True)": lambda: store.load(version),
        "load(verify=False)": lambda: store.load(version, verify=False),
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    for folder in [root, *made]:
        shutil.rmtree(folder, ignore_errors=True)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    anchor = med["fingerprint (content)"]
    print(f"\n{'DatasetStore':<32}{'median s':>10}{'/ fingerprint':>15}")
    for name, seconds in med.items():
        print(f"{name:<32}{seconds:>10.4f}{seconds / anchor:>15.1f}")
    fp_share = (anchor + med["fingerprint(index=True) (key)"]) / med["commit, same content"]
    print(f"fingerprint passes / commit of same content: {fp_share:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    rows, repeat = (20_000, 3) if args.quick else (args.rows, args.repeat)

    import joblib

    df = make_frame(rows)
    numeric = raw_buffers(df, numeric_only=True)
    everything = raw_buffers(df, numeric_only=False)
    mb = (
        sum(memoryview(b).nbytes if not isinstance(b, pa.Buffer) else b.size for b in everything)
        / 1e6
    )

    def unordered(jit: str) -> Any:
        # MLPROD_JIT=1: the compiled row kernels (numba), which a process loads by itself
        # once it has folded AFTER_CELLS cells; 0: the numpy kernels, where every process
        # starts. Both give the same value, which the run checks.
        os.environ[compiled.ENV] = jit
        try:
            return mp.fingerprint(df, ordered=False)
        finally:
            os.environ.pop(compiled.ENV, None)

    assert unordered("1") == unordered("0")
    jit_loaded = compiled.use_compiled(0) is not None
    methods: dict[str, Callable[[], Any]] = {
        "mp.fingerprint": lambda: mp.fingerprint(df),
        "mp.fingerprint(ordered=False)": lambda: unordered("1"),
        "  same, numpy kernels": lambda: unordered("0"),
        "joblib.hash": lambda: joblib.hash(df),
        "hash_pandas_object": lambda: pd.util.hash_pandas_object(df, index=False),
        "xxh3 raw numeric buffers": lambda: [xxhash.xxh3_128(b).digest() for b in numeric],
        "xxh3 all raw buffers": lambda: xxh3_all(everything),
    }
    for fn in methods.values():  # warm caches and lazy imports
        fn()
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(ts) for name, ts in times.items()}

    print(f"frame: {rows:,} rows x {df.shape[1]} columns, {mb:.1f} MB of value buffers")
    print(
        f"pandas {pd.__version__}, pyarrow {pa.__version__}, numpy {np.__version__}; median of {repeat}"
    )
    print(f"{'method':<32}{'median s':>10}{'MB/s':>10}")
    for name, seconds in med.items():
        print(f"{name:<32}{seconds:>10.4f}{mb / seconds:>10.0f}")

    fp = med["mp.fingerprint"]
    checks = [
        (
            "joblib.hash / mp.fingerprint",
            med["joblib.hash"] / fp,
            ">= 5",
            med["joblib.hash"] / fp >= 5,
        ),
        (
            "hash_pandas_object / mp.fingerprint",
            med["hash_pandas_object"] / fp,
            ">= 3",
            med["hash_pandas_object"] / fp >= 3,
        ),
        (
            "mp.fingerprint / xxh3 raw numeric",
            fp / med["xxh3 raw numeric buffers"],
            "<= 3",
            fp / med["xxh3 raw numeric buffers"] <= 3,
        ),
        (
            "mp.fingerprint / xxh3 all buffers",
            fp / med["xxh3 all raw buffers"],
            "(info)",
            None,
        ),
        (
            "unordered / ordered" + ("" if jit_loaded else " (numba missing: numpy)"),
            med["mp.fingerprint(ordered=False)"] / fp,
            "<= 3 (aim <= 2)",
            med["mp.fingerprint(ordered=False)"] / fp <= 3,
        ),
        (
            "  numpy kernels / ordered",
            med["  same, numpy kernels"] / fp,
            "(info)",
            None,
        ),
    ]
    print("\nratio                                   value   target")
    for label, value, target, ok in checks:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{label:<38}{value:>7.2f}   {target}{mark}")

    largest = max(df[c].memory_usage(index=False, deep=False) for c in df.columns)
    py_peak, arrow_peak = peak_extra_memory(lambda: mp.fingerprint(df))
    extra = py_peak + arrow_peak
    print(
        f"\npeak extra memory of mp.fingerprint: {extra / 1e6:.1f} MB "
        f"(numpy/Python {py_peak / 1e6:.1f} MB + Arrow {arrow_peak / 1e6:.1f} MB); "
        f"largest column {largest / 1e6:.1f} MB; ratio {extra / largest:.2f} "
        f"(target < 1{'  ok' if extra < largest else '  MISSED'})"
    )
    store_lines(df, repeat)


if __name__ == "__main__":
    main()
