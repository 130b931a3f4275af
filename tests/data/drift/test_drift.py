"""mp.drift: agrees with scipy, false alarms at or below alpha, detects what the issue lists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

import mlprod as mp
from mlprod.data.drift import stats as dstats
from mlprod.data.drift.sketch import QuantileSketch


def test_exact_sketches_agree_with_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=800), rng.normal(0.2, 1.1, size=700)
    sa, sb = QuantileSketch.from_values(a, size=1024), QuantileSketch.from_values(b, size=1024)
    d, bound = dstats.ks_statistic(sa, sb)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert bound == 0
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert dstats.ks_pvalue(d, 800, 700) == pytest.approx(ref.pvalue, rel=1e-9)
    assert dstats.wasserstein(sa, sb) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


def test_sketch_statistics_within_stated_error_of_raw():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=50_000), rng.normal(0.05, 1, size=40_000)
    sa, sb = QuantileSketch.from_values(a, size=256), QuantileSketch.from_values(b, size=256)
    d, bound = dstats.ks_statistic(sa, sb)
    assert bound > 0
    assert abs(d - stats.ks_2samp(a, b).statistic) <= bound
    span = max(a.max(), b.max()) - min(a.min(), b.min())
    assert abs(dstats.wasserstein(sa, sb) - stats.wasserstein_distance(a, b)) <= bound * span


@pytest.mark.parametrize(("n", "size"), [(4_000, 1024), (40_000, 128)])
def test_wasserstein_interval_agrees_with_a_raw_data_bootstrap(n, size):
    # the sketch bootstrap (Poisson counts; their normal limit for heavy points,
    # the second case) against resampling the raw rows and calling scipy
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=n), rng.normal(0.1, 1.2, size=n)
    raw = [stats.wasserstein_distance(rng.choice(a, n), rng.choice(b, n)) for _ in range(200)]
    raw_lo, raw_hi = np.quantile(raw, [0.025, 0.975])
    sa, sb = QuantileSketch.from_values(a, size=size), QuantileSketch.from_values(b, size=size)
    assert (sa.weights.min() >= 100) == (n // size >= 100)
    lo, hi = dstats.wasserstein_interval(sa, sb, draws=400, seed=1)
    width = raw_hi - raw_lo
    assert abs(lo - raw_lo) < 0.25 * width
    assert abs(hi - raw_hi) < 0.25 * width
    assert lo < stats.wasserstein_distance(a, b) < hi


def test_categorical_statistics_agree_with_scipy():
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"c": rng.choice(list("abc"), p=[0.5, 0.3, 0.2], size=3000)})
    cur = pd.DataFrame({"c": rng.choice(list("abc"), p=[0.45, 0.3, 0.25], size=2000)})
    col = mp.drift(ref, cur, method="chisquare")["c"]
    table = pd.crosstab(
        np.r_[np.zeros(3000), np.ones(2000)], np.r_[ref["c"].to_numpy(), cur["c"].to_numpy()]
    )
    expected = stats.chi2_contingency(table.to_numpy(), correction=False)
    assert col.statistic == pytest.approx(expected.statistic)
    assert col.p_value == pytest.approx(expected.pvalue)
    p = ref["c"].value_counts(normalize=True).sort_index()
    q = cur["c"].value_counts(normalize=True).sort_index()
    assert col.effect_value == pytest.approx(distance.jensenshannon(p, q, base=2))


def _frames(rng, n, *, shift=0.0, scale=1.0, probs=(0.5, 0.3, 0.2), cats="abc"):
    return pd.DataFrame(
        {
            "x": rng.normal(shift, scale, size=n),
            "y": rng.exponential(size=n),
            "c": rng.choice(list(cats), p=list(probs), size=n),
        }
    )


@pytest.mark.parametrize(("n", "reps"), [(1_000, 60), (100_000, 20)])
def test_false_alarm_rate_at_or_below_alpha(n, reps):
    rng = np.random.default_rng(n)
    alarms = 0
    for _ in range(reps):
        ref = mp.profile(_frames(rng, n))
        report = mp.drift(ref, _frames(rng, n))
        alarms += bool(report.drifted_columns)
    # any column drifting counts; BH keeps this family-wise rate <= 0.05 under the null
    assert alarms <= 0.05 * reps + 2 * np.sqrt(reps * 0.05 * 0.95)


def test_detects_shift_variance_mix_and_new_category_at_100k():
    rng = np.random.default_rng(7)
    n = 100_000
    ref = mp.profile(_frames(rng, n))
    assert mp.drift(ref, _frames(rng, n, shift=0.1))["x"].verdict == "drift"
    assert mp.drift(ref, _frames(rng, n, scale=np.sqrt(1.5)))["x"].verdict == "drift"
    assert mp.drift(ref, _frames(rng, n, probs=(0.45, 0.3, 0.25)))["c"].verdict == "drift"
    new = mp.drift(ref, _frames(rng, n, probs=(0.49, 0.29, 0.2, 0.02), cats="abcd"))
    assert new["c"].verdict == "drift"
    assert new["c"].new_categories == ("d",)
    assert new["x"].verdict == "no drift"


def test_small_batches_are_not_enough_data_and_effect_has_interval():
    rng = np.random.default_rng(8)
    ref = _frames(rng, 5000)
    report = mp.drift(ref, _frames(rng, 50, shift=3))
    assert {c.verdict for c in report.columns} == {"not enough data"}
    assert not report.drifted
    assert report.share == 0
    col = mp.drift(ref, _frames(rng, 5000, shift=0.5))["x"]
    assert col.effect_low < col.effect_value < col.effect_high
    assert col.shift.startswith("mean ")
    assert "+0.5" in col.shift


def test_columns_missing_dtype_changes_missing_rates_and_constants():
    rng = np.random.default_rng(9)
    ref = pd.DataFrame(
        {"a": rng.normal(size=2000), "k": 1.0, "gone": 1.0, "d": rng.normal(size=2000)}
    )
    cur = pd.DataFrame(
        {
            "a": np.where(rng.random(2000) < 0.2, np.nan, rng.normal(size=2000)),
            "k": rng.normal(size=2000),
            "new": 1.0,
            "d": ["x"] * 2000,
        }
    )
    report = mp.drift(ref, cur)
    assert report.missing_in_current == ("gone",)
    assert report.missing_in_reference == ("new",)
    assert list(report.dtype_changes) == ["d"]
    assert report.dtype_changes["d"][0] == "float64"
    assert report["a"].missing_changed
    assert report.missing_rate_changes == ("a",)
    assert report["k"].verdict == "drift"
    assert "constant" in report["k"].notes[0]
    frame = report.to_frame()
    assert list(frame["column"]) == ["a", "k", "d"]
    import json

    assert json.loads(report.to_json())["missing_in_current"] == ["gone"]


def test_empty_current_frame_and_infinities_are_reported():
    ref = pd.DataFrame({"x": np.r_[np.arange(500.0), np.inf]})
    report = mp.drift(ref, pd.DataFrame({"x": pd.Series([], dtype=float)}))
    assert report["x"].verdict == "not enough data"
    assert not report.drifted
    assert "infinite" in report["x"].notes[0]


def test_methods_and_prediction_column():
    rng = np.random.default_rng(10)
    ref = pd.DataFrame({"score": rng.random(20_000)})
    cur = pd.DataFrame({"score": rng.random(20_000) ** 2})
    for method in ("ks", "wasserstein", "psi", "jensenshannon", "auto"):
        col = mp.drift(ref, cur, method=method)["score"]
        assert col.verdict == "drift", method
    with pytest.raises(mp.ConfigurationError, match="unknown drift method"):
        mp.drift(ref, cur, method="evidently")


def test_report_renders_with_histograms(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(11)
    report = mp.drift(_frames(rng, 3000), _frames(rng, 3000, shift=1, cats="abd"))
    html = report.to_html(tmp_path / "r.html")
    assert html.count("<svg") == 2
    assert "<script" not in html
    assert "New categories in 'c': d." in report.to_markdown()
    assert "drift" in report._repr_html_()
    assert "DRIFT" in repr(report)
    with pytest.raises(AttributeError):
        report.drifted = False
