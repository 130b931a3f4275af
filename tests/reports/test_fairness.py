"""mp.fairness_report against fairlearn itself, its errors, serialisation, rendering and gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm
from hypothesis import given
from hypothesis import strategies as st

import mlprod as mp

FL = {
    "selection_rate": flm.selection_rate,
    "accuracy": skm.accuracy_score,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
    "true_negative_rate": flm.true_negative_rate,
}


def _data(seed, n=3000, degenerate=False):
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1])
    b = rng.choice(["p", "q"], n)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.7, y, 1 - y)
    if degenerate:  # a group with no positives at all
        y[(a == "z") & (b == "q")] = 0
    return y, pred, pd.DataFrame({"a": a, "b": b})


@pytest.mark.parametrize(("seed", "degenerate"), [(0, False), (1, False), (2, True)])
def test_equals_metricframe(seed, degenerate):
    y, pred, sf = _data(seed, degenerate=degenerate)
    fr = mp.fairness_report(y, pred, sensitive_features=sf, random_state=0, n_boot=20)
    mf = flm.MetricFrame(metrics=FL, y_true=y, y_pred=pred, sensitive_features=sf)
    ours = fr.by_group[list(FL)]
    theirs = mf.by_group.loc[ours.index, list(FL)]
    undefined = ours.isna()
    if degenerate:  # fairlearn reports 0 for an undefined TPR; we report NaN with a reason
        assert undefined["true_positive_rate"].any()
        assert (theirs[undefined] == 0).sum().sum() == undefined.sum().sum()
        reasons = fr.intervals.dropna(subset=["reason"])
        assert set(reasons["reason"]) == {"no actual positives (TP + FN = 0)"}
    np.testing.assert_allclose(ours[~undefined], theirs[~undefined], atol=1e-9)
    np.testing.assert_allclose(fr.overall[list(FL)], mf.overall[list(FL)], atol=1e-9)
    if not degenerate:
        for method in ("between_groups", "to_overall"):
            np.testing.assert_allclose(
                fr.difference(method)[list(FL)], mf.difference(method=method), atol=1e-9
            )
            np.testing.assert_allclose(
                fr.ratio(method)[list(FL)], mf.ratio(method=method), atol=1e-9
            )
        np.testing.assert_allclose(fr.group_min()[list(FL)], mf.group_min(), atol=1e-9)
        np.testing.assert_allclose(fr.group_max()[list(FL)], mf.group_max(), atol=1e-9)
        for method in ("between_groups", "to_overall"):
            sfx = "" if method == "between_groups" else " (to overall)"
            kw = {"sensitive_features": sf, "method": method}
            pairs = {
                "demographic_parity_difference": flm.demographic_parity_difference(y, pred, **kw),
                "demographic_parity_ratio": flm.demographic_parity_ratio(y, pred, **kw),
                "equalized_odds_difference": flm.equalized_odds_difference(y, pred, **kw),
                "equalized_odds_ratio": flm.equalized_odds_ratio(y, pred, **kw),
                "equalized_odds_difference_mean": flm.equalized_odds_difference(
                    y, pred, agg="mean", **kw
                ),
                "equalized_odds_ratio_mean": flm.equalized_odds_ratio(y, pred, agg="mean", **kw),
            }
            for name, want in pairs.items():
                assert fr.score(name + sfx) == pytest.approx(want, abs=1e-9), name


def test_precision_auc_and_callables_equal_sklearn_per_group():
    y, pred, sf = _data(3)
    score = np.clip(pred * 0.6 + np.random.default_rng(3).random(len(y)) * 0.4, 0, 1)
    fr = mp.fairness_report(
        y, pred, sensitive_features=sf["a"], y_score=score, random_state=1, n_boot=10
    )
    for g in ("x", "y", "z"):
        m = (sf["a"] == g).to_numpy()
        assert fr.by_group.loc[g, "precision"] == pytest.approx(skm.precision_score(y[m], pred[m]))
        assert fr.by_group.loc[g, "roc_auc"] == pytest.approx(skm.roc_auc_score(y[m], score[m]))
        assert fr.by_group.loc[g, "brier_score"] == pytest.approx(
            skm.brier_score_loss(y[m], score[m])
        )
    f1 = mp.fairness_report(
        y, pred, sensitive_features=sf, metrics=[skm.f1_score, "tpr"], random_state=0, n_boot=5
    )
    mf = flm.MetricFrame(metrics=skm.f1_score, y_true=y, y_pred=pred, sensitive_features=sf)
    got = f1.by_group["f1_score"]
    np.testing.assert_allclose(got, mf.by_group.loc[got.index], atol=1e-12)


def test_regression_equals_metricframe():
    rng = np.random.default_rng(4)
    n = 2000
    g = rng.choice(["a", "b", "c"], n)
    y = rng.normal(size=n)
    p = y + rng.normal(scale=0.5, size=n)
    fr = mp.fairness_report(y, p, sensitive_features=g, random_state=0, n_boot=30)
    mf = flm.MetricFrame(
        metrics={
            "mean_absolute_error": skm.mean_absolute_error,
            "root_mean_squared_error": skm.root_mean_squared_error,
        },
        y_true=y,
        y_pred=p,
        sensitive_features=g,
    )
    np.testing.assert_allclose(fr.by_group[list(mf.by_group)], mf.by_group, atol=1e-9)
    iv = fr.intervals.query("metric == 'mean_absolute_error'")
    assert (iv["low"] <= iv["value"]).all()
    assert (iv["value"] <= iv["high"]).all()


def test_multiclass_per_class_and_pos_label():
    rng = np.random.default_rng(5)
    g = rng.choice(["a", "b"], 900)
    y = rng.choice(["cat", "dog", "eel"], 900)
    p = np.where(rng.random(900) < 0.6, y, rng.choice(["cat", "dog", "eel"], 900))
    fr = mp.fairness_report(y, p, sensitive_features=g, random_state=0, n_boot=5)
    assert "multiclass" in fr.to_dict()["note"]
    m = g == "a"
    assert fr.by_group.loc["a", "selection_rate[dog]"] == pytest.approx(np.mean(p[m] == "dog"))
    assert fr.by_group.loc["a", "true_positive_rate[eel]"] == pytest.approx(
        np.mean(p[m & (y == "eel")] == "eel")
    )
    fb = mp.fairness_report(y, p, sensitive_features=g, pos_label="dog", n_boot=0)
    assert fb.by_group.loc["a", "selection_rate"] == pytest.approx(np.mean(p[m] == "dog"))


def test_missing_values_are_a_group_and_pruned_intersections_listed():
    y, pred, sf = _data(6, n=600)
    sf.loc[:5, "a"] = None
    sf.loc[(sf["a"] == "z") & (sf["b"] == "q"), "b"] = "p"
    fr = mp.fairness_report(y, pred, sensitive_features=sf, random_state=0, n_boot=5)
    assert ("<missing>", "p") in list(fr.by_group.index) or ("<missing>", "q") in list(
        fr.by_group.index
    )
    assert ["z", "q"] in fr.to_dict()["pruned"]
    assert fr.groups["small"].any()


def test_input_forms_agree():
    y, pred, sf = _data(7, n=500)
    df = sf.assign(y=y, pred=pred)
    base = mp.fairness_report(y, pred, sensitive_features=sf, random_state=3, n_boot=10)
    forms = [
        {"sensitive_features": {"a": sf["a"].to_numpy(), "b": sf["b"].to_numpy()}},
        {"sensitive_features": ["a", "b"], "data": df},
    ]
    for kw in forms:
        other = mp.fairness_report(y, pred, random_state=3, n_boot=10, **kw)
        pd.testing.assert_frame_equal(other.by_group, base.by_group)
        assert other.to_dict()["disparities"] == base.to_dict()["disparities"]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"y_true": [0, 1, 1], "y_pred": [0, 1]}, "y_pred"),
        ({"y_true": [], "y_pred": []}, "y_true"),
        ({"y_true": [0, 2, 2, 0], "y_pred": [0, 2, 0, 2]}, "pos_label"),
        ({"y_true": [0, np.nan, 1, 0], "y_pred": [0, 1, 1, 0]}, "y_true"),
        ({"y_score": [0.1, 1.5, 0.3, 0.2]}, "y_score"),
        ({"sensitive_features": ["a", "a", "a", "a"]}, "sensitive_features"),
        ({"sensitive_features": ["a", "b", "c", "d"]}, "sensitive_features"),
        ({"sensitive_features": ["a", "b"]}, "sensitive_features"),
    ],
)
def test_bad_input_names_the_argument(kwargs, parameter):
    base = {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 0, 0], "sensitive_features": list("aabb")}
    base.update(kwargs)
    with pytest.raises(mp.InvalidInput) as info:
        mp.fairness_report(
            base.pop("y_true"), base.pop("y_pred"), **base, n_boot=0, min_group_size=1
        )
    assert info.value.parameter == parameter
    assert isinstance(info.value, mp.MlprodError)
    assert info.value.found


@given(st.integers(0, 2**32 - 1))
def test_intervals_contain_estimates_and_seed_reproduces(seed):
    y, pred, sf = _data(seed % 1000, n=400)
    a = mp.fairness_report(y, pred, sensitive_features=sf["a"], random_state=seed, n_boot=30)
    b = mp.fairness_report(y, pred, sensitive_features=sf["a"], random_state=seed, n_boot=30)
    assert a.to_dict()["intervals"] == b.to_dict()["intervals"]
    iv = a.intervals.dropna(subset=["value", "low"])
    assert (iv["wilson_low"].fillna(0) <= iv["value"] + 1e-12).all()
    assert (iv["low"] <= iv["high"]).all()


def test_json_round_trip_frozen_and_render(tmp_path):
    y, pred, sf = _data(8, n=800)
    fr = mp.fairness_report(y, pred, sensitive_features=sf, random_state=0, n_boot=20)
    back = mp.FairnessReport.from_json(fr.to_json())
    assert back == fr
    assert back.digest == fr.digest
    assert json.loads(fr.to_json())["seed"] == 0
    assert set(fr.to_dict()["fingerprints"]) == {"sensitive_features", "y_true", "y_pred"}
    assert "numpy" in fr.to_dict()["environment"]["packages"]
    with pytest.raises(AttributeError):
        fr.x = 1  # type: ignore[attr-defined]
    frame = fr.by_group
    frame.iloc[0, 0] = -1
    assert fr.by_group.iloc[0, 0] != -1
    text = fr.summary()
    assert "× that of a=x, b=" in text
    assert "ratio rule" in text
    page = fr.to_html(tmp_path / "fair.html")
    assert "<svg" in page
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "### Disparities" in fr.to_markdown()
    assert fr._repr_html_().startswith("<style>")


def test_html_stays_small_for_fifty_groups(tmp_path):
    rng = np.random.default_rng(9)
    n = 20_000
    sf = pd.DataFrame({"a": rng.integers(0, 10, n), "b": rng.integers(0, 5, n)})
    y = rng.integers(0, 2, n)
    fr = mp.fairness_report(y, y, sensitive_features=sf, random_state=0, n_boot=20)
    assert len(fr.by_group) == 50
    size = len(fr.to_html(tmp_path / "f.html").encode())
    assert size < 1_000_000, size


def test_verdicts_pass_fail_inconclusive():
    rng = np.random.default_rng(10)
    n = 4000
    g = np.repeat(["big", "fair", "unfair", "tiny"], [2000, 1000, 980, 20])
    y = rng.integers(0, 2, n)
    sel = np.where(g == "unfair", rng.random(n) < 0.2, rng.random(n) < 0.5).astype(int)
    fr = mp.fairness_report(y, sel, sensitive_features=g, random_state=0, n_boot=200)
    d = fr.disparities.set_index(["metric", "group_label"])
    assert d.loc[("selection_rate", "sensitive_feature_0=unfair"), "verdict"] == "fail"
    assert d.loc[("selection_rate", "sensitive_feature_0=fair"), "verdict"] == "pass"
    assert d.loc[("selection_rate", "sensitive_feature_0=tiny"), "verdict"] == "inconclusive"
    assert bool(d.loc[("selection_rate", "sensitive_feature_0=unfair"), "significant"])
    assert fr.groups.loc["tiny", "small"]


def test_gate_end_to_end_with_registry(tmp_path):
    rng = np.random.default_rng(11)
    g = rng.choice(["a", "b"], 40_000)
    y = rng.integers(0, 2, 40_000)
    noisy = np.where(rng.random(40_000) < 0.8, y, 1 - y)
    fair = mp.fairness_report(y, noisy, sensitive_features=g, random_state=0, n_boot=50)
    unfair_pred = np.where(g == "b", 0, y)
    unfair = mp.fairness_report(y, unfair_pred, sensitive_features=g, random_state=0, n_boot=50)
    reg = mp.ModelRegistry(tmp_path / "reg")
    reg.register("churn", {"w": 1}, actor="ana")
    reg.register("churn", {"w": 2}, actor="ana")
    with pytest.raises(mp.GateFailed) as info:
        reg.set_alias("churn", "production", 2, gates=[unfair.gate(min_ratio=0.8)], actor="bo")
    assert info.value.failed[0].evidence["report_digest"] == unfair.digest
    reg.set_alias("churn", "production", 1, gates=[fair.gate(min_ratio=0.8)], actor="bo")
    assert reg.resolve("churn", "production").version == 1
    assert reg.verify().ok
    ev = reg.alias_history("churn", "production")[-1].verdicts[0]["evidence"]
    assert mp.FairnessReport.from_dict(ev["report"]).digest == ev["report_digest"] == fair.digest
    tight = fair.gate(min_ratio=0.999)(None, None)
    assert not tight.passed
    assert tight.evidence["inconclusive"]
    lenient = fair.gate(min_ratio=0.999, inconclusive="pass")(None, None)
    assert lenient.passed == (not lenient.evidence["failed"])
    assert fair.gate(min_ratio=0.9, inconclusive="pass")(None, None).passed


def test_cli_exit_codes_and_outputs(tmp_path, capsys):
    from mlprod.cli import main

    rng = np.random.default_rng(12)
    n = 3000
    g = rng.choice(["a", "b"], n)
    y = rng.integers(0, 2, n)
    pred = np.where(g == "b", 0, y)
    path = tmp_path / "preds.csv"
    pd.DataFrame({"g": g, "h": rng.choice(["u", "v"], n), "y": y, "p": pred}).to_csv(path)
    args = [
        "fairness",
        str(path),
        "--y-true",
        "y",
        "--y-pred",
        "p",
        "--sensitive",
        "g,h",
        "--n-boot",
        "20",
    ]
    assert main([*args, "--html", str(tmp_path / "r.html")]) == 0
    assert "Fairness report" in capsys.readouterr().out
    assert (tmp_path / "r.html").read_text().count("<svg") >= 2
    assert main([*args, "--min-ratio", "0.8"]) == 1
    capsys.readouterr()
    assert main([*args, "--json", "--max-difference", "1.0", "--metrics", "accuracy"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["kind"] == "fairness_report"
    assert main([*args[:-4], "--sensitive", "nope"]) == 2


@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from("abc"), st.booleans()),
        min_size=8,
        max_size=200,
    )
)
def test_counts_law_equals_rowwise_groupby(rows):
    """Every standard metric from the bincount pass equals its row-by-row definition."""
    frame = pd.DataFrame(rows, columns=["y", "p", "g", "h"])
    if frame.groupby(["g", "h"]).ngroups < 2 or frame.groupby(["g", "h"]).size().eq(1).all():
        return
    fr = mp.fairness_report(
        frame["y"], frame["p"], sensitive_features=frame[["g", "h"]], n_boot=0, random_state=0
    )
    for (g, h), part in frame.groupby(["g", "h"]):
        got = fr.by_group.loc[(g, h)]
        pos, neg = part[part.y == 1], part[part.y == 0]
        assert got["count"] == len(part)
        assert got["selection_rate"] == pytest.approx(part.p.mean())
        assert got["accuracy"] == pytest.approx((part.y == part.p).mean())
        if len(pos):
            assert got["true_positive_rate"] == pytest.approx(pos.p.mean())
        else:
            assert np.isnan(got["true_positive_rate"])
        if len(neg):
            assert got["false_positive_rate"] == pytest.approx(neg.p.mean())
        else:
            assert np.isnan(got["false_positive_rate"])
