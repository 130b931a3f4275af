"""Explanation benchmark: mp.explain vs shap's TreeExplainer called directly, in one run.

A 100-tree random forest (depth 8) and a HistGradientBoosting model on 10,000
rows × 20 features. For each: shap's ``TreeExplainer(model).shap_values(X)``
(the anchor) and ``mp.explain(model, X)`` (the same values plus the
additivity check, bootstrap importance, digest and fingerprint), measured in
turn; the ratio is mlprod's overhead. Also the cost estimate against the real
time, the HTML report's size, and ``mp.explainer(...).explain_rows`` on one
row: what an audit-trail explanation costs per sampled guard call.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_explain.py

``--quick`` runs a small smoke version (1,000 rows, small models).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import shap
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

import mlprod as mp

TARGETS = {"overhead": 0.10, "estimate_factor": 2.0, "html_bytes": 1_000_000}


def data(n_rows: int, n_features: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(n_rows, n_features)), columns=[f"f{i}" for i in range(n_features)]
    )
    y = X["f0"] * 2 + np.sin(X["f1"] * 3) + X["f2"] * X["f3"] + rng.normal(0, 0.1, n_rows)
    return X, y.to_numpy()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    if args.quick:
        n_rows, trees, depth, hgb_iter, repeats = 1_000, 10, 4, 20, 2
    else:
        n_rows, trees, depth, hgb_iter, repeats = 10_000, 100, 8, 100, 3
    X, y = data(n_rows, 20)
    models = {
        "random forest": RandomForestRegressor(
            n_estimators=trees, max_depth=depth, random_state=0, n_jobs=1
        ).fit(X, y),
        "hist gradient boosting": HistGradientBoostingRegressor(
            max_iter=hgb_iter, random_state=0
        ).fit(X, y),
    }
    print(f"mp.explain vs shap.TreeExplainer, {n_rows:,} rows × 20 features, shared 2-core machine")
    failures = []
    for name, model in models.items():
        reps = 2 if (name == "random forest" and not args.quick) else repeats
        shap_s, mp_s, estimates = [], [], []
        report = None
        for rep in range(reps):  # in turn, alternating, so machine noise hits both alike
            for which in ("shap", "mp") if rep % 2 == 0 else ("mp", "shap"):
                if which == "shap":
                    t, ref = timed(lambda m=model: shap.TreeExplainer(m).shap_values(X))
                    shap_s.append(t)
                else:
                    t, report = timed(lambda m=model: mp.explain(m, X, random_state=0))
                    mp_s.append(t)
            estimates.append(report.meta["estimated_s"] / report.meta["elapsed_s"])
            assert np.abs(report.values - ref).max() < 1e-6
        s, m = statistics.median(shap_s), statistics.median(mp_s)
        overhead = m / s - 1
        factor = statistics.median(estimates)
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "report.html"
            t_html, _ = timed(lambda r=report, p=page: r.to_html(p))
            size = page.stat().st_size
        ex = mp.explainer(model)
        ex_bg = mp.explainer(model, X.iloc[:100])
        row = X.iloc[[5]]
        per_call = {}
        for label, e in (("path-dependent", ex), ("100-row background", ex_bg)):
            e.explain_rows(row)
            calls = 20 if args.quick else 200
            t0 = time.perf_counter()
            for _ in range(calls):
                e.explain_rows(row)
            per_call[label] = (time.perf_counter() - t0) / calls * 1e3
        print(f"\n{name}:")
        print(f"  shap TreeExplainer   {s:8.3f} s  ({n_rows / s:,.0f} rows/s)")
        print(f"  mp.explain           {m:8.3f} s  ({n_rows / m:,.0f} rows/s)")
        print(f"  ratio mp/shap        {m / s:8.3f}  (overhead {overhead:+.1%}, target ≤ +10%)")
        print(f"  cost estimate / real {factor:8.2f}  (target within 2×)")
        print(f"  HTML report          {size / 1e3:8.0f} kB in {t_html:.2f} s (target < 1,000 kB)")
        for label, ms in per_call.items():
            print(
                f"  explain_rows, 1 row  {ms:8.3f} ms  ({label}; the audit cost per sampled call)"
            )
        if overhead > TARGETS["overhead"]:
            failures.append(f"{name}: overhead {overhead:+.1%}")
        if not 1 / TARGETS["estimate_factor"] <= factor <= TARGETS["estimate_factor"]:
            failures.append(f"{name}: estimate factor {factor:.2f}")
        if size >= TARGETS["html_bytes"]:
            failures.append(f"{name}: HTML {size:,} bytes")
    print("\ntargets missed: " + ("; ".join(failures) if failures else "none"))


if __name__ == "__main__":
    main()
