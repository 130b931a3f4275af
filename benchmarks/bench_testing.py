"""Data strategies: mlprod.testing.frames(schema) vs pandera's schema.strategy(), in one run.

The same constrained schema in both libraries (an id that must be unique, an
age in [18, 90], a score in [0, 1), a plan from a list, a code matching
``[A-Z]{2}\\d{3}``, a ``ge`` and an ``le`` bound on one column, a tag that
starts with ``ab`` and is 4-6 characters long, a rate in (0, 0.001)). For each
library a hypothesis test draws frames of 12 rows:

* with hypothesis' health checks on (its defaults), recording whether a
  health check fails (``FailedHealthCheck``: too slow, too many filtered);
* with health checks off, timing ``max_examples`` draws and validating
  every frame with the library's own schema (valid examples per second).

pandera builds some checks into its strategies and filters for the rest;
mlprod generates values satisfying every built-in check. The machine may be
shared: read the ratio, which compares runs made side by side.

    python benchmarks/bench_testing.py            # full run
    python benchmarks/bench_testing.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import FailedHealthCheck, Unsatisfiable

import mlprod as mp
import mlprod.testing as mt

warnings.filterwarnings("ignore")

PLANS = ["basic", "plus", "pro", "team"]
CODE = r"[A-Z]{2}\d{3}"
ROWS = 12


def mlprod_schema(hard: bool) -> mp.Schema:
    c = mp.checks
    columns = {
        "id": mp.Column("int64", unique=True),
        "age": mp.Column("int64", checks=[c.in_range(18, 90)]),
        "score": mp.Column("float64", checks=[c.ge(0.0), c.lt(1.0)]),
        "plan": mp.Column("str", checks=[c.isin(PLANS)]),
        "code": mp.Column("str", checks=[c.str_matches(CODE)]),
        "balance": mp.Column("float64", checks=[c.ge(-1000.0), c.le(1000.0)]),
    }
    if hard:
        columns["tag"] = mp.Column("str", checks=[c.str_startswith("ab"), c.str_length(4, 6)])
        columns["rate"] = mp.Column("float64", checks=[c.gt(0.0), c.lt(0.001)])
    return mp.Schema(columns)


def pandera_schema(hard: bool):  # type: ignore[no-untyped-def]
    import pandera.pandas as pa

    columns = {
        "id": pa.Column(int, unique=True),
        "age": pa.Column(int, pa.Check.in_range(18, 90)),
        "score": pa.Column(float, [pa.Check.ge(0.0), pa.Check.lt(1.0)]),
        "plan": pa.Column(str, pa.Check.isin(PLANS)),
        "code": pa.Column(str, pa.Check.str_matches(CODE)),
        "balance": pa.Column(float, [pa.Check.ge(-1000.0), pa.Check.le(1000.0)]),
    }
    if hard:
        columns["tag"] = pa.Column(str, [pa.Check.str_startswith("ab"), pa.Check.str_length(4, 6)])
        columns["rate"] = pa.Column(float, [pa.Check.gt(0.0), pa.Check.lt(0.001)])
    return pa.DataFrameSchema(columns)


def strategies(hard: bool) -> dict[str, tuple[object, object]]:
    """name -> (strategy of frames, validity test)."""
    ours = mlprod_schema(hard)
    theirs = pandera_schema(hard)

    def pandera_valid(df: object) -> bool:
        try:
            theirs.validate(df, lazy=True)
        except Exception:
            return False
        return True

    return {
        # pandera draws one fixed size per strategy, so both draw exactly ROWS rows
        "mlprod": (mt.frames(ours, rows=ROWS), lambda df: ours.validate(df).ok),
        "pandera": (theirs.strategy(size=ROWS), pandera_valid),
    }


def health(strategy: object, examples: int) -> str:
    """'' when hypothesis' default health checks pass, else which one failed."""

    @settings(max_examples=examples, database=None, deadline=None)
    @given(strategy)
    def draw(df: object) -> None:
        pass

    try:
        draw()
    except FailedHealthCheck as exc:
        return str(exc).strip().splitlines()[0][:90]
    except Unsatisfiable as exc:
        return f"Unsatisfiable: {exc}"[:90]
    return ""


def throughput(strategy: object, valid: object, examples: int) -> tuple[float, int, int]:
    """(seconds, frames drawn, frames valid) for ``examples`` draws, health checks off."""
    counts = [0, 0]

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(df: object) -> None:
        counts[0] += 1
        counts[1] += bool(valid(df))  # type: ignore[operator]

    start = time.perf_counter()
    with contextlib.suppress(Unsatisfiable):  # all filtered out: what was counted stands
        draw()
    return time.perf_counter() - start, counts[0], counts[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few examples")
    args = parser.parse_args()
    examples = 20 if args.quick else 200
    repeats = 1 if args.quick else 5
    print(f"frames of {ROWS} rows, {examples} examples, median of {repeats}")
    for label, hard in (("constrained", False), ("+ tag and rate", True)):
        rows = {}
        for name, (strategy, valid) in strategies(hard).items():
            failed = health(strategy, examples)
            if failed:
                # with health checks off a filtering strategy grinds for minutes on
                # this schema; the failed check is the result
                rows[name] = (0.0, 0, 0, float("nan"), failed)
                continue
            runs = [throughput(strategy, valid, examples) for _ in range(repeats)]
            seconds = statistics.median(r[0] for r in runs)
            drawn = statistics.median(r[1] for r in runs)
            good = statistics.median(r[2] for r in runs)
            rows[name] = (good / seconds, good, drawn, seconds, "")
        print(f"\nschema: {label}")
        print(f"{'library':<8} {'valid/s':>9} {'valid':>6} {'seconds':>8}  health checks")
        for name, (rate, good, _drawn, seconds, failed) in rows.items():
            print(
                f"{name:<8} {rate:>9.1f} {good:>6.0f} {seconds:>8.3f}  "
                f"{('FAILED: ' + failed) if failed else 'passed'}"
            )
        if rows["pandera"][0]:
            ratio = rows["mlprod"][0] / rows["pandera"][0]
            print(f"ratio (valid examples per second, mlprod / pandera): {ratio:.1f}x")
        else:
            print("ratio (valid examples per second): pandera drew no valid frame")


if __name__ == "__main__":
    main()
