"""The order of defence and the outcome of every kind of call."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from guard_models import (
    AdvancesClock,
    Classifier,
    Constant,
    Failing,
    FakeSchema,
    Hanging,
    NaNs,
    Ref,
)

import mlprod as mp

ROW = [[1.0, 2.0]]


def test_ok_path_returns_the_primary_answer_and_records_it():
    g = mp.guard(Constant(7.0), fallback=0.0, budget_ms=1000)
    assert g.predict(ROW).tolist() == [7.0]
    out = g.last_outcome
    assert (out.outcome, out.answered_by, out.path, out.reason) == ("ok", "primary", "primary", "")
    assert g.stats().outcomes["ok"] == 1


def test_failing_primary_falls_back_with_outcome_error():
    model = Failing()
    g = mp.guard(model, fallback=Constant(0.5))
    assert g.predict(ROW).tolist() == [0.5]
    out = g.last_outcome
    assert out.outcome == "error"
    assert out.path == "fallback[0]:Constant"
    assert "ConnectionError: model server down" in out.reason


def test_failing_primary_without_fallback_raises_its_own_error():
    g = mp.guard(Failing(ValueError("bad row")))
    with pytest.raises(ValueError, match="bad row"):
        g.predict(ROW)
    assert g.stats().answered_by["none"] == 1


def test_nan_output_is_invalid_and_goes_to_fallback():
    g = mp.guard(NaNs(), fallback=-1.0)
    assert g.predict([[1.0], [2.0]]).tolist() == [-1.0, -1.0]
    assert g.last_outcome.outcome == "invalid_output"
    assert g.last_outcome.reason == "1 of 2 values are NaN or infinite"


def test_nan_output_without_fallback_raises_schema_error():
    with pytest.raises(mp.SchemaError, match="NaN or infinite"):
        mp.guard(NaNs()).predict(ROW)


def test_wrong_number_of_rows_is_invalid_output():
    g = mp.guard(lambda X: [1, 2, 3], fallback=0)
    g.predict(ROW)
    assert g.last_outcome.outcome == "invalid_output"
    assert "3 rows for 1 input rows" in g.last_outcome.reason


def test_range_and_user_output_checks():
    g = mp.guard(Constant(2.0), fallback=0.5, output_check=mp.OutputCheck(low=0, high=1))
    assert g.predict(ROW).tolist() == [0.5]
    assert g.last_outcome.reason == "1 of 1 values are outside [0, 1]"

    def positive(X, y):
        return bool((np.asarray(y) > 0).all())

    g2 = mp.guard(Constant(-3.0), fallback=1.0, output_check=positive)
    assert g2.predict(ROW).tolist() == [1.0]
    assert g2.last_outcome.reason == "the output check 'positive' returned False"


def test_invalid_input_never_reaches_the_primary():
    model = Failing()
    g = mp.guard(model, input_schema=FakeSchema(width=2), fallback=0)
    g.predict([[1.0, 2.0, 3.0]])
    assert g.last_outcome.outcome == "invalid_input"
    assert model.calls == 0


def test_invalid_input_without_fallback_raises_schema_error_with_report():
    g = mp.guard(Constant(), input_schema=FakeSchema(width=2))
    with pytest.raises(mp.SchemaError) as info:
        g.predict([[1.0]])
    assert info.value.report.failures == [0]


def test_fallback_chain_tries_in_order():
    def broken(X):
        raise RuntimeError("also down")

    g = mp.guard(Failing(), fallback=[broken, Failing(), Constant(3.0), 9.0])
    assert g.predict(ROW).tolist() == [3.0]
    assert g.last_outcome.path == "fallback[2]:Constant"


def test_all_fallbacks_failing_raises_primary_error_with_notes():
    def broken(X):
        raise RuntimeError("also down")

    g = mp.guard(Failing(KeyError("x")), fallback=[broken])
    with pytest.raises(KeyError) as info:
        g.predict(ROW)
    assert any("fallback[0]:broken failed" in note for note in info.value.__notes__)


def test_notes_do_not_pile_up_on_an_exception_the_model_raises_again():
    def broken(X):
        raise RuntimeError("also down")

    g = mp.guard(Failing(), fallback=[broken])  # Failing raises one stored instance
    for _ in range(3):
        with pytest.raises(ConnectionError) as info:
            g.predict(ROW)
    assert info.value.__notes__ == ["fallback[0]:broken failed: RuntimeError: also down"]


def test_constant_fallback_broadcasts_to_rows_and_shapes():
    g = mp.guard(Failing(), fallback=(0.5, 0.5))
    assert g.predict([[1], [2], [3]]).tolist() == [[0.5, 0.5]] * 3


def test_predict_proba_is_offered_only_when_the_model_has_it():
    assert not hasattr(mp.guard(Constant()), "predict_proba")
    g = mp.guard(Classifier(), fallback=Constant())
    assert isinstance(g, mp.protocols.ProbabilisticPredictor)
    assert g.predict_proba(ROW).tolist() == [[0.25, 0.75]]


def test_predict_proba_fallback_skips_models_without_it():
    class BadProba(Classifier):
        def predict_proba(self, X):
            raise RuntimeError("down")

    g = mp.guard(BadProba(), fallback=[Constant(), Classifier()])
    assert g.predict_proba(ROW).tolist() == [[0.25, 0.75]]
    assert g.last_outcome.path == "fallback[1]:Classifier"


def test_guards_nest_as_fallbacks():
    inner = mp.guard(Failing(), fallback=4.0, name="inner")
    outer = mp.guard(Failing(), fallback=inner, name="outer")
    assert outer.predict(ROW).tolist() == [4.0]
    assert outer.last_outcome.path == "fallback[0]:inner"


def test_timeout_in_testing_mode_is_judged_on_the_manual_clock(testing):
    g = mp.guard(AdvancesClock(testing, 0.2), fallback=0, budget_ms=100)
    assert g.predict(ROW).tolist() == [0]
    assert g.last_outcome.outcome == "timeout"
    assert g.last_outcome.latency_ms == pytest.approx(200.0)
    fast = mp.guard(AdvancesClock(testing, 0.05), fallback=0, budget_ms=100)
    assert fast.predict(ROW).tolist() == [1.0]
    assert fast.thread_count == 0  # test mode starts no threads


def test_timeout_without_fallback_raises_budget_exceeded(testing):
    g = mp.guard(AdvancesClock(testing, 1.0), budget_ms=100)
    with pytest.raises(mp.BudgetExceeded) as info:
        g.predict(ROW)
    assert info.value.budget_ms == pytest.approx(100.0)
    assert info.value.elapsed_ms == pytest.approx(1000.0)


def test_slow_primary_times_out_for_real_and_answers_at_once(release):
    g = mp.guard(Hanging(release), fallback=-1.0, budget_ms=20)
    assert g.predict(ROW).tolist() == [-1.0]  # returning at all: it did not wait for the model
    out = g.last_outcome
    assert out.outcome == "timeout"
    assert out.latency_ms > 10  # it did wait for the budget
    assert g.stats().orphans == 1


def test_hanging_primary_orphans_hold_slots_then_calls_are_shed(release):
    model = Hanging(release)
    g = mp.guard(model, fallback=0, budget_ms=10, max_in_flight=3, name="hang")
    outcomes = [g.call(ROW).outcome for _ in range(10)]
    assert outcomes[:3] == ["timeout"] * 3
    assert outcomes[3:] == ["shed"] * 7
    stats = g.stats()
    assert (stats.in_flight, stats.orphans, model.started) == (3, 3, 3)
    assert g.thread_count == 3
    release.set()
    for _ in range(1000):
        if g.stats().orphans == 0:
            break
        threading.Event().wait(0.01)
    stats = g.stats()
    assert (stats.in_flight, stats.orphans, stats.orphans_finished) == (0, 0, 3)
    # The slots are back. (Not asserting "ok": a loaded machine may miss a 10 ms budget.)
    assert g.call(ROW).outcome != "shed"
    assert g.thread_count == 3  # finished threads are reused, never added


def test_shed_without_fallback_raises_unavailable(release):
    g = mp.guard(Hanging(release), budget_ms=5, max_in_flight=1)
    with pytest.raises(mp.BudgetExceeded):
        g.predict(ROW)
    with pytest.raises(mp.Unavailable) as info:
        g.predict(ROW)
    assert info.value.outcome == "shed"


def test_late_exception_of_an_orphan_is_logged(release):
    from structlog.testing import capture_logs

    g = mp.guard(Hanging(release, fail_after=True), fallback=0, budget_ms=5, max_in_flight=1)

    def late():
        return [e for e in logs if "after the guard had answered" in e["event"]]

    with capture_logs() as logs:
        g.predict(ROW)
        release.set()
        for _ in range(500):
            if late():
                break
            threading.Event().wait(0.01)
    late = late()
    assert late
    assert late[0]["error"] == "RuntimeError: late failure"


def test_thread_count_never_exceeds_the_bound_under_many_callers(release):
    model = Hanging(release)
    g = mp.guard(model, fallback=0, budget_ms=5, max_in_flight=4, name="many")
    seen = []

    def hammer():
        for _ in range(25):
            seen.append(g.call(ROW).outcome)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 200
    assert set(seen) <= {"timeout", "shed"}
    assert seen.count("timeout") == 4
    workers = [t for t in threading.enumerate() if t.name.startswith("mlprod-guard-many-")]
    assert len(workers) == g.thread_count == 4
    stats = g.stats()
    assert stats.calls == 200
    assert stats.outcomes["shed"] == 196
    assert stats.fallback_rate == 1.0


def test_concurrent_ok_calls_from_many_threads_are_all_counted():
    g = mp.guard(Constant(1.0), budget_ms=2000, max_in_flight=4)
    errors, answers, shed = [], [], []

    def work():
        for _ in range(50):
            try:
                answers.append(g.predict(ROW).tolist())
            except mp.Unavailable as exc:  # all 4 slots busy and no fallback
                shed.append(exc.outcome)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = g.stats()
    assert not errors
    assert answers == [[1.0]] * len(answers)
    assert set(shed) <= {"shed"}
    assert len(answers) == stats.outcomes["ok"]
    assert len(shed) == stats.outcomes["shed"]
    assert stats.calls == 400
    assert stats.outcomes["ok"] + stats.outcomes["shed"] == 400
    assert g.thread_count <= 4


def test_no_budget_runs_inline_and_still_bounds_in_flight(release):
    entered = threading.Event()

    class Blocks:
        def predict(self, X):
            entered.set()
            release.wait()
            return [1]

    g = mp.guard(Blocks(), fallback=0, max_in_flight=1)
    t = threading.Thread(target=g.predict, args=(ROW,), daemon=True)
    t.start()
    assert entered.wait(5)
    assert g.predict(ROW).tolist() == [0]
    assert g.last_outcome.outcome == "shed"
    release.set()
    t.join(5)
    assert g.thread_count == 0


def test_audit_record_per_call(tmp_path):
    path = tmp_path / "audit.jsonl"
    with mp.AuditLog(path) as log:
        g = mp.guard(Failing(), fallback=0.0, audit=log, model_ref=Ref(), name="churn")
        g.predict(np.array([[1.0, 2.0]]))
        g2 = mp.guard(Constant(2.0), audit=log, record_inputs=True, name="plain")
        g2.predict([[3.0]])
    records = [r["record"] for r in mp.read_audit_log(path)]
    assert mp.verify_audit_log(path).ok
    first, second = records
    assert first["event"] == "guard.call"
    assert first["model"] == {"name": "churn", "version": 3, "digest": "ab" * 32}
    assert first["outcome"] == "error"
    assert first["answered_by"] == "fallback"
    assert first["path"] == "fallback[0]:0.0"
    assert first["output"] == {"shape": [1], "values": [0.0]}
    assert first["input_fp"].startswith("xxh3:")
    assert "input" not in first
    assert first["rows"] == 1
    assert first["latency_ms"] >= 0
    assert second["input"] == [[3.0]]
    assert second["model"] is None


def test_audit_fingerprint_is_stable_and_content_based(tmp_path):
    log = []

    class Sink:
        def append(self, record):
            log.append(record)

    g = mp.guard(Constant(), audit=Sink())
    g.predict(np.array([[1.0, 2.0]]))
    g.predict(np.array([[1.0, 2.0]]))
    g.predict(np.array([[1.0, 2.5]]))
    fps = [r["input_fp"] for r in log]
    assert fps[0] == fps[1] != fps[2]


def test_request_id_from_structlog_contextvars():
    import structlog

    log = []

    class Sink:
        def append(self, record):
            log.append(record)

    g = mp.guard(Constant(), audit=Sink())
    with structlog.contextvars.bound_contextvars(request_id="req-42"):
        g.predict(ROW)
    g.predict(ROW)
    assert log[0]["request_id"] == "req-42"
    assert "request_id" not in log[1]


def test_a_failing_audit_sink_does_not_fail_the_call():
    class Broken:
        def append(self, record):
            raise OSError("disk full")

    g = mp.guard(Constant(5.0), audit=Broken())
    assert g.predict(ROW).tolist() == [5.0]
    assert g.audit_errors == 1


def test_audit_errors_from_many_threads_are_all_counted_in_stats():
    class Broken:
        def append(self, record):
            raise OSError("disk full")

    g = mp.guard(Constant(5.0), audit=Broken(), name="churn")
    threads = [
        threading.Thread(target=lambda: [g.predict(ROW) for _ in range(200)]) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = g.stats()
    assert stats.audit_errors == g.audit_errors == 1600
    assert stats.to_dict()["audit_errors"] == 1600
    assert stats.merge(stats).audit_errors == 3200
    assert 'mlprod_guard_audit_errors_total{guard="churn"} 1600' in stats.to_prometheus()
    assert "audit records lost" in stats.summary()


def test_nan_output_is_audited_without_breaking_json(tmp_path):
    with mp.AuditLog(tmp_path / "a.jsonl") as log:
        # Fallbacks are the trusted answer: their output is returned unchecked.
        g = mp.guard(NaNs(), fallback=[lambda X: np.array([math.nan])], audit=log)
        assert math.isnan(g.predict(ROW)[0])
    assert mp.verify_audit_log(tmp_path / "a.jsonl").records == 1
    (entry,) = mp.read_audit_log(tmp_path / "a.jsonl")
    assert entry["record"]["output"] == {"shape": [1], "values": [None]}


def test_bad_configuration_is_rejected_with_the_parameter_named():
    with pytest.raises(mp.ConfigurationError) as info:
        mp.guard(Constant(), budget_ms=-5)
    assert info.value.parameter == "budget_ms"
    with pytest.raises(mp.ConfigurationError, match="isolation"):
        mp.guard(Constant(), isolation="fiber")
    with pytest.raises(mp.ConfigurationError, match="predict"):
        mp.guard(object())
    with pytest.raises(mp.ConfigurationError, match="go together"):
        mp.guard(Constant(), cost=1.0)
    with pytest.raises(mp.ConfigurationError, match="name, version and digest"):
        mp.guard(Constant(), model_ref=object())


def test_outcome_repr_is_short_and_rounded(testing):
    g = mp.guard(AdvancesClock(testing, 0.0123456), fallback=0)
    assert repr(g.call(ROW)) == (
        "CallOutcome(outcome='ok', answered_by='primary', path='primary', latency_ms=12.3)"
    )
    failing = mp.guard(Failing(), fallback=0)
    assert "reason='ConnectionError: model server down'" in repr(failing.call(ROW))


def test_policy_and_repr_are_readable():
    g = mp.guard(Constant(), fallback=[0.0], budget_ms=50, name="churn")
    assert g.policy.to_dict()["fallbacks"] == ["0.0"]
    assert repr(g).startswith("Guard(name='churn', budget_ms=50")
    with g:
        pass


def test_a_schema_that_raises_counts_as_invalid_input():
    class Picky:
        def validate(self, X):
            raise TypeError("expected a DataFrame")

    g = mp.guard(Constant(), input_schema=Picky(), fallback=0)
    g.predict(ROW)
    assert g.last_outcome.outcome == "invalid_input"
    assert "TypeError: expected a DataFrame" in g.last_outcome.reason


def test_an_output_check_that_raises_counts_as_invalid_output():
    def explodes(X, y):
        raise ValueError("boom")

    g = mp.guard(Constant(), output_check=explodes, fallback=0)
    g.predict(ROW)
    assert g.last_outcome.outcome == "invalid_output"
    assert g.last_outcome.reason == "the output check raised ValueError: boom"


def test_a_mapping_input_is_not_mistaken_for_rows():
    g = mp.guard(lambda X: [1, 2, 3], fallback=0)
    assert g.predict({"a": [1, 2, 3], "b": [4, 5, 6]}) == [1, 2, 3]
    assert g.last_outcome.outcome == "ok"


def test_a_closed_guard_says_so():
    g = mp.guard(Constant(), fallback=0, budget_ms=100)
    g.close()
    with pytest.raises(mp.ConfigurationError, match="is closed"):
        g.predict(ROW)


@pytest.mark.parametrize("mode", ["inline", "thread", "no_budget"])
def test_calling_a_method_the_model_lacks_is_a_configuration_error(mode, clock):
    budget = None if mode == "no_budget" else 1000
    with mp.set_guard_testing(mode == "inline", clock=clock):
        g = mp.guard(Constant(), fallback=0.0, budget_ms=budget, name="churn")
        with pytest.raises(mp.ConfigurationError, match=r"no predict_proba\(\)") as info:
            g.call(ROW, method="predict_proba")
    assert (info.value.parameter, info.value.value) == ("method", "predict_proba")
    assert "predict()" in str(info.value)  # what the model does offer
    assert g.stats().calls == 0  # a mistake in the caller is not a failure of the model


def test_acall_with_a_method_the_model_lacks_is_a_configuration_error():
    import asyncio

    g = mp.guard(Constant(), fallback=0.0, budget_ms=1000)
    with pytest.raises(mp.ConfigurationError, match="decision_function"):
        asyncio.run(g.acall(ROW, method="decision_function"))
