"""Wrong results that look like success: the default output check, non-finite costs and
settings, and BaseException from a model, on every path."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from guard_models import Constant, Failing, Halt, RaisesBase

import mlprod as mp
from mlprod.runtime.budget import CostBudget

ROWS = [[1.0], [2.0], [3.0]]


# -- the default output check: finite, one row per input row --------------------------------


def _ragged_rows(X):
    return [[1.0, 2.0], [3.0], [4.0, 5.0]]


BAD_OUTPUTS = {
    "None": (lambda X: None, "the output is None"),
    "a scalar": (lambda X: 1.0, "single value"),
    "a numpy scalar": (lambda X: np.float64(1.0), "single value"),
    "a 0-d array": (lambda X: np.array(2.0), "single value"),
    "a string": (lambda X: "abc", "the output is a str"),
    "bytes": (lambda X: b"abc", "the output is a bytes"),
    "a generator": (lambda X: (1.0 for _ in X), "iterator (generator)"),
    "an iterator": (lambda X: iter([1.0, 2.0, 3.0]), "iterator"),
    "ragged lists": (_ragged_rows, "ragged"),
    "a list with None": (lambda X: [1.0, None, 2.0], "1 of 3 values are NaN, infinite or missing"),
    "an object array with NaN": (
        lambda X: np.array([1.0, np.nan, 2.0], dtype=object),
        "1 of 3 values are NaN, infinite or missing",
    ),
    "Decimal NaN": (
        lambda X: [Decimal("NaN"), Decimal(1), Decimal(2)],
        "1 of 3 values are NaN, infinite or missing",
    ),
    "Decimal infinity among labels": (
        lambda X: np.array(["a", Decimal("Infinity"), "c"], dtype=object),
        "1 of 3 values are NaN, infinite or missing",
    ),
    "minus infinity": (lambda X: [1.0, 2.0, -math.inf], "1 of 3 values are NaN or infinite"),
    "pd.NA in a nullable Series": (
        lambda X: pd.Series([1, pd.NA, 3], dtype="Int64"),
        "1 of 3 values are NaN",
    ),
    "pd.NA among objects": (
        lambda X: pd.Series([1, pd.NA, 3], dtype=object),
        "1 of 3 values are NaN, infinite or missing",
    ),
    "a missing label": (
        lambda X: np.array(["a", None, "c"], dtype=object),
        "1 of 3 values are NaN, infinite or missing",
    ),
    "NaT": (
        lambda X: np.array(["2024-01-01", "NaT", "2024-01-03"], dtype="datetime64[D]"),
        "missing (NaT)",
    ),
    "a dict": (lambda X: {"a": 1.0}, "mapping (dict)"),
    "too few rows": (lambda X: np.zeros(2), "2 rows for 3 input rows"),
    "a nested object array": (
        lambda X: np.array([[1.0], [2.0, 3.0], None], dtype=object),
        "ragged or nested",
    ),
    "a large array with one NaN": (
        lambda X: np.where(np.arange(len(X) * 40).reshape(len(X), 40) == 77, np.nan, 0.0),
        "1 of 120 values are NaN or infinite",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_OUTPUTS))
def test_the_default_output_check_refuses_what_is_not_finite_rows(case):
    model, reason = BAD_OUTPUTS[case]
    g = mp.guard(model, fallback=-1.0, name="check")
    out = g.call(ROWS)
    assert out.outcome == "invalid_output", out
    assert reason in out.reason
    assert out.value.tolist() == [-1.0, -1.0, -1.0]


GOOD_OUTPUTS = {
    "float array": lambda X: np.ones(len(X)),
    "int list": lambda X: [1, 2, 3],
    "2-d probabilities": lambda X: np.full((len(X), 2), 0.5),
    "text labels": lambda X: np.array(["a", "b", "c"]),
    "object labels": lambda X: np.array(["a", 2, "c"], dtype=object),
    "Decimals": lambda X: [Decimal("1.5")] * 3,
    "a Series": lambda X: pd.Series([0.1, 0.2, 0.3]),
    "a DataFrame": lambda X: pd.DataFrame({"p": [0.1, 0.2, 0.3], "label": ["a", "b", "c"]}),
    "booleans": lambda X: np.array([True, False, True]),
    "a large finite array": lambda X: np.full((len(X), 50), 1e308),
}


@pytest.mark.parametrize("case", sorted(GOOD_OUTPUTS))
def test_the_default_output_check_accepts_finite_rows(case):
    out = mp.guard(GOOD_OUTPUTS[case], fallback=-1.0).call(ROWS)
    assert (out.outcome, out.reason) == ("ok", "")


def test_rows_are_not_required_when_the_input_has_no_row_count():
    check = mp.OutputCheck()
    assert check({"a": [1, 2]}, [1.0, 2.0, 3.0]) is None
    assert check({"a": [1, 2]}, None) == "the output is None"


def test_switching_the_checks_off_lets_anything_through():
    check = mp.OutputCheck(finite=False, rows=False)
    for y in (None, "abc", [1.0, None], (v for v in [1])):
        assert check(ROWS, y) is None


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"low": 1, "high": 0}, "low"),
        ({"low": math.nan}, "low"),
        ({"high": math.inf}, "high"),
        ({"high": "1"}, "high"),
        ({"low": True}, "low"),
        ({"func": 3}, "func"),
        ({"finite": 1}, "finite"),
    ],
)
def test_output_check_settings_are_validated_when_constructed(kwargs, parameter):
    with pytest.raises(mp.ConfigurationError) as info:
        mp.OutputCheck(**kwargs)
    assert info.value.parameter == parameter


# -- costs and settings must be finite ------------------------------------------------------


def test_a_nan_cost_is_refused_and_does_not_switch_the_budget_off(testing):
    costs = iter([math.nan, 3.0, 3.0, 3.0])
    g = mp.guard(Constant(), fallback=0.0, cost=lambda X, y: next(costs), cost_budget=(5, 60))
    outcomes = [g.call([[1.0]]).outcome for _ in range(4)]
    # The NaN answer stands but is not counted; 3 + 3 then exhaust the budget of 5.
    assert outcomes == ["ok", "ok", "ok", "over_budget"]
    s = g.stats()
    assert s.cost_errors == 1
    assert s.cost_spent == 6.0


@pytest.mark.parametrize("bad", [-math.inf, math.inf, -1.0, "1", None])
def test_a_cost_function_returning_a_non_finite_or_negative_cost_is_counted_as_an_error(
    testing, bad
):
    g = mp.guard(Constant(), cost=lambda X, y: bad, cost_budget=(5, 60))
    assert g.call([[1.0]]).outcome == "ok"
    assert g.stats().cost_errors == 1
    assert g.stats().cost_spent == 0.0


@pytest.mark.parametrize("bad", [math.inf, math.nan, -1, True])
def test_a_fixed_cost_must_be_finite_and_non_negative(bad):
    with pytest.raises(mp.ConfigurationError) as info:
        mp.guard(Constant(), cost=bad, cost_budget=(5, 60))
    assert info.value.parameter == "cost"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_cost_budget_refuses_non_finite_spending(bad):
    budget = CostBudget(5, 60, clock=mp.ManualClock())
    with pytest.raises(mp.ConfigurationError, match="finite"):
        budget.spend(bad)
    with pytest.raises(mp.ConfigurationError, match="finite"):
        budget.try_spend(bad)
    assert budget.spent() == 0.0
    budget.spend(5)
    assert budget.exhausted()


@pytest.mark.parametrize("param", ["recovery_s", "window"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, True])
def test_breaker_times_must_be_finite(param, bad):
    with pytest.raises(mp.ConfigurationError) as info:
        mp.CircuitBreaker(**{param: bad})
    assert info.value.parameter == param


@pytest.mark.parametrize("bad", [math.nan, math.inf, True])
def test_budget_ms_must_be_a_finite_number(bad):
    with pytest.raises(mp.ConfigurationError):
        mp.guard(Constant(), budget_ms=bad)


# -- BaseException: counted, audited, then propagated, on every path --------------------------


def _assert_counted_and_audited(g, sink, fallback, exc_type, *, same_context=True):
    s = g.stats()
    assert s.calls == 1
    assert s.outcomes["error"] == 1
    assert s.answered_by["none"] == 1
    assert fallback.calls == 0  # no fallback runs after a BaseException
    records = [r for r in sink if r.get("event") == "guard.call"]
    assert len(records) == 1
    assert records[0]["outcome"] == "error"
    assert records[0]["answered_by"] == "none"
    assert records[0]["reason"].startswith(f"{exc_type.__name__} ended the call")
    if same_context:  # asyncio.run's task has a context of its own
        assert g.last_outcome.outcome == "error"


def _guard(model, sink, fallback, **kwargs):
    return mp.guard(model, fallback=fallback, audit=sink, name="fatal", **kwargs)


def test_base_exception_in_test_mode(testing):
    sink, fallback = [], Failing()
    g = _guard(RaisesBase(), sink, fallback, budget_ms=100)
    with pytest.raises(Halt):
        g.predict([[1.0]])
    _assert_counted_and_audited(g, sink, fallback, Halt)


@pytest.mark.parametrize("exit", [False, True])
def test_base_exception_in_the_callers_thread(exit):
    sink, fallback = [], Failing()
    g = _guard(RaisesBase(exit=exit), sink, fallback)
    with pytest.raises(SystemExit if exit else Halt):
        g.predict([[1.0]])
    _assert_counted_and_audited(g, sink, fallback, SystemExit if exit else Halt)


def test_base_exception_on_the_executor_thread():
    sink, fallback = [], Failing()
    g = _guard(RaisesBase(), sink, fallback, budget_ms=5_000)
    with pytest.raises(Halt):
        g.predict([[1.0]])
    _assert_counted_and_audited(g, sink, fallback, Halt)
    assert g.stats().in_flight == 0
    g.close()


def test_base_exception_from_apredict():
    sink, fallback = [], Failing()
    g = _guard(RaisesBase(), sink, fallback, budget_ms=5_000)
    with pytest.raises(Halt):
        asyncio.run(g.apredict([[1.0]]))
    _assert_counted_and_audited(g, sink, fallback, Halt, same_context=False)
    g.close()


def test_base_exception_from_a_worker_process():
    sink, fallback = [], Failing()
    with _guard(RaisesBase(), sink, fallback, budget_ms=30_000, isolation="process") as g:
        with pytest.raises(Halt):
            g.predict([[1.0]])
        _assert_counted_and_audited(g, sink, fallback, Halt)
        # The worker survived: it sent the exception back instead of dying.
        assert g.stats().workers_killed == 0


def test_base_exception_gives_a_half_open_probe_back_and_refunds_its_cost(testing):
    breaker = mp.CircuitBreaker(failure_threshold=1, recovery_s=10, clock=testing)
    breaker.record_failure(breaker.allow())
    testing.advance(10)
    g = mp.guard(RaisesBase(), breaker=breaker, cost=2, cost_budget=(10, 60))
    with pytest.raises(Halt):
        g.predict([[1.0]])
    assert breaker.state == "half_open"
    assert breaker.allow() == "probe"  # the probe slot came back
    assert g.stats().cost_spent == 0.0


def test_base_exception_from_a_fallback_is_counted_and_keeps_the_primarys_outcome():
    sink = []
    g = mp.guard(Failing(), fallback=RaisesBase(), audit=sink, name="fb")
    with pytest.raises(Halt):
        g.predict([[1.0]])
    s = g.stats()
    assert (s.calls, s.outcomes["error"], s.answered_by["none"]) == (1, 1, 1)
    assert sink[0]["reason"].startswith("ConnectionError: model server down; then Halt ended")
