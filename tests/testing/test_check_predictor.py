"""check_predictor catches each deliberately broken model and passes well-behaved ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from behaviour_models import (
    BadProba,
    ChangesWhenPickled,
    Linear,
    Noisy,
    NoPredict,
    OneRowCrash,
    OrderSensitive,
    SharedState,
)

import mlprod as mp
import mlprod.testing as mt
from mlprod.testing._checks import CHECKS

FAST = {"max_examples": 15, "database": False}
SKLEARN = {"max_examples": 8, "database": False}


@pytest.mark.parametrize("name", ["linear", "forest", "pipeline"])
def test_well_behaved_sklearn_models_pass_every_check(sklearn_models, name):
    model, X = sklearn_models[name]
    report = mt.check_predictor(model, X, **SKLEARN)
    assert report.ok, report.failure_message()
    assert [c.name for c in report.checks] == list(CHECKS)
    # every check ran (none silently dropped); only array-only checks may skip
    assert report.counts["skipped"] == 0, report.summary()
    assert all(c.examples >= 1 for c in report.checks)


def test_forest_handles_nan_by_its_documented_tag(sklearn_models):
    model, X = sklearn_models["forest"]
    report = mt.check_predictor(model, X, checks=["nan_inf"], **FAST)
    assert "handled (allow_nan)" in report["nan_inf"].detail
    strict = mt.check_predictor(model, X, checks=["nan_inf"], allow_nan=False, **FAST)
    assert not strict.ok  # it returns numbers for NaN, which a strict policy refuses


def test_column_order_selected_by_name_or_refused_clearly(sklearn_models):
    model, X = sklearn_models["pipeline"]  # ColumnTransformer picks columns by name
    result = mt.check_predictor(model, X, checks=["column_order"], **FAST)["column_order"]
    assert result.status == "passed"
    assert "same output" in result.detail
    model, X = sklearn_models["linear"]  # checks feature names and refuses
    result = mt.check_predictor(model, X, checks=["column_order"], **FAST)["column_order"]
    assert result.status == "passed"
    assert "refused clearly" in result.detail


def test_order_sensitive_model_is_caught_with_a_one_row_counterexample(X):
    result = mt.check_predictor(OrderSensitive(), X, checks=["column_order"], **FAST)[
        "column_order"
    ]
    assert result.status == "failed"
    assert "change the output" in result.detail
    ce = result.counterexample
    assert len(ce) == 1
    assert list(ce.columns) == list(X.columns)
    # the output differs only if the two numeric columns differ, so they do in the minimum
    assert ce["income"].iloc[0] != ce["age"].iloc[0]


def test_shared_state_model_is_caught_under_threads(X):
    result = mt.check_predictor(SharedState(), X, checks=["threads"], threads=4)["threads"]
    assert result.status == "failed"
    assert "concurrent calls disagree" in result.detail
    assert len(result.counterexample) == 1
    # sequentially the same model is fine
    sequential = mt.check_predictor(SharedState(), X, checks=["determinism"], **FAST)
    assert sequential.ok


def test_noisy_model_fails_determinism_with_minimal_input(X):
    result = mt.check_predictor(Noisy(), X, checks=["determinism"], **FAST)["determinism"]
    assert result.status == "failed"
    ce = result.counterexample
    # shrinking leaves one row, the integer at its lower bound, all within observed ranges
    assert len(ce) == 1
    assert X["income"].min() <= ce["income"].iloc[0] <= X["income"].max()
    assert ce["age"].iloc[0] == X["age"].min()
    assert ce.dtypes.tolist() == X.dtypes.tolist()


def test_one_row_crash_is_caught(X):
    report = mt.check_predictor(OneRowCrash(), X, checks=["one_row", "output_shape"], **FAST)
    assert report["one_row"].status == "failed"
    assert "IndexError" in report["one_row"].detail
    assert len(report["one_row"].counterexample) == 1
    assert report["output_shape"].status == "failed"  # 1..5 rows drawn, shrinks to the crash
    assert len(report["output_shape"].counterexample) == 1


def test_probabilities_not_summing_to_one_are_caught_at_the_boundary(X):
    result = mt.check_predictor(BadProba(), X, checks=["predict_proba"], **FAST)["predict_proba"]
    assert result.status == "failed"
    assert "sum to" in result.detail
    ce = result.counterexample
    assert len(ce) == 1
    # the smallest failing income is the observed maximum... or just above 80: shrinking
    # moves it to the bound closest to the passing region
    assert ce["income"].iloc[0] >= 80


def test_pickle_round_trip_change_is_caught(X):
    result = mt.check_predictor(ChangesWhenPickled(), X, checks=["round_trip"], **FAST)[
        "round_trip"
    ]
    assert result.status == "failed"
    assert "pickle round trip" in result.detail
    assert len(result.counterexample) == 1


def test_nan_giving_a_confident_number_is_caught(X):
    result = mt.check_predictor(Linear(), X, checks=["nan_inf"], **FAST)["nan_inf"]
    assert result.status == "failed"
    ce = result.counterexample
    assert len(ce) == 1
    # the minimal counterexample: NaN in the first numeric column
    assert np.isnan(ce["income"].iloc[0])


def test_empty_batch_clear_error_passes_and_crash_fails(X):
    class EmptyCrash(Linear):
        def predict(self, X):
            if len(X) == 0:
                return np.asarray(X["income"])[0]  # IndexError
            return super().predict(X)

    class EmptyWrong(Linear):
        def predict(self, X):
            return np.zeros(max(len(X), 1))

    assert mt.check_predictor(Linear(), X, checks=["empty"])["empty"].status == "passed"
    assert mt.check_predictor(EmptyCrash(), X, checks=["empty"])["empty"].status == "failed"
    wrong = mt.check_predictor(EmptyWrong(), X, checks=["empty"])["empty"]
    assert wrong.status == "failed"
    assert "shape (1,)" in wrong.detail


def test_dtype_sensitive_model_is_caught(X):
    class ObjectOnly(Linear):
        def predict(self, X):
            bonus = 1.0 if X["region"].dtype == object else 0.0
            return super().predict(X) + bonus

    result = mt.check_predictor(ObjectOnly(), X, checks=["dtypes"], **FAST)["dtypes"]
    assert result.status == "failed"
    # on pandas 2.2 text already is object, so the category variant is the one that differs
    assert "as object" in result.detail or "as category" in result.detail


def test_int_vs_float_sensitivity_is_caught(X):
    class IntOnly(Linear):
        def predict(self, X):
            return super().predict(X) + (X["age"].dtype.kind == "i")

    result = mt.check_predictor(IntOnly(), X, checks=["dtypes"], **FAST)["dtypes"]
    assert result.status == "failed"
    assert "as float64" in result.detail


def test_array_models_skip_frame_checks_with_reasons():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))

    class ArrayModel:
        def predict(self, X):
            return np.asarray(X) @ np.array([1.0, 2.0, 3.0])

    report = mt.check_predictor(ArrayModel(), X, **FAST)
    skipped = {c.name: c.detail for c in report.checks if c.status == "skipped"}
    assert set(skipped) == {"column_order", "dtypes", "predict_proba"}
    assert all(skipped.values())
    assert report["nan_inf"].status == "failed"  # NaN in, number out


def test_report_lists_passes_with_coverage(sklearn_models):
    model, X = sklearn_models["linear"]
    report = mt.check_predictor(model, X, checks=["one_row", "determinism"], **FAST)
    d = report.to_dict()
    assert d["counts"] == {"passed": 2, "failed": 0, "skipped": 0}
    assert all(c["examples"] >= 1 and c["detail"] for c in d["checks"])
    assert "one_row" in report.summary()
    assert "determinism" in report.to_markdown()


def test_a_model_that_cannot_predict_the_sample_is_one_failure_and_skips(X):
    class Broken:
        def predict(self, X):
            raise RuntimeError("weights missing")

    report = mt.check_predictor(Broken(), X, checks=["one_row", "empty"])
    assert [c.status for c in report.checks] == ["failed", "skipped", "skipped"]
    assert "weights missing" in report["sample"].detail


def test_bad_arguments_name_the_argument(X):
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.check_predictor(NoPredict(), X)
    assert exc.value.parameter == "model"
    assert "predict" in str(exc.value)
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.check_predictor(Linear(), X, checks=["one_rwo"])
    assert exc.value.parameter == "checks"
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.check_predictor(Linear(), X.iloc[:0])
    assert exc.value.parameter == "X_sample"
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.check_predictor(Linear(), [1, 2, 3])
    assert exc.value.parameter == "X_sample"
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.check_predictor(Linear(), X, threads=1)
    assert exc.value.parameter == "threads"
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.check_predictor(Linear(), X, max_examples=0)
    assert exc.value.parameter == "max_examples"


def test_counterexample_is_saved_and_replayed_first(X, tmp_path):
    seen: list[pd.DataFrame] = []

    class Recording(OneRowCrash):
        def predict(self, X):
            seen.append(X.copy())
            return super().predict(X)

    first = mt.check_predictor(
        Recording(), X, checks=["one_row"], max_examples=30, database=tmp_path / "db"
    )["one_row"]
    assert first.status == "failed"
    seen.clear()
    again = mt.check_predictor(
        Recording(), X, checks=["one_row"], max_examples=30, database=tmp_path / "db"
    )["one_row"]
    assert again.status == "failed"
    # the sample call comes first, then the replayed counterexample
    pd.testing.assert_frame_equal(seen[1], first.counterexample)
    assert again.examples <= first.examples
