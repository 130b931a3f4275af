"""Fairness: mp.fairness_report vs fairlearn's MetricFrame on the same data, in one run.

1,000,000 rows, two sensitive features crossing into 50 groups (10 x 5), five
metrics (selection rate, accuracy, TPR, FPR, precision). The equality check
comes first: every by-group value must equal MetricFrame's to 1e-9. Then:

* point estimates: mlprod (n_boot=0) vs one MetricFrame pass;
* 200 bootstrap resamples with intervals for every metric and disparity vs
  one MetricFrame pass (the target: less time);
* mlprod's time against rows (10k, 100k, 1M, 10M) to show it grows linearly.

    python benchmarks/bench_fairness.py            # full run
    python benchmarks/bench_fairness.py --quick    # smoke run, small sizes
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd
import sklearn.metrics as skm
from fairlearn import metrics as flm

import mlprod as mp

warnings.filterwarnings("ignore")

METRICS = ["selection_rate", "accuracy", "true_positive_rate", "false_positive_rate", "precision"]
FL = {
    "selection_rate": flm.selection_rate,
    "accuracy": skm.accuracy_score,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "precision": skm.precision_score,
}


def make(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = pd.Series(rng.integers(0, 10, n)).map(lambda i: f"region-{i}").astype("string[pyarrow]")
    b = pd.Series(rng.choice(["A", "B", "C", "D", "E"], n)).astype("string[pyarrow]")
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.75, y, 1 - y)
    return y, pred, pd.DataFrame({"region": a, "segment": b})


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 20_000 if args.quick else 1_000_000
    repeat = 1 if args.quick else 3
    y, pred, sf = make(n)

    def ours(n_boot=0):
        return mp.fairness_report(
            y, pred, sensitive_features=sf, metrics=METRICS, n_boot=n_boot, random_state=0
        )

    def theirs():
        return flm.MetricFrame(metrics=FL, y_true=y, y_pred=pred, sensitive_features=sf)

    # equality first
    fr, mf = ours(), theirs()
    got = fr.by_group[METRICS]
    want = mf.by_group.loc[got.index, METRICS]
    err = float(np.nanmax(np.abs(got.to_numpy() - want.to_numpy())))
    assert err < 1e-9, err
    print(
        f"rows {n:,}, groups {len(got)}, metrics {len(METRICS)}: max |mlprod - MetricFrame| = {err:.1e}"
    )

    t_mf, _ = timed(theirs, 1)
    t_pt, _ = timed(ours, repeat)
    t_bs, _ = timed(lambda: ours(200), repeat)
    print(f"MetricFrame one pass          {t_mf * 1e3:10.1f} ms")
    print(
        f"mlprod point estimates        {t_pt * 1e3:10.1f} ms   ratio {t_mf / t_pt:6.1f}x faster (target >= 20x)"
    )
    print(
        f"mlprod 200 resamples + CIs    {t_bs * 1e3:10.1f} ms   ratio {t_mf / t_bs:6.1f}x (target > 1: less than one MetricFrame pass)"
    )

    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000, 10_000_000]
    print("rows        point ms   200-resample ms   ns/row (point)")
    for m in sizes:
        yy, pp, ss = make(m, seed=1)
        tp, _ = timed(
            lambda yy=yy, pp=pp, ss=ss: mp.fairness_report(
                yy, pp, sensitive_features=ss, metrics=METRICS, n_boot=0, random_state=0
            ),
            repeat,
        )
        tb, _ = timed(
            lambda yy=yy, pp=pp, ss=ss: mp.fairness_report(
                yy, pp, sensitive_features=ss, metrics=METRICS, n_boot=200, random_state=0
            ),
            repeat,
        )
        print(f"{m:>10,}  {tp * 1e3:9.1f}  {tb * 1e3:16.1f}  {tp / m * 1e9:10.1f}")


if __name__ == "__main__":
    main()
