"""Explanations on the audit trail: sampled calls carry their top contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from guard_models import Constant, Failing

import mlprod as mp

WEIGHTS = np.array([0.5, -2.0, 0.1])


class LinearExplainer:
    """Contributions of a linear model: weight × value (SHAP's, with a zero background)."""

    feature_names = ("age", "income", "tenure")

    def __init__(self):
        self.calls = 0

    def explain_rows(self, X):
        self.calls += 1
        return np.asarray(X, dtype=float) * WEIGHTS


class Broken(LinearExplainer):
    def explain_rows(self, X):
        self.calls += 1
        raise RuntimeError("background not loaded")


class WrongShape(LinearExplainer):
    def explain_rows(self, X):
        return np.zeros((len(X), 2))


def _records(sink):
    return [r for r in sink if r.get("event") == "guard.call"]


def test_every_nth_primary_answer_is_explained_with_its_top_contributions():
    sink, ex = [], LinearExplainer()
    g = mp.guard(Constant(), audit=sink, explainer=ex, explain_every=3, explain_top=2)
    X = [[30.0, 1.5, 4.0]]
    for _ in range(7):
        g.predict(X)
    records = _records(sink)
    explained = [i for i, r in enumerate(records) if "explanation" in r]
    assert explained == [2, 5]
    assert ex.calls == 2  # unsampled calls never reach the explainer
    exp = records[2]["explanation"]
    assert exp["top"] == 2
    assert exp["explainer"] == "LinearExplainer"
    # |contributions| = 15, 3, 0.4: age first, then income
    assert exp["rows"] == [
        [
            {"feature": "age", "value": 30.0, "contribution": 15.0},
            {"feature": "income", "value": 1.5, "contribution": -3.0},
        ]
    ]
    assert g.stats().explanations == 2


def test_each_row_of_a_frame_is_explained_by_column_name():
    sink = []
    # Columns in another order than the explainer's: values are matched by name.
    X = pd.DataFrame({"tenure": [1.0, 2.0], "income": [3.0, 0.0], "age": [0.0, 10.0]})

    class ByName(LinearExplainer):
        def explain_rows(self, X):
            return X[list(self.feature_names)].to_numpy() * WEIGHTS

    g = mp.guard(Constant(), audit=sink, explainer=ByName(), explain_every=1, explain_top=3)
    g.predict(X)
    rows = _records(sink)[-1]["explanation"]["rows"]
    assert [c["feature"] for c in rows[0]] == ["income", "tenure", "age"]
    assert rows[0][0] == {"feature": "income", "value": 3.0, "contribution": -6.0}
    assert rows[1][0] == {"feature": "age", "value": 10.0, "contribution": 5.0}
    assert rows[1][2]["contribution"] == 0.0


def test_a_sampling_rate_is_seeded_and_reproducible():
    def explained(seed):
        sink = []
        g = mp.guard(
            Constant(),
            audit=sink,
            explainer=LinearExplainer(),
            explain_rate=0.3,
            explain_seed=seed,
        )
        for _ in range(200):
            g.predict([[1.0, 2.0, 3.0]])
        return [i for i, r in enumerate(_records(sink)) if "explanation" in r]

    first, again, other = explained(7), explained(7), explained(8)
    assert first == again
    assert first != other
    assert 30 <= len(first) <= 90  # about 60 of 200


def test_a_failing_explainer_never_fails_the_prediction():
    sink, ex = [], Broken()
    g = mp.guard(Constant(2.0), audit=sink, explainer=ex, explain_every=1)
    assert g.predict([[1.0, 2.0, 3.0]]).tolist() == [2.0]
    assert g.last_outcome.outcome == "ok"
    record = _records(sink)[0]
    assert record["explanation"] == {
        "explainer": "Broken",
        "error": "RuntimeError: background not loaded",
    }
    s = g.stats()
    assert (s.explanations, s.explain_errors, s.audit_errors) == (0, 1, 0)


def test_contributions_of_the_wrong_shape_are_noted_not_raised():
    sink = []
    g = mp.guard(Constant(), audit=sink, explainer=WrongShape(), explain_every=1)
    g.predict([[1.0, 2.0, 3.0]])
    assert "shape (1, 2)" in _records(sink)[0]["explanation"]["error"]
    assert g.stats().explain_errors == 1


def test_answers_of_a_fallback_are_not_explained():
    sink, ex = [], LinearExplainer()
    g = mp.guard(Failing(), fallback=0.0, audit=sink, explainer=ex, explain_every=1)
    g.predict([[1.0, 2.0, 3.0]])
    assert "explanation" not in _records(sink)[0]
    assert ex.calls == 0


def test_the_records_with_explanations_verify_in_a_real_audit_log(tmp_path):
    path = tmp_path / "audit.jsonl"
    with mp.AuditLog(path) as log:
        g = mp.guard(Constant(), audit=log, explainer=LinearExplainer(), explain_every=2)
        for _ in range(4):
            g.predict([[np.nan, 2.0, 3.0]])
    records = [r["record"] for r in mp.read_audit_log(path)]
    explained = [r for r in records if "explanation" in r]
    assert len(explained) == 2
    # NaN input values and contributions are recorded as null, ranked last
    assert explained[0]["explanation"]["rows"][0][-1] == {
        "feature": "age",
        "value": None,
        "contribution": None,
    }
    assert mp.verify_audit_log(path).ok


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"explain_every": 2}, "explainer"),  # no audit to write into
        ({"audit": [], "explain_every": 0}, "explain_every"),
        ({"audit": [], "explain_every": True}, "explain_every"),
        ({"audit": [], "explain_rate": 1.5}, "explain_rate"),
        ({"audit": [], "explain_rate": 0.0}, "explain_rate"),
        ({"audit": [], "explain_every": 2, "explain_rate": 0.5}, "explain_every"),
        ({"audit": []}, "explain_every"),
        ({"audit": [], "explain_every": 1, "explain_top": 0}, "explain_top"),
    ],
)
def test_explanation_settings_are_checked_when_the_guard_is_built(kwargs, parameter):
    with pytest.raises(mp.ConfigurationError) as info:
        mp.guard(Constant(), explainer=LinearExplainer(), **kwargs)
    assert info.value.parameter == parameter


def test_sampling_settings_without_an_explainer_are_refused():
    with pytest.raises(mp.ConfigurationError, match="no explainer"):
        mp.guard(Constant(), audit=[], explain_every=2)


def test_an_object_without_the_protocol_is_refused():
    with pytest.raises(mp.ConfigurationError, match="feature_names and explain_rows"):
        mp.guard(Constant(), audit=[], explainer=object(), explain_every=1)
