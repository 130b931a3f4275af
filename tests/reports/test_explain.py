"""mp.explain against shap itself, its checks, summaries, file format and bad input."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import shap
from hypothesis import given
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlprod as mp
from mlprod.reports.explain_report import format_value
from mlprod.reports.explain_stats import importance, units


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 4)), columns=["a", "b", "c", "d"])
    X["income"] = rng.integers(20, 90, 120) * 1000.0
    y = (X["a"] + X["income"] / 50_000 > 1).astype(int)
    return X, y


@pytest.fixture(scope="module")
def forest(data):
    X, y = data
    return RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(X, y)


def test_tree_values_equal_shap(data, forest):
    X, _ = data
    report = mp.explain(forest, X)
    ref = shap.TreeExplainer(forest)
    np.testing.assert_allclose(report.values, ref.shap_values(X)[:, :, 1], atol=1e-6)
    np.testing.assert_allclose(report.base_values, ref.expected_value[1], atol=1e-6)
    assert report.method == "tree"
    assert "tree ensemble" in report.reason
    assert report.output == "probability of class 1"


def test_tree_with_background_is_interventional_like_shap(data):
    X, y = data
    model = HistGradientBoostingClassifier(max_iter=15).fit(X, y)
    bg = X.iloc[:30]
    report = mp.explain(model, X.iloc[:40], background=bg)
    ref = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional")
    np.testing.assert_allclose(report.values, ref.shap_values(X.iloc[:40]), atol=1e-6)
    assert report.additivity.ok
    assert report.additivity.max_error < 1e-6
    assert "log-odds" in report.output


def test_linear_values_equal_shap(data):
    X, y = data
    Xs = X.assign(income=X["income"] / 1e4)
    model = LogisticRegression(max_iter=500).fit(Xs, y)
    report = mp.explain(model, Xs, background=Xs.iloc[:50])
    ref = shap.LinearExplainer(model, Xs.iloc[:50]).shap_values(Xs)
    np.testing.assert_allclose(report.values, ref, atol=1e-9)
    assert report.method == "linear"
    assert report.additivity.ok


def test_permutation_equals_shap_on_a_fixed_seed(data):
    X, _ = data
    model = KNeighborsRegressor().fit(X, X["a"])
    bg = X.iloc[:15]
    report = mp.explain(model, X.iloc[:6], background=bg, random_state=3, max_evals=40)
    masker = shap.maskers.Independent(bg.to_numpy(), max_samples=15)
    ref = shap.PermutationExplainer(
        lambda A: model.predict(pd.DataFrame(A, columns=X.columns)), masker, seed=3
    )(X.iloc[:6].to_numpy(), max_evals=40, silent=True)
    np.testing.assert_allclose(report.values, ref.values, atol=1e-12)
    assert report.method == "permutation"
    assert "40 model evaluations per row" in report.sampled
    assert report.additivity.ok


def test_pipeline_maps_one_hot_back_to_its_input_column(data):
    X, _ = data
    rng = np.random.default_rng(1)
    df = X.assign(city=rng.choice(["London", "Paris", "Rome"], len(X)))
    target = df["a"] * 2 + (df["city"] == "Paris")
    pre = make_column_transformer(
        (OneHotEncoder(), ["city"]), (StandardScaler(), ["a", "b", "c", "d", "income"])
    )
    pipe = make_pipeline(pre, RandomForestRegressor(n_estimators=5, random_state=0))
    pipe.fit(df, target)
    report = mp.explain(pipe, df)
    assert report.feature_names == tuple(df.columns)
    inner = shap.TreeExplainer(pipe[-1]).shap_values(pipe[:-1].transform(df))
    # the three one-hot columns come first in the transformed frame: their sum is city's
    np.testing.assert_allclose(report.values[:, 5], inner[:, :3].sum(axis=1), atol=1e-9)
    np.testing.assert_allclose(report.values[:, 0], inner[:, 3], atol=1e-9)
    assert report.additivity.ok
    assert "input columns" in report.reason
    assert "city = " in " ".join(report.reasons(df.index[0], top=6))
    assert any(
        v in report.reasons(df.index[0], top=6)[0] + "".join(report.reasons(0, top=6))
        for v in ("London", "Paris", "Rome")
    )


def test_pipeline_that_mixes_columns_says_so(data):
    X, _ = data
    pipe = make_pipeline(PCA(n_components=3), RandomForestRegressor(n_estimators=5)).fit(X, X["a"])
    report = mp.explain(pipe, X.iloc[:20])
    assert len(report.feature_names) == 3
    assert "mixes columns" in report.reason
    assert report.additivity.ok


def test_additivity_failure_is_data_and_a_warning_naming_rows(data, forest):
    X, _ = data
    with pytest.warns(RuntimeWarning, match="rows"):
        report = mp.explain(forest, X.iloc[:10], tolerance=0.0)
    # exact zero error is possible on some rows; at least the check ran on all of them
    assert report.additivity.n_rows == 10
    assert set(report.additivity.failing_rows) <= set(X.index[:10])
    assert not report.additivity.ok
    assert report.to_dict()["additivity"]["failing_rows"] == list(report.additivity.failing_rows)


def test_reasons_use_the_data_format_and_signs():
    X = pd.DataFrame({"income": [30000.0, 54000.0, 80000.0], "age": [40, 23, 60]})
    y = X["income"] / 1e5 + X["age"] / 100
    report = mp.explain(LinearRegression().fit(X, y), X, background=X)
    r = report.reasons(1, top=2)
    assert r[0] == "age = 23 lowered the prediction by 0.18"
    assert r[1] == "income = 54,000 lowered the prediction by 0.00667"
    with pytest.raises(mp.ConfigurationError, match="row"):
        report.reasons(99)


def test_format_value():
    assert format_value(54000.0) == "54,000"
    assert format_value(1234567) == "1,234,567"
    assert format_value(np.float64(0.5)) == "0.5"
    assert format_value(float("nan")) == "missing"
    assert format_value(True) == "True"


def test_groups_are_one_line_with_rank_intervals(data, forest):
    X, y = data
    report = mp.explain(forest, X, groups={"noise": ["b", "c", "d"]}, y=y, random_state=0)
    imp = report.importance
    assert list(imp["feature"]).count("noise") == 1
    assert "b" not in set(imp["feature"])
    row = imp.set_index("feature").loc["noise"]
    expected = np.abs(report.values[:, 1:4].sum(axis=1)).mean()
    assert row["mean_abs"] == pytest.approx(expected)
    assert row["lower"] <= row["mean_abs"] <= row["upper"]
    assert row["rank_lower"] <= row["rank"] <= row["rank_upper"]
    assert report.permutation is not None
    assert len(report.permutation) == X.shape[1]


def test_permutation_importance_and_disagreement(data, forest):
    X, y = data
    report = mp.explain(forest, X, y=y, random_state=0)
    perm = report.permutation
    assert perm["rank"].tolist() == list(range(1, 6))
    assert perm["feature"].iloc[0] == "a"
    assert isinstance(report.disagreements, tuple)


@given(st.integers(min_value=2, max_value=6), st.integers(min_value=5, max_value=40))
def test_importance_laws(n_features, n_rows):
    rng = np.random.default_rng(n_features * 100 + n_rows)
    v = rng.normal(size=(n_rows, n_features))
    names = [f"f{i}" for i in range(n_features)]
    out = importance(v, units(names, None), n_boot=50, seed=0)
    assert sorted(out["rank"]) == list(range(1, n_features + 1))
    assert out["mean_abs"] == sorted(out["mean_abs"], reverse=True)
    np.testing.assert_allclose(sorted(out["mean_abs"]), sorted(np.abs(v).mean(axis=0)))
    assert all(lo <= hi for lo, hi in zip(out["lower"], out["upper"]))
    assert all(lo <= hi for lo, hi in zip(out["rank_lower"], out["rank_upper"]))


def test_report_is_frozen_and_round_trips(tmp_path, data, forest):
    X, y = data
    report = mp.explain(forest, X.iloc[:30], y=y.iloc[:30], random_state=0)
    with pytest.raises(ValueError, match="read-only"):
        report.values[0, 0] = 1.0
    with pytest.raises(AttributeError):
        report.method = "x"  # type: ignore[misc]
    agg = report.to_dict()
    assert "values" not in agg
    assert agg["format_version"] == 1
    assert len(report.to_dict(rows=True)["values"]) == 30
    json.loads(report.to_json())
    path = report.save(tmp_path / "expl.json")
    back = mp.ExplanationReport.load(path)
    np.testing.assert_array_equal(back.values, report.values)
    np.testing.assert_array_equal(back.base_values, report.base_values)
    assert back.feature_names == report.feature_names
    assert back.reasons(X.index[3]) == report.reasons(X.index[3])
    assert back.meta["model_digest"] == report.meta["model_digest"] is not None
    assert back.meta["data_fingerprint"] == str(mp.fingerprint(X.iloc[:30]))
    assert "shap" in back.meta["versions"]
    clone = pickle.loads(pickle.dumps(report))
    np.testing.assert_array_equal(clone.values, report.values)
    assert not clone.values.flags.writeable
    assert clone.meta["method"] == "tree"
    assert "mlprod.ExplanationReport" in repr(type(clone))
    (tmp_path / "other.json").write_text('{"format": "nope"}')
    with pytest.raises(mp.SerializationError):
        mp.ExplanationReport.load(tmp_path / "other.json")


def test_rendering_and_plots(tmp_path, data, forest):
    X, _ = data
    report = mp.explain(forest, X.iloc[:40])
    page = report.to_html(tmp_path / "r.html")
    assert page.count("<svg") == 2 + len(report.default_rows())
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert len(page.encode()) < 1_000_000
    assert "Additivity check" in report.to_markdown()
    assert report._repr_html_().startswith("<style>")
    assert "tree" in report.summary()
    for fig in (report.plot_importance(), report.plot_beeswarm(), report.plot_waterfall(0)):
        assert type(fig).__name__ == "Figure"
        assert fig.axes
    mpl = pytest.importorskip("matplotlib.figure")
    fig = mpl.Figure()
    ax = fig.add_subplot()
    assert report.plot_importance(ax=ax) is fig


def test_explainer_satisfies_the_protocol_and_matches_explain(data, forest):
    X, _ = data
    ex = mp.explainer(forest, X.iloc[:20])
    assert ex.feature_names == tuple(X.columns)
    rows = ex.explain_rows(X.iloc[:3])
    assert rows.shape == (3, 5)
    ref = shap.TreeExplainer(forest, data=X.iloc[:20], feature_perturbation="interventional")
    np.testing.assert_allclose(rows, ref.shap_values(X.iloc[:3])[:, :, 1], atol=1e-6)
    protocol: mp.protocols.Explainer = ex
    assert protocol.feature_names == ex.feature_names
    assert "tree" in repr(ex)


def test_max_rows_samples_and_says_so(data, forest):
    X, _ = data
    report = mp.explain(forest, X, max_rows=25, random_state=1)
    assert report.values.shape == (25, 5)
    assert "25 of 120 rows" in report.sampled
    assert set(report.data.index) <= set(X.index)


def test_progress_bar_chunks_give_the_same_values(data, forest, capsys):
    X, _ = data
    a = mp.explain(forest, X, progress=True)
    b = mp.explain(forest, X, progress=False)
    np.testing.assert_array_equal(a.values, b.values)
    assert "explain (tree)" in capsys.readouterr().err


# -- bad input ---------------------------------------------------------------------------


def test_model_without_predict():
    with pytest.raises(mp.ConfigurationError, match="predict") as info:
        mp.explain(object(), np.zeros((3, 2)))
    assert info.value.parameter == "model"


def test_columns_the_model_was_not_fitted_on(data, forest):
    X, _ = data
    with pytest.raises(mp.ConfigurationError, match="not fitted on") as info:
        mp.explain(forest, X.rename(columns={"a": "zz"}))
    assert info.value.parameter == "X"


def test_background_of_the_wrong_width(data, forest):
    X, _ = data
    with pytest.raises(mp.ConfigurationError, match="background has 2 columns") as info:
        mp.explain(forest, X, background=X.iloc[:, :2])
    assert info.value.parameter == "background"


def test_nan_the_explainer_cannot_take(data):
    X, y = data
    model = LinearRegression().fit(X, X["a"])
    bad = X.copy()
    bad.iloc[4, 1] = np.nan
    with pytest.raises(mp.ConfigurationError, match="missing") as info:
        mp.explain(model, bad, background=X)
    assert info.value.parameter == "X"
    assert 4 in info.value.value
    hgb = HistGradientBoostingClassifier(max_iter=5).fit(bad, y)  # takes NaN natively
    assert mp.explain(hgb, bad).additivity.ok


def test_huge_permutation_without_a_bound_is_refused(data):
    X, _ = data
    model = KNeighborsRegressor().fit(X, X["a"])
    with pytest.raises(mp.TooCostly, match="max_rows=") as info:
        mp.explain(model, X, background=X.iloc[:50], max_seconds=0.01)
    err = info.value
    assert err.parameter == "max_rows"
    assert err.estimated_seconds > 0.01
    assert 1 <= err.suggestion < len(X)


def test_bad_options(data, forest):
    X, _ = data
    with pytest.raises(mp.ConfigurationError, match="method"):
        mp.explain(forest, X, method="magic")
    with pytest.raises(mp.ConfigurationError, match="max_rows"):
        mp.explain(forest, X, max_rows=0)
    with pytest.raises(mp.ConfigurationError, match="groups"):
        mp.explain(forest, X, groups={"g": ["nope"]})
    with pytest.raises(mp.ConfigurationError, match="background"):
        mp.explainer(LinearRegression().fit(X, X["a"]))


def test_no_warning_on_a_clean_run(data, forest):
    X, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mp.explain(forest, X.iloc[:20])


def test_a_bare_array_takes_the_fitted_column_names(data, forest):
    X, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = mp.explain(forest, X.iloc[:10].to_numpy())
    assert report.feature_names == tuple(X.columns)
    np.testing.assert_allclose(report.values, mp.explain(forest, X.iloc[:10]).values)
