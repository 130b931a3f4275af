"""mp.gates: one namespace for the registry's, the fairness and the behaviour gates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlprod as mp

pytest.importorskip("sklearn")
pytest.importorskip("fairlearn")


class _ByGroup:
    """Selects everyone in group "a" and a quarter of group "b"."""

    def __init__(self, rate_b: float) -> None:
        self.rate_b = rate_b

    def predict(self, X):
        X = pd.DataFrame(X)
        keep_b = (X["i"] % 100) < 100 * self.rate_b
        return np.where(X["g"] == "a", 1, keep_b.astype(int)).astype(int)


@pytest.fixture
def setting(tmp_path):
    n = 2_000
    X = pd.DataFrame({"i": np.arange(n), "g": np.where(np.arange(n) % 2 == 0, "a", "b")})
    y = np.ones(n, dtype=int)
    reg = mp.ModelRegistry(tmp_path / "reg")
    biased = reg.register("m", _ByGroup(0.25), actor="ana")
    fair = reg.register("m", _ByGroup(1.0), actor="ana")
    return X, y, reg, biased, fair


def test_the_namespace_holds_every_gate():
    for name in (
        "metric_threshold",
        "beats_current",
        "signature_compatible",
        "four_eyes",
        "fairness",
        "behaviour",
        "Verdict",
    ):
        assert callable(getattr(mp.gates, name)), name


def test_fairness_gate_refuses_the_biased_candidate_with_the_report_as_evidence(setting):
    X, y, reg, biased, fair = setting
    gate = mp.gates.fairness(
        X,
        y,
        sensitive_features=X["g"],
        load=reg.load,
        min_ratio=0.8,
        metrics=["selection_rate"],
        n_boot=50,
        random_state=0,
    )
    with pytest.raises(mp.GateFailed) as info:
        reg.set_alias("m", "production", biased.version, gates=[gate], actor="bo")
    verdict = info.value.verdicts[0]
    assert verdict.gate == "fairness"
    assert not verdict.passed
    assert "selection_rate" in str(verdict.to_dict()["evidence"])
    change = reg.set_alias("m", "production", fair.version, gates=[gate], actor="bo")
    assert change.version == fair.version
    assert reg.verify().ok


def test_fairness_gate_needs_a_loader_and_a_threshold(setting):
    X, y, reg, _, _ = setting
    with pytest.raises(mp.ConfigurationError, match="load="):
        mp.gates.fairness(X, y, sensitive_features=X["g"], load=None, min_ratio=0.8)
    with pytest.raises(mp.ConfigurationError, match="threshold"):
        mp.gates.fairness(X, y, sensitive_features=X["g"], load=reg.load)


def test_behaviour_gate_runs_the_suite_on_the_candidate(setting):
    pytest.importorskip("hypothesis")
    import mlprod.testing as mt

    X, _, reg, _, fair = setting
    gate = mp.gates.behaviour(
        lambda m: mt.check_predictor(
            m, X.head(20), checks=["one_row"], max_examples=5, database=False
        ),
        load=reg.load,
    )
    change = reg.set_alias("m", "staging", fair.version, gates=[gate], actor="bo")
    assert change.verdicts[0]["evidence"]["report"]["counts"]["passed"] == 1
