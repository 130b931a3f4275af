"""asyncio calls, cost budgets, shadow mode, statistics and the test switch."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
import threading
import time

import numpy as np
import pytest
from guard_models import Classifier, Constant, Failing, Hanging, NaNs, Sleepy
from hypothesis import given
from hypothesis import strategies as st

import mlprod as mp
from mlprod.runtime.histogram import LatencyHistogram
from mlprod.runtime.stats import prometheus_text

ROW = [[1.0]]


# -- asyncio ------------------------------------------------------------------------------


def test_apredict_ok_and_fallback():
    async def main():
        ok = mp.guard(Constant(2.0), budget_ms=2000)
        bad = mp.guard(Failing(), fallback=0.0)
        return (await ok.apredict(ROW)).tolist(), (await bad.apredict(ROW)).tolist()

    assert asyncio.run(main()) == ([2.0], [0.0])


def test_apredict_hanging_primary_does_not_block_the_loop(release):
    g = mp.guard(Hanging(release), fallback=-1.0, budget_ms=30, max_in_flight=2)

    async def ticker(stop):
        ticks = 0
        while not stop.is_set():
            await asyncio.sleep(0.001)
            ticks += 1
        return ticks

    async def main():
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(stop))
        results = await asyncio.gather(*(g.acall(ROW) for _ in range(5)))
        stop.set()
        return results, await tick

    results, ticks = asyncio.run(main())
    assert sorted(r.outcome for r in results) == ["shed"] * 3 + ["timeout"] * 2
    assert all(r.value.tolist() == [-1.0] for r in results)
    assert ticks > 0  # the loop kept running while the primary hung
    assert g.stats().orphans == 2


def test_apredict_respects_ambient_deadline_and_proba():
    async def main():
        g = mp.guard(Sleepy(0.5), fallback=7.0)
        async with mp.deadline(ms=20):
            first = (await g.apredict(ROW)).tolist()
        c = mp.guard(Classifier(), budget_ms=2000)
        return first, g.last_outcome.outcome, (await c.apredict_proba(ROW)).tolist()

    assert asyncio.run(main()) == ([7.0], "timeout", [[0.25, 0.75]])


def test_async_fallback_guard_is_awaited():
    async def main():
        inner = mp.guard(Failing(), fallback=3.0, name="inner")
        outer = mp.guard(NaNs(), fallback=inner)
        return (await outer.apredict(ROW)).tolist(), inner.stats().calls

    assert asyncio.run(main()) == ([3.0], 1)


def test_apredict_in_testing_mode_runs_inline(testing):
    g = mp.guard(Constant(4.0), budget_ms=10)
    assert asyncio.run(g.apredict(ROW)).tolist() == [4.0]
    assert g.thread_count == 0


# -- cost budgets -------------------------------------------------------------------------


def test_cost_budget_routes_to_fallback_when_spent(testing):
    g = mp.guard(
        Constant(1.0),
        fallback=Constant(0.0),
        cost=lambda X, y: 0.25 * len(X),
        cost_budget=(1.0, 60),
    )
    outcomes = [g.call([[1.0], [2.0]]).outcome for _ in range(3)]
    assert outcomes == ["ok", "ok", "over_budget"]
    assert g.stats().cost_spent == pytest.approx(1.0)
    testing.advance(61)
    assert g.call(ROW).outcome == "ok"


def test_over_budget_without_fallback_raises_budget_exceeded(testing):
    g = mp.guard(Constant(), cost=5, cost_budget=(5, 10))
    g.predict(ROW)
    with pytest.raises(mp.BudgetExceeded) as info:
        g.predict(ROW)
    # A cost budget carries cost amounts in its own unit, never in the millisecond fields.
    err = info.value
    assert (err.limit, err.spent, err.unit) == (5.0, 5.0, "cost per 10 s")
    assert err.budget_ms is None
    assert err.elapsed_ms is None


def test_concurrent_calls_cannot_overshoot_a_fixed_cost_budget(release):
    entered = []

    class Paid:
        def predict(self, X):
            entered.append(1)
            release.wait()
            return [1.0] * len(X)

    g = mp.guard(Paid(), fallback=0.0, cost=1.0, cost_budget=(2, 3600))
    outcomes = []
    callers = [
        threading.Thread(target=lambda: outcomes.append(g.call(ROW).outcome)) for _ in range(4)
    ]
    for t in callers:
        t.start()
    deadline = time.monotonic() + 30
    while len(entered) + len(outcomes) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for t in callers:
        t.join(30)
    assert sorted(outcomes) == ["ok", "ok", "over_budget", "over_budget"]
    assert g.stats().cost_spent == 2.0


def test_a_cost_that_is_neither_a_number_nor_a_function_is_refused():
    with pytest.raises(mp.ConfigurationError, match="non-negative number or a callable"):
        mp.guard(Constant(), cost="0.1", cost_budget=(1, 60))


def test_failed_calls_cost_nothing(testing):
    g = mp.guard(Failing(), fallback=0, cost=1.0, cost_budget=(1.0, 60))
    assert [g.call(ROW).outcome for _ in range(3)] == ["error"] * 3
    assert g.stats().cost_spent == 0.0


# -- shadow mode --------------------------------------------------------------------------


def test_shadow_records_disagreements_without_changing_answers(testing, tmp_path):
    class Challenger:
        def predict(self, X):
            return np.array([1.0 if row[0] > 0 else 9.0 for row in X])

    with mp.AuditLog(tmp_path / "a.jsonl") as log:
        g = mp.guard(Constant(1.0), shadow=Challenger(), audit=log)
        assert g.predict([[1.0], [2.0]]).tolist() == [1.0, 1.0]
        assert g.predict([[1.0], [-2.0]]).tolist() == [1.0, 1.0]
    shadow = g.stats().shadow
    assert shadow == {"runs": 2, "disagreements": 1, "errors": 0, "dropped": 0}
    events = [r["record"] for r in mp.read_audit_log(tmp_path / "a.jsonl")]
    (dis,) = [e for e in events if e["event"] == "guard.shadow_disagreement"]
    assert dis["rows_disagreeing"] == 1
    assert dis["challenger_output"] == {"shape": [2], "values": [1.0, 9.0]}


def test_shadow_failures_never_reach_the_caller(testing):
    g = mp.guard(Constant(1.0), shadow=Failing())
    assert g.predict(ROW).tolist() == [1.0]
    assert g.stats().shadow["errors"] == 1


def test_shadow_runs_off_the_critical_path(release):
    g = mp.guard(Constant(1.0), shadow=Hanging(release))
    for _ in range(100):
        assert g.predict(ROW).tolist() == [1.0]
    stats = g.stats()
    assert stats.outcomes["ok"] == 100
    assert stats.shadow["dropped"] >= 100 - 64 - 1  # queue of 64, one running
    release.set()
    assert g.drain_shadow(5)
    assert g.stats().shadow["runs"] >= 1
    g.close()


def test_closing_stops_the_shadow_thread_even_with_a_full_queue(release):
    g = mp.guard(Constant(1.0), shadow=Hanging(release), name="full-shadow")
    for _ in range(100):
        g.predict(ROW)
    assert g.stats().shadow["dropped"] > 0  # the queue is full
    g.close()
    release.set()
    (thread,) = [t for t in threading.enumerate() if t.name == "mlprod-shadow-full-shadow"]
    thread.join(10)
    assert not thread.is_alive()


# -- statistics ---------------------------------------------------------------------------


def test_stats_percentiles_prometheus_and_rendering(testing):
    class Timed:
        def __init__(self):
            self.i = 0

        def predict(self, X):
            self.i += 1
            testing.advance(self.i / 1000)  # 1 ms, 2 ms, ... 100 ms
            return [1]

    g = mp.guard(Timed(), fallback=0, budget_ms=90, name='we"ird')
    for _ in range(100):
        g.predict(ROW)
    s = g.stats()
    assert s.calls == 100
    assert s.outcomes["ok"] == 90
    assert s.outcomes["timeout"] == 10
    assert s.fallback_rate == pytest.approx(0.1)
    assert s.p50_ms == pytest.approx(50, rel=0.04)
    assert s.p90_ms == pytest.approx(90, rel=0.04)
    assert s.p99_ms == pytest.approx(99, rel=0.04)
    text = s.to_prometheus()
    assert 'mlprod_guard_calls_total{guard="we\\"ird",outcome="timeout"} 10' in text
    assert 'mlprod_guard_latency_seconds_count{guard="we\\"ird"} 100' in text
    assert 'quantile="0.99"' in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.split(" ")) == 2
    assert "timeout" in s.summary()
    assert "<table>" in s._repr_html_()
    assert s.to_dict()["latency_ms"]["p50"] == pytest.approx(50, rel=0.04)
    assert "| timeout | 10 |" in s.to_markdown()


_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
_SAMPLE = re.compile(
    rf"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{{{_LABEL}(?:,{_LABEL})*\}})? "
    r"(?P<value>NaN|[+-]Inf|-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)"
)
_TYPES = {"counter", "gauge", "summary", "histogram", "untyped"}


def _families(text):
    """Check the exposition line by line; return {family: (type, samples)}.

    One HELP then one TYPE per family, each sample under its own family (a
    summary's ``_sum`` and ``_count`` too), no two samples with the same name and labels.
    """
    families, current, series, expect_type = {}, None, set(), False
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            current = line.split(" ")[2]
            assert current not in families, f"family {current} exposed twice"
            expect_type = True
        elif line.startswith("# TYPE "):
            name, kind = line.split(" ")[2:4]
            assert expect_type, f"TYPE not right after a HELP: {line!r}"
            assert name == current, f"TYPE of another family than its HELP: {line!r}"
            assert kind in _TYPES
            families[name] = (kind, [])
            expect_type = False
        else:
            assert current is not None, f"sample before any HELP: {line!r}"
            assert not expect_type, f"HELP of {current} without TYPE"
            match = _SAMPLE.fullmatch(line)
            assert match, f"not a valid sample line: {line!r}"
            name, labels = match.group("name"), match.group("labels") or ""
            suffixes = ("", "_sum", "_count") if families[current][0] == "summary" else ("",)
            assert name in {current + s for s in suffixes}, f"{name} under family {current}"
            assert (name, labels) not in series, f"duplicate sample: {line!r}"
            series.add((name, labels))
            families[current][1].append(match.group("value"))
    return families


def test_prometheus_exposition_is_valid_for_any_guard_name(testing):
    g = mp.guard(Constant(), fallback=0, name='line\nbreak "quoted" back\\slash')
    g.predict(ROW)
    text = g.stats().to_prometheus()
    families = _families(text)
    assert families["mlprod_guard_calls_total"][0] == "counter"
    assert families["mlprod_guard_latency_seconds"][0] == "summary"
    assert 'guard="line\\nbreak \\"quoted\\" back\\\\slash"' in text
    with pytest.raises(mp.ConfigurationError, match="metric names") as info:
        g.stats().to_prometheus(prefix="my-app")
    assert info.value.parameter == "prefix"


def test_several_guards_render_as_one_valid_exposition(testing):
    churn = mp.guard(Constant(), fallback=0, name="churn", breaker=mp.CircuitBreaker())
    fraud = mp.guard(Failing(), fallback=0, name='fraud "v2"', cost=1.0, cost_budget=(9, 60))
    quiet = mp.guard(Constant(), name="quiet")
    for g in (churn, fraud):
        g.predict(ROW)
    stats = [g.stats() for g in (churn, fraud, quiet)]
    text = prometheus_text(*stats)
    families = _families(text)
    assert families.keys() == _families(stats[1].to_prometheus()).keys()
    assert len(families["mlprod_guard_calls_total"][1]) == 3 * 8
    assert len(families["mlprod_guard_latency_seconds"][1]) == 3 * 6
    assert len(families["mlprod_guard_cost_spent"][1]) == 1  # only fraud has a budget
    assert 'mlprod_guard_calls_total{guard="churn",outcome="ok"} 1' in text
    assert 'mlprod_guard_calls_total{guard="fraud \\"v2\\"",outcome="error"} 1' in text
    assert 'mlprod_guard_breaker_state{guard="quiet"} -1' in text
    assert prometheus_text(stats[0]) == stats[0].to_prometheus()
    assert prometheus_text() == ""
    with pytest.raises(AssertionError, match="exposed twice"):
        _families("".join(s.to_prometheus() for s in stats))  # why the function exists
    with pytest.raises(mp.ConfigurationError, match="named 'churn'") as info:
        prometheus_text(stats[0], stats[0])
    assert info.value.parameter == "stats"
    with pytest.raises(mp.ConfigurationError, match="metric names"):
        prometheus_text(*stats, prefix="9lives")


def test_prometheus_sums_keep_full_precision():
    h = LatencyHistogram()
    h.record(1_234_567.891)
    stats = mp.guard(Constant()).stats()
    text = dataclasses.replace(stats, calls=1, latency=h).to_prometheus()
    assert 'mlprod_guard_latency_seconds_sum{guard="Constant"} 1234.567891' in text


def test_stats_merge_adds_counts_and_histograms(testing):
    a = mp.guard(Constant(), name="a")
    b = mp.guard(Failing(), fallback=0, name="a")
    for _ in range(3):
        a.predict(ROW)
    b.predict(ROW)
    merged = a.stats().merge(b.stats())
    assert merged.calls == 4
    assert merged.outcomes["ok"] == 3
    assert merged.outcomes["error"] == 1
    assert merged.latency.count == 4


def test_empty_stats_are_nan_safe():
    s = mp.guard(Constant()).stats()
    assert math.isnan(s.p99_ms)
    assert s.to_dict()["latency_ms"]["p99"] is None
    assert 'quantile="0.5"} NaN' in s.to_prometheus()


latencies = st.lists(st.floats(min_value=0.001, max_value=1e6), min_size=1, max_size=200)


@given(latencies, latencies)
def test_histogram_merge_equals_histogram_of_all(xs, ys):
    a, b, whole = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
    a.record_many(xs)
    b.record_many(ys)
    whole.record_many(xs + ys)
    assert a.merged(b) == whole
    assert LatencyHistogram.from_dict(whole.to_dict()) == whole


@given(latencies, st.floats(min_value=0.0, max_value=1.0))
def test_histogram_quantile_within_relative_error(xs, q):
    h = LatencyHistogram()
    h.record_many(xs)
    exact = sorted(xs)[max(1, math.ceil(q * len(xs))) - 1]
    assert h.quantile(q) == pytest.approx(exact, rel=1 / 16)


def test_histogram_memory_is_fixed():
    h = LatencyHistogram()
    h.record_many(float(i) for i in range(1, 100_000, 7))
    h.record(1e12)
    h.record(0.0)
    assert len(h.counts) == 544


# -- the test switch ----------------------------------------------------------------------


def test_set_guard_testing_restores_the_previous_mode(clock):
    from mlprod.runtime._testing import current_clock, is_testing

    assert not is_testing()
    with mp.set_guard_testing(clock=clock):
        assert is_testing()
        assert current_clock() is clock
        with mp.set_guard_testing(False):
            assert not is_testing()
        assert is_testing()
    assert not is_testing()
    assert threading.active_count() >= 1


def test_a_failing_cost_function_keeps_the_answer(testing):
    def cost(X, y):
        raise KeyError("price")

    g = mp.guard(Constant(2.0), cost=cost, cost_budget=(1, 60))
    assert g.predict(ROW).tolist() == [2.0]
    assert g.last_outcome.outcome == "ok"
    assert g.stats().cost_spent == 0.0


def test_cancelled_async_caller_leaves_an_orphan_holding_its_slot(release):
    g = mp.guard(Hanging(release), fallback=0, budget_ms=10_000, max_in_flight=1)

    async def main():
        task = asyncio.create_task(g.apredict(ROW))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return g.stats().orphans, (await g.acall(ROW)).outcome

    assert asyncio.run(main()) == (1, "shed")
