"""Invariance, directional, minimum functionality and consistency: laws and counterexamples."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from behaviour_models import ChangesWhenPickled, Linear, NonMonotoneInSlice, OrderSensitive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlprod as mp
import mlprod.testing as mt

FAST = {"max_examples": 25, "database": False}


class RegionBonus(Linear):
    def predict(self, X):
        return super().predict(X) + (X["region"] == "east").to_numpy() * 3.0


def rename_south(df):
    return df.assign(region=df["region"].replace({"south": "southern"}))


def test_invariance_passes_when_the_change_does_not_matter(X):
    report = mt.invariance(Linear(), X, rename_south, **FAST)
    assert report.ok
    assert report.checks[0].name == "invariance(rename_south)"
    assert report.checks[0].examples >= 1


def test_invariance_finds_the_category_that_moves_the_score(X):
    def east_to_west(df):
        return df.assign(region=df["region"].replace({"east": "west"}))

    report = mt.invariance(RegionBonus(), X, east_to_west, tolerance=0.5, **FAST)
    result = report.checks[0]
    assert not report.ok
    ce = result.counterexample
    assert len(ce) == 1
    assert ce["region"].iloc[0] == "east"
    assert "moved the output" in result.detail


def test_invariance_tolerance_is_respected(X):
    def nudge(df):
        return df.assign(income=df["income"] + 1e-6)

    assert mt.invariance(Linear(), X, nudge, tolerance=1e-3, **FAST).ok
    assert not mt.invariance(Linear(), X, nudge, tolerance=0.0, **FAST).ok


def test_invariance_rejects_a_perturbation_that_raises_or_reshapes(X):
    def boom(df):
        raise KeyError("nope")

    with pytest.raises(mp.ConfigurationError) as exc:
        mt.invariance(Linear(), X, boom, **FAST)
    assert exc.value.parameter == "perturb"
    assert "KeyError" in str(exc.value)
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.invariance(Linear(), X, lambda df: df.iloc[:0], **FAST)
    assert exc.value.parameter == "perturb"
    assert "same shape" in str(exc.value)
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.invariance(Linear(), X, "not callable", **FAST)
    assert exc.value.parameter == "perturb"


def test_directional_passes_a_monotone_model(X):
    report = mt.directional(Linear(), X, "income", **FAST)
    assert report.ok
    assert "increasing" in report.checks[0].detail
    assert mt.directional(Linear(), X, "age", **FAST).ok
    assert not mt.directional(Linear(), X, "income", increasing=False, **FAST).ok


def test_directional_finds_the_slice_where_the_model_falls(X):
    report = mt.directional(NonMonotoneInSlice(), X, "income", max_examples=100, database=False)
    result = report.checks[0]
    assert not report.ok
    ce = result.counterexample
    assert len(ce) == 1
    assert ce["region"].iloc[0] == "north"
    # the model falls only above an income of 50 (or on crossing it)
    assert "expected increasing" in result.detail


def test_directional_where_restricts_the_slice(X):
    south = lambda df: df["region"] == "south"  # noqa: E731
    assert mt.directional(NonMonotoneInSlice(), X, "income", where=south, **FAST).ok
    north = lambda df: df["region"] == "north"  # noqa: E731
    report = mt.directional(
        NonMonotoneInSlice(), X, "income", where=north, max_examples=100, database=False
    )
    assert not report.ok
    assert (report.checks[0].counterexample["region"] == "north").all()


def test_directional_uses_the_positive_class_probability(sklearn_models):
    model, X = sklearn_models["linear"]
    coef = model.coef_[0][list(X.columns).index("income")]
    report = mt.directional(model, X, "income", increasing=bool(coef > 0), **FAST)
    assert report.ok


def test_directional_bad_feature_names_the_closest(X):
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.directional(Linear(), X, "incme")
    assert exc.value.parameter == "feature"
    assert "income" in str(exc.value)
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.directional(Linear(), X, "region")
    assert exc.value.parameter == "feature"
    assert "numeric" in str(exc.value)
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.directional(Linear(), X, "income", where="north")
    assert exc.value.parameter == "where"


def test_minimum_functionality_pairs_and_frames():
    class Threshold:
        def predict(self, X):
            return (X["income"] > 50).astype(int).to_numpy()

    cases = [({"income": 90.0}, 1), ({"income": 10.0}, 0), ({"income": 60.0}, 0)]
    report = mt.minimum_functionality(Threshold(), cases)
    result = report.checks[0]
    assert not report.ok
    assert result.examples == 3
    assert result.counterexample["income"].tolist() == [60.0]
    assert "1 of 3" in result.detail
    frame = pd.DataFrame({"income": [90.0, 10.0], "expected": [1, 0]})
    assert mt.minimum_functionality(Threshold(), frame).ok
    predicate = [({"income": 90.0}, lambda out: out == 1)]
    assert mt.minimum_functionality(Threshold(), predicate).ok
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.minimum_functionality(Threshold(), frame.drop(columns="expected"))
    assert exc.value.parameter == "cases"


def test_consistency_catches_a_round_trip_that_changes_outputs(X):
    model = ChangesWhenPickled()
    copy = pickle.loads(pickle.dumps(model))
    report = mt.consistency(model, copy, X, **FAST)
    assert not report.ok
    assert len(report.checks[0].counterexample) == 1
    assert mt.consistency(model, copy, X, tolerance=0.1, **FAST).ok
    assert mt.consistency(Linear(), Linear(), X, **FAST).ok


def test_properties_take_a_strategy_as_data():
    schema = mp.Schema(
        {
            "income": mp.Column("float64", checks=[mp.checks.in_range(0, 100)]),
            "age": mp.Column("int64", checks=[mp.checks.in_range(18, 90)]),
        }
    )
    data = mt.frames(schema, rows=(1, 4))
    assert mt.directional(Linear(), data, "income", **FAST).ok
    report = mt.consistency(Linear(), OrderSensitive(), data, **FAST)
    assert not report.ok


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.nested_given])
@given(st.floats(0, 100), st.floats(0.5, 10))
def test_law_a_linear_score_is_monotone_for_any_slope(offset, slope):
    class Line:
        def predict(self, X):
            return X["x"].to_numpy() * slope + offset

    X = pd.DataFrame({"x": np.linspace(-5, 5, 11)})
    assert mt.directional(Line(), X, "x", max_examples=10, database=False).ok
    assert not mt.directional(Line(), X, "x", increasing=False, max_examples=10, database=False).ok


def test_a_strategy_that_yields_nothing_is_a_bad_argument_not_a_pass(X):
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.consistency(Linear(), Linear(), st.nothing(), **FAST)
    assert exc.value.parameter == "data"
    rejecting = mt.rows_like(X).filter(lambda df: False)
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.directional(Linear(), rejecting, "income", **FAST)
    assert exc.value.parameter == "data"
    with pytest.raises(mp.ConfigurationError) as exc:
        mt.invariance(Linear(), [1, 2], lambda df: df, **FAST)
    assert exc.value.parameter == "data"


def test_directional_on_an_empty_slice_is_skipped_with_why(X):
    nowhere = lambda df: df["region"] == "west"  # noqa: E731
    result = mt.directional(Linear(), X, "income", where=nowhere, **FAST).checks[0]
    assert result.status == "skipped"
    assert "slice" in result.detail
