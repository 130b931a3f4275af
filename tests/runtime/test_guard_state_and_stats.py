"""Per-guard state, frozen and rendered results, and the laws of merging GuardStats."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from guard_models import Constant, Failing, NaNs
from hypothesis import given
from hypothesis import strategies as st

import mlprod as mp
from mlprod import protocols
from mlprod.runtime.factory import guard as guard_factory
from mlprod.runtime.stats import OUTCOMES, StatsRecorder

ROW = [[1.0]]


# -- outcomes belong to the guard that produced them ----------------------------------------


def test_last_outcome_belongs_to_its_guard():
    a = mp.guard(Failing(), fallback=0.0, name="a")
    b = mp.guard(Constant(), name="b")
    a.predict(ROW)
    b.predict(ROW)
    assert a.last_outcome.outcome == "error"
    assert a.last_outcome.path == "fallback[0]:0.0"
    assert b.last_outcome.outcome == "ok"
    assert mp.guard(Constant(), name="c").last_outcome is None


def test_call_returns_its_own_outcome_even_when_another_guard_runs_after_it(testing):
    # In test mode the shadow runs inline after the answer: a guard as shadow makes a
    # call of its own, which must not become the outer call's outcome.
    shadow = mp.guard(Failing(), fallback=0.0, name="shadow")
    g = mp.guard(Constant(), shadow=shadow, name="main")
    out = g.call(ROW)
    assert (out.outcome, out.path) == ("ok", "primary")
    assert shadow.last_outcome.outcome == "error"
    assert g.last_outcome == out


def test_call_outcome_is_frozen_and_renders():
    out = mp.guard(Failing(), fallback=0.0, name="r").call(ROW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.outcome = "ok"
    assert type(out).__module__ == "mlprod"
    assert "ConnectionError: model server down" in out.summary()
    assert "- **outcome**: error" in out.to_markdown()
    assert "<h3>Guarded call" in out._repr_html_()


def test_guard_stats_render_through_the_shared_renderer_and_write_html(tmp_path):
    g = mp.guard(Failing(), fallback=0.0, name="churn")
    g.predict(ROW)
    s = g.stats()
    page = s.to_html(tmp_path / "stats.html")
    assert (tmp_path / "stats.html").read_text(encoding="utf-8") == page
    assert page.startswith("<!doctype html>")
    assert "<h3>Guard &#x27;churn&#x27;" in s.to_html()
    assert s.summary().startswith("Guard 'churn'")


def test_guard_stats_are_frozen_all_the_way_down():
    g = mp.guard(Constant(), name="f")
    g.predict(ROW)
    s = g.stats()
    with pytest.raises(TypeError):
        s.outcomes["ok"] = 99
    with pytest.raises(TypeError):
        s.shadow["runs"] = 1
    with pytest.raises(TypeError, match="read-only"):
        s.latency.record(1.0)
    g.predict(ROW)
    assert s.calls == 1
    assert s.outcomes["ok"] == 1
    assert s.latency.count == 1
    assert g.stats().calls == 2


def test_guard_signature_names_the_protocols():
    hints = typing.get_type_hints(guard_factory)
    assert protocols.Validator in typing.get_args(hints["input_schema"])
    assert protocols.ModelRef in typing.get_args(hints["model_ref"])
    assert protocols.Explainer in typing.get_args(hints["explainer"])
    assert protocols.OutputRule in typing.get_args(hints["output_check"])
    assert protocols.Predictor in typing.get_args(hints["model"])


def test_process_and_thread_executors_report_through_one_protocol(testing):
    g = mp.guard(Constant(), isolation="process", name="p")
    assert g.stats().workers_killed == 0
    assert g.stats().worker_restart_failures == 0
    g.close()


# -- merging GuardStats: associative, commutative, parts == whole ----------------------------

calls = st.lists(
    st.tuples(
        st.sampled_from(OUTCOMES),
        st.sampled_from(["primary", "fallback", "none"]),
        st.floats(min_value=0.0, max_value=5_000.0, allow_nan=False),
    ),
    max_size=30,
)
gauges = st.fixed_dictionaries(
    {
        "breaker_state": st.sampled_from([None, "closed", "half_open", "open"]),
        "in_flight": st.integers(0, 8),
        "orphans": st.integers(0, 8),
        "orphans_finished": st.integers(0, 50),
        "workers_killed": st.integers(0, 5),
        "worker_restart_failures": st.integers(0, 5),
        # whole numbers: float sums of them are exact, so equality is exact too
        "cost_spent": st.one_of(st.none(), st.integers(0, 1000).map(float)),
    }
)


def _stats(batch, gauge, *, extra=0):
    recorder = StatsRecorder()
    for outcome, answered_by, ms in batch:
        recorder.record(outcome, answered_by, ms)
    for _ in range(extra):
        recorder.count_audit_error()
        recorder.count_cost_error()
        recorder.count_explanation(failed=False)
        recorder.count_shadow("runs")
    return recorder.snapshot(name="g", **gauge)


def _comparable(s):
    d = s.to_dict()
    d["histogram"].pop("total_ms")  # a float sum: exact only up to the order of addition
    d["latency_ms"].pop("mean")
    return d, s.latency


@given(calls, calls, gauges, gauges, st.integers(0, 3))
def test_merge_is_commutative(a, b, ga, gb, extra):
    x, y = _stats(a, ga, extra=extra), _stats(b, gb)
    assert _comparable(x.merge(y)) == _comparable(y.merge(x))


@given(calls, calls, calls, gauges, gauges, gauges)
def test_merge_is_associative(a, b, c, ga, gb, gc):
    x, y, z = _stats(a, ga), _stats(b, gb, extra=1), _stats(c, gc)
    assert _comparable(x.merge(y).merge(z)) == _comparable(x.merge(y.merge(z)))


@given(calls, st.data())
def test_merging_the_stats_of_parts_gives_the_stats_of_the_whole(batch, data):
    cut = data.draw(st.integers(0, len(batch)))
    zero = {"breaker_state": None, "in_flight": 0, "orphans": 0}
    whole = _stats(batch, zero)
    parts = _stats(batch[:cut], zero).merge(_stats(batch[cut:], zero))
    assert _comparable(parts) == _comparable(whole)
    assert parts.calls == len(batch)
    assert sum(parts.outcomes.values()) == len(batch)
    assert parts.latency == whole.latency


def test_an_empty_snapshot_is_the_identity_of_merge():
    zero = {"breaker_state": None, "in_flight": 0, "orphans": 0}
    s = _stats([("ok", "primary", 1.0), ("error", "fallback", 3.0)], zero, extra=2)
    empty = _stats([], zero)
    assert _comparable(s.merge(empty)) == _comparable(s)
    assert _comparable(empty.merge(s)) == _comparable(s)


@pytest.mark.parametrize("model", [Constant(), Failing(), NaNs(), lambda X: None])
def test_the_short_path_and_the_general_path_agree(model):
    # Without a deadline a lean guard takes its short path; an ambient deadline sends
    # the same call through admission and the executor.
    short_sink, general_sink = [], []
    short = mp.guard(model, fallback=0.0, audit=short_sink, name="same")
    general = mp.guard(model, fallback=0.0, audit=general_sink, name="same")
    a = short.call(ROW)
    with mp.deadline(ms=10_000):
        b = general.call(ROW)
    assert (a.outcome, a.answered_by, a.path, a.reason) == (
        b.outcome,
        b.answered_by,
        b.path,
        b.reason,
    )
    assert a.value.tolist() == b.value.tolist()
    strip = [{k: v for k, v in r.items() if k != "latency_ms"} for r in short_sink]
    assert strip == [{k: v for k, v in r.items() if k != "latency_ms"} for r in general_sink]
    assert short.stats().outcomes == general.stats().outcomes
    general.close()


@given(st.lists(st.floats(min_value=0.0, max_value=1e9, allow_nan=False), max_size=50))
def test_the_recorder_buckets_latencies_as_the_histogram_does(latencies):
    # StatsRecorder.record inlines the histogram's bucketing; both must agree exactly.
    recorder, histogram = StatsRecorder(), mp.LatencyHistogram()
    for ms in latencies:
        recorder.record("ok", "primary", ms)
        histogram.record(ms)
    assert recorder.latency == histogram
    assert recorder.latency.max == histogram.max


def test_stats_and_outcomes_pickle_by_their_public_name():
    import pickle

    g = mp.guard(Failing(), fallback=0.0, name="pickled")
    out = g.call(ROW)
    s = g.stats()
    payload = pickle.dumps(s)
    assert b"mlprod.runtime" not in payload
    back = pickle.loads(payload)
    assert _comparable(back) == _comparable(s)
    assert back.latency.frozen
    with pytest.raises(TypeError):
        back.outcomes["ok"] = 1
    again = pickle.loads(pickle.dumps(out))
    assert again == out
    assert again.value.tolist() == [0.0]
