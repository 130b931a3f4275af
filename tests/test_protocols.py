"""Structural protocols accept real models and plain objects, without adapters."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import mlprod as mp
from mlprod import protocols


def _xy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    return X, y


def test_fitted_sklearn_classifier_is_a_probabilistic_predictor():
    X, y = _xy()
    est = LogisticRegression().fit(X, y)
    assert isinstance(est, mp.protocols.Predictor)
    assert isinstance(est, protocols.ProbabilisticPredictor)


def test_regressor_is_predictor_but_not_probabilistic():
    X, y = _xy()
    est = LinearRegression().fit(X, y)
    assert isinstance(est, protocols.Predictor)
    assert not isinstance(est, protocols.ProbabilisticPredictor)


def test_plain_objects_satisfy_protocols():
    class Sink:
        def __init__(self):
            self.items = []

        def append(self, record):
            self.items.append(record)

    assert isinstance([], protocols.AuditSink)
    assert isinstance(Sink(), protocols.AuditSink)
    assert isinstance(mp.SystemClock(), protocols.Clock)
    assert isinstance(mp.ManualClock(), protocols.Clock)
    assert not isinstance(object(), protocols.Predictor)


def test_manual_clock_moves_only_forward():
    clock = mp.ManualClock(10)
    clock.advance(2.5)
    assert clock.monotonic() == 12.5
    assert clock.time() == 12.5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
