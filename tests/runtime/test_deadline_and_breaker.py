"""Ambient deadlines (nesting, threads, asyncio) and the circuit breaker on a manual clock."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
import weakref

import pytest
from guard_models import AdvancesClock, Constant, Failing, Hanging
from structlog.testing import capture_logs

import mlprod as mp

ROW = [[1.0]]


def test_remaining_ms_is_none_without_a_deadline(testing):
    assert mp.remaining_ms() is None


def test_nested_deadlines_take_the_earlier(testing):
    with mp.deadline(ms=200):
        with mp.deadline(ms=5000):
            assert mp.remaining_ms() == pytest.approx(200.0)
        testing.advance(0.05)
        with mp.deadline(ms=20) as inner:
            assert mp.remaining_ms() == pytest.approx(20.0)
            assert inner.remaining_ms == pytest.approx(20.0)
        assert mp.remaining_ms() == pytest.approx(150.0)
        testing.advance(1.0)
        assert mp.remaining_ms() == 0.0
    assert mp.remaining_ms() is None


def test_deadline_in_seconds_and_bad_values(testing):
    with mp.deadline(s=0.5):
        assert mp.remaining_ms() == pytest.approx(500.0)
    for bad in ({}, {"ms": 1, "s": 1}, {"ms": -1}, {"ms": float("nan")}):
        with pytest.raises(mp.ConfigurationError):
            mp.deadline(**bad)


def test_a_deadline_scope_counts_from_each_entry(testing):
    budget = mp.deadline(ms=100)
    with budget:
        testing.advance(0.08)
    testing.advance(1.0)
    with budget:
        assert mp.remaining_ms() == pytest.approx(100.0)


def test_a_deadline_of_the_wrong_type_is_named_in_its_unit():
    with pytest.raises(mp.ConfigurationError, match=r"number of seconds, got s='2'") as info:
        mp.deadline(s="2")
    assert (info.value.parameter, info.value.value) == ("s", "2")


def test_deadline_follows_copied_context_into_threads(testing):
    seen = {}
    with mp.deadline(ms=300):
        ctx = contextvars.copy_context()
    t = threading.Thread(target=lambda: seen.update(copied=ctx.run(mp.remaining_ms)))
    t.start()
    t.join()
    plain = threading.Thread(target=lambda: seen.update(plain=mp.remaining_ms()))
    plain.start()
    plain.join()
    assert seen == {"copied": pytest.approx(300.0), "plain": None}


def test_deadline_in_asyncio_tasks_is_per_task(testing):
    async def child(ms):
        async with mp.deadline(ms=ms):
            await asyncio.sleep(0)
            return mp.remaining_ms()

    async def main():
        async with mp.deadline(ms=100):
            inherited = await asyncio.create_task(child(1000))
            own = await asyncio.gather(child(10), child(50))
        return inherited, own, mp.remaining_ms()

    inherited, own, after = asyncio.run(main())
    assert inherited == pytest.approx(100.0)
    assert own == [pytest.approx(10.0), pytest.approx(50.0)]
    assert after is None


def test_guard_uses_the_smaller_of_budget_and_ambient_deadline(testing):
    g = mp.guard(AdvancesClock(testing, 0.06), fallback=0, budget_ms=1000)
    with mp.deadline(ms=50):
        g.predict(ROW)
    assert g.last_outcome.outcome == "timeout"
    assert g.last_outcome.reason == "no answer within 50.0 ms"
    g.predict(ROW)
    assert g.last_outcome.outcome == "ok"


def test_primary_and_fallback_see_what_is_left(testing):
    seen = {}

    class Reports:
        def predict(self, X):
            seen["primary"] = mp.remaining_ms()
            testing.advance(0.03)
            raise RuntimeError("fails after 30 ms")

    def fallback(X):
        seen["fallback"] = mp.remaining_ms()
        return [0]

    g = mp.guard(Reports(), fallback=fallback, budget_ms=100)
    g.predict(ROW)
    assert seen == {"primary": pytest.approx(100.0), "fallback": pytest.approx(70.0)}


def test_primary_sees_the_deadline_on_the_executor_thread():
    seen = []
    g = mp.guard(lambda X: seen.append(mp.remaining_ms()) or [1], budget_ms=5000)
    g.predict(ROW)
    assert 0 < seen[0] <= 5000


def test_expired_ambient_deadline_goes_straight_to_fallback(testing):
    model = Failing()
    g = mp.guard(model, fallback=-1, budget_ms=10_000)
    with mp.deadline(ms=10):
        testing.advance(1)
        assert g.predict(ROW).tolist() == [-1]
        assert mp.guard(Constant(), fallback=-1).predict(ROW).tolist() == [-1]
    assert g.last_outcome.outcome == "timeout"
    assert model.calls == 0


# -- circuit breaker -------------------------------------------------------------------------


def test_breaker_opens_after_threshold_within_window(clock):
    b = mp.CircuitBreaker(failure_threshold=3, window=10, recovery_s=30, clock=clock)
    b.record_failure(b.allow())
    clock.advance(11)  # the first failure drops out of the window
    b.record_failure(b.allow())
    b.record_failure(b.allow())
    assert b.state == "closed"
    b.record_failure(b.allow())
    assert b.state == "open"
    assert b.allow() is None
    assert b.retry_after_s() == pytest.approx(30)


def test_breaker_half_open_bounds_probes_and_closes_on_success(clock):
    b = mp.CircuitBreaker(failure_threshold=1, recovery_s=5, half_open_max=2, clock=clock)
    b.record_failure(b.allow())
    clock.advance(5)
    permits = [b.allow() for _ in range(4)]
    assert permits == ["probe", "probe", None, None]
    b.record_success("probe")
    assert b.state == "half_open"
    b.record_success("probe")
    assert b.state == "closed"
    assert b.allow() == "call"


def test_probes_still_running_from_before_a_reopen_count_against_the_bound(clock):
    b = mp.CircuitBreaker(failure_threshold=1, recovery_s=5, half_open_max=2, clock=clock)
    b.record_failure(b.allow())
    clock.advance(5)
    first, second = b.allow(), b.allow()
    b.record_failure(first)  # reopens while the second probe still runs
    clock.advance(5)
    assert [b.allow(), b.allow()] == ["probe", None]
    b.record_success(second)
    assert b.allow() == "probe"


def test_breaker_failed_probe_reopens(clock):
    b = mp.CircuitBreaker(failure_threshold=1, recovery_s=5, clock=clock)
    b.record_failure(b.allow())
    clock.advance(5)
    b.record_failure(b.allow())
    assert b.state == "open"
    clock.advance(4.9)
    assert b.state == "open"
    clock.advance(0.1)
    assert b.state == "half_open"


def test_breaker_closed_path_takes_no_lock(clock):
    b = mp.CircuitBreaker(clock=clock)

    class Trap:
        def __enter__(self):
            raise AssertionError("the closed path must not serialise callers")

        def __exit__(self, *exc):
            return False

    b._lock = Trap()
    for _ in range(100):
        b.record_success(b.allow())
    assert b.state == "closed"


def test_breaker_call_raises_unavailable_when_open(clock):
    b = mp.CircuitBreaker(failure_threshold=1, clock=clock, name="pricing")
    with pytest.raises(ZeroDivisionError):
        b.call(lambda: 1 / 0)
    with pytest.raises(mp.Unavailable) as info:
        b.call(lambda: 1)
    assert (info.value.outcome, info.value.name) == ("breaker_open", "pricing")


def test_turned_away_calls_say_whether_the_breaker_is_open_or_probing(clock):
    b = mp.CircuitBreaker(failure_threshold=2, window=10, recovery_s=5, clock=clock, name="api")
    g = mp.guard(Failing(), breaker=b, name="g")
    for _ in range(2):
        with pytest.raises(ConnectionError):
            g.predict(ROW)
    with pytest.raises(mp.Unavailable, match=r"open after 2 failures within 10 s; it lets a probe"):
        g.predict(ROW)
    clock.advance(5)
    assert b.allow() == "probe"  # a probe is running
    with pytest.raises(mp.Unavailable, match="half-open and its 1 probe call") as info:
        g.predict(ROW)
    assert info.value.retry_after_s == 0.0
    with pytest.raises(mp.Unavailable, match="half-open"):
        b.call(lambda: 1)


def test_an_interrupted_breaker_call_is_no_failure(clock):
    b = mp.CircuitBreaker(failure_threshold=1, recovery_s=5, clock=clock)

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        b.call(interrupted)
    assert b.state == "closed"
    b.record_failure(b.allow())
    clock.advance(5)
    with pytest.raises(KeyboardInterrupt):
        b.call(interrupted)  # the probe is handed back, not lost
    assert b.allow() == "probe"


def test_breaker_rejects_bad_configuration():
    with pytest.raises(mp.ConfigurationError) as info:
        mp.CircuitBreaker(failure_threshold=0)
    assert info.value.parameter == "failure_threshold"
    with pytest.raises(mp.ConfigurationError):
        mp.CircuitBreaker(recovery_s=0)


def test_guard_with_breaker_transitions_are_logged_audited_and_counted(testing, tmp_path):
    breaker = mp.CircuitBreaker(failure_threshold=2, recovery_s=10, name="pricing")
    model = Failing()
    with mp.AuditLog(tmp_path / "a.jsonl") as log, capture_logs() as logs:
        g = mp.guard(model, fallback=0, breaker=breaker, audit=log, name="pricing")
        outcomes = [g.call(ROW).outcome for _ in range(4)]
        assert outcomes == ["error", "error", "breaker_open", "breaker_open"]
        assert model.calls == 2
        assert g.stats().breaker_state == "open"
        testing.advance(10)
        model.exc = None  # heal

        class Healthy:
            def predict(self, X):
                return [1.0]

        g.model = Healthy()
        assert g.call(ROW).outcome == "ok"
        assert breaker.state == "closed"
    changes = [(e["before"], e["after"]) for e in logs if e["event"].startswith("circuit")]
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    audited = [
        (r["record"]["from"], r["record"]["to"])
        for r in mp.read_audit_log(tmp_path / "a.jsonl")
        if r["record"]["event"] == "breaker.state_change"
    ]
    assert audited == changes


def test_breaker_shared_by_many_threads_counts_every_failure(clock):
    b = mp.CircuitBreaker(failure_threshold=801, window=60, clock=clock)

    def fail():
        for _ in range(100):
            b.record_failure(b.allow())

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.state == "closed"
    b.record_failure(b.allow())
    assert b.state == "open"
    assert b.to_dict()["opened_count"] == 1


def test_breaker_repr_and_reset(clock):
    b = mp.CircuitBreaker(failure_threshold=1, clock=clock, name="x")
    b.record_failure(b.allow())
    assert "state='open'" in repr(b)
    b.reset()
    assert b.state == "closed"


def test_a_cancelled_probe_gives_its_permit_back(clock, release):
    breaker = mp.CircuitBreaker(failure_threshold=1, recovery_s=1, clock=clock)
    breaker.record_failure(breaker.allow())
    clock.advance(1)
    g = mp.guard(Hanging(release), fallback=0, budget_ms=10_000, breaker=breaker)

    async def main():
        task = asyncio.create_task(g.apredict(ROW))
        await asyncio.sleep(0)  # the task runs up to its first await: it holds the probe
        assert breaker.allow() is None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert breaker.state == "half_open"
    assert breaker.allow() == "probe"  # not wedged waiting for the cancelled probe


def test_a_closed_or_dropped_guard_stops_recording_its_breaker(clock, tmp_path):
    breaker = mp.CircuitBreaker(failure_threshold=1, clock=clock, name="shared")
    with mp.AuditLog(tmp_path / "a.jsonl") as log:
        kept = mp.guard(Failing(), fallback=0, breaker=breaker, audit=log, name="kept")
        closed = mp.guard(Failing(), fallback=0, breaker=breaker, audit=log, name="closed")
        dropped = mp.guard(
            Constant(), breaker=breaker, audit=log, shadow=Constant(), name="dropped"
        )
        dropped.predict(ROW)  # starts its shadow thread
        alive = weakref.ref(dropped)
        del dropped
        gc.collect()
        assert alive() is None
        closed.close()
        kept.predict(ROW)  # opens the breaker
    changes = [
        r["record"]["guard"]
        for r in mp.read_audit_log(tmp_path / "a.jsonl")
        if r["record"]["event"] == "breaker.state_change"
    ]
    assert changes == ["kept"]
