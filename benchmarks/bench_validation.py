"""Validation: mlprod vs pandera (lazy) on the same schema, in one run.

Two workloads, because both matter:

* batch — a 1,000,000-row, 10-column frame (4 floats, 4 ints, a category, a
  string column with a regex check), one check per column, clean and with
  0.1% of cells corrupted; the text column holds a few hundred distinct values
  (medium cardinality), and also 4 (low) and nearly one per row (high);
* serving — the same schema on 1-row and 1,000-row frames, validated one
  after another as a guard does for every request.

Before timing, both libraries validate the corrupted copy of each cardinality
and must report the same failing (column, row) cells. Peak memory of one batch validation is
measured in a fresh subprocess per library (Linux: the process's peak
resident set, reset just before the call; elsewhere: tracemalloc).

    python benchmarks/bench_validation.py            # full run
    python benchmarks/bench_validation.py --quick    # smoke run, small sizes
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mlprod as mp

warnings.filterwarnings("ignore")

PATTERN = r"[A-Z]{2}\d{1,7}"


#: Distinct values of the text column: a few codes, a few hundred, or nearly one per row.
CARDINALITY = {"low": 4, "medium": 300, "high": None}


def make_frame(rows: int, *, seed: int = 0, cardinality: str = "medium") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(4):
        data[f"f{i}"] = rng.random(rows)
    for i in range(4):
        data[f"i{i}"] = rng.integers(0, 100, rows)
    data["cat"] = pd.Categorical.from_codes(rng.integers(0, 3, rows), categories=["a", "b", "c"])
    distinct = CARDINALITY[cardinality]
    if distinct is None:  # mostly distinct values: no shortcut over distinct values
        numbers = rng.integers(0, 10**7, rows).astype(str).astype(object)
        data["code"] = pd.Series("AB" + numbers, dtype="str")
    else:
        letters = [a + b for a in "ABCDEFGH" for b in "JKLMNOPQ"]
        codes = np.array(
            [f"{letters[i % len(letters)]}{i * 7919 % 10**6}" for i in range(distinct)],
            dtype=object,
        )
        data["code"] = pd.Series(codes[rng.integers(0, distinct, rows)], dtype="str")
    return pd.DataFrame(data)


def corrupt(df: pd.DataFrame, *, fraction: float = 0.001, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    bad = df.copy()
    n = max(1, int(len(df) * fraction))
    for col in bad.columns:
        rows = rng.choice(len(df), n, replace=False)
        if col.startswith("f"):
            bad.loc[rows, col] = 1.5
        elif col.startswith("i"):
            bad.loc[rows, col] = -7
        elif col == "cat":
            bad[col] = bad[col].cat.add_categories(["zz"])
            bad.loc[rows, col] = "zz"
        else:
            bad.loc[rows, col] = "bad!"
    return bad


def mlprod_schema() -> mp.Schema:
    C = mp.checks
    cols = {f"f{i}": mp.Column("float64", checks=[C.in_range(0, 1)]) for i in range(4)}
    cols |= {f"i{i}": mp.Column("int64", checks=[C.ge(0)]) for i in range(4)}
    cols["cat"] = mp.Column("category", checks=[C.isin(["a", "b", "c"])])
    cols["code"] = mp.Column("str", checks=[C.str_matches(PATTERN)])
    return mp.Schema(cols)


def pandera_schema():
    import pandera.pandas as pa

    cols = {f"f{i}": pa.Column(float, pa.Check.in_range(0, 1)) for i in range(4)}
    cols |= {f"i{i}": pa.Column(int, pa.Check.ge(0)) for i in range(4)}
    cols["cat"] = pa.Column("category", pa.Check.isin(["a", "b", "c"]))
    cols["code"] = pa.Column(str, pa.Check.str_matches(PATTERN))
    return pa.DataFrameSchema(cols)


def run_mlprod(schema, df):
    return schema.validate(df)


def run_pandera(schema, df):
    import pandera.pandas as pa

    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases


def cells_mlprod(schema, df) -> set[tuple[str, int]]:
    f = schema.validate(df).failures
    return {(c, int(i)) for c, i in zip(f["column"], f["index"])}


def cells_pandera(schema, df) -> set[tuple[str, int]]:
    cases = run_pandera(schema, df)
    if isinstance(cases, pd.DataFrame) and "index" in cases:
        cases = cases[cases["index"].notna()]
        return {(c, int(i)) for c, i in zip(cases["column"], cases["index"])}
    return set()


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def per_call(fn, frames: list[pd.DataFrame], calls: int, repeats: int = 5) -> float:
    """Median over repeats of the mean seconds per call, cycling through distinct frames."""
    k = len(frames)
    results = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for j in range(calls):
            fn(frames[j % k])
        results.append((time.perf_counter() - t0) / calls)
    return statistics.median(results)


def _peak_during(fn) -> tuple[int, str]:
    status = Path("/proc/self/status")
    clear = Path("/proc/self/clear_refs")

    def field(name: str) -> int:
        for line in status.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(name)

    try:
        gc.collect()
        base = field("VmRSS")
        clear.write_text("5")  # resets the peak (VmHWM) to the current RSS
        fn()
        return field("VmHWM") - base, "peak RSS"
    except (OSError, KeyError):
        import tracemalloc

        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, "tracemalloc"


def memory_child(which: str, rows: int) -> None:
    df = make_frame(rows)
    if which == "mlprod":
        schema = mlprod_schema()
        schema.validate(df.head(10))  # compile the plan, warm imports

        def fn():
            return run_mlprod(schema, df)
    else:
        schema = pandera_schema()
        run_pandera(schema, df.head(10))

        def fn():
            return run_pandera(schema, df)

    peak, method = _peak_during(fn)
    print(json.dumps({"peak": peak, "method": method}))


def peak_memory(which: str, rows: int) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", which, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return int(data["peak"]), str(data["method"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--memory-child", choices=["mlprod", "pandera"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    if args.memory_child:
        memory_child(args.memory_child, rows)
        return

    repeats = 3 if args.quick else 7
    calls = 100 if args.quick else 1000
    ours, theirs = mlprod_schema(), pandera_schema()
    df = make_frame(rows)
    bad = corrupt(df)

    print(f"validation benchmark: {rows:,} rows x {df.shape[1]} columns, pandas {pd.__version__}")
    a, b = cells_mlprod(ours, bad), cells_pandera(theirs, bad)
    same = a == b
    print(
        f"failing cells on the corrupted copy: mlprod {len(a):,}, pandera {len(b):,}, "
        f"identical: {same}"
    )
    if not same:
        print(f"  only mlprod: {sorted(a - b)[:5]}  only pandera: {sorted(b - a)[:5]}")
        raise SystemExit("mlprod and pandera disagree on the failing cells")
    assert ours.validate(df).ok
    assert not ours.validate(bad).ok

    rows_out = []
    batches = [("batch clean, medium-card. text", df), ("batch corrupted, medium", bad)]
    for card in ("low", "high"):
        clean = make_frame(rows, cardinality=card)
        broken = corrupt(clean)
        a, b = cells_mlprod(ours, broken), cells_pandera(theirs, broken)
        print(f"failing cells, {card}-cardinality text: {len(a):,}, identical: {a == b}")
        if a != b:
            raise SystemExit(f"mlprod and pandera disagree on the {card}-cardinality frame")
        assert ours.validate(clean).ok
        batches.append((f"batch clean, {card}-card. text", clean))
    for label, frame in batches:
        t_m = median_time(lambda f=frame: run_mlprod(ours, f), repeats)
        t_p = median_time(lambda f=frame: run_pandera(theirs, f), repeats)
        rows_out.append((label, t_m * 1e3, t_p * 1e3, "ms"))

    for size in (1, 1000):
        frames = [make_frame(size, seed=100 + s) for s in range(50)]
        t_m = per_call(lambda f: run_mlprod(ours, f), frames, calls)
        t_p = per_call(lambda f: run_pandera(theirs, f), frames, max(calls // 20, 20))
        rows_out.append((f"serving {size}-row frame", t_m * 1e3, t_p * 1e3, "ms/call"))

    print()
    print(f"{'workload':<32}{'mlprod':>12}{'pandera':>12}  {'ratio (pandera/mlprod)':>22}")
    for label, m, p, unit in rows_out:
        print(f"{label:<32}{m:>9.3f} {unit:<3}{p:>8.3f} {unit:<3}  {p / m:>15.1f}x")

    mem_m, method = peak_memory("mlprod", rows)
    mem_p, _ = peak_memory("pandera", rows)
    print()
    print(
        f"peak memory of one batch validation ({method}): mlprod {mem_m / 2**20:.1f} MiB, "
        f"pandera {mem_p / 2**20:.1f} MiB, ratio {mem_p / max(mem_m, 1):.1f}x"
    )


if __name__ == "__main__":
    main()
