"""isolation="process": a primary that hangs for good is killed and replaced."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from guard_models import HangsInProcess, LoadsUnless, RaisesTwoArgError, ReportsRemaining

import mlprod as mp


def _wait_for(predicate, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_hanging_worker_is_killed_and_replaced():
    with mp.guard(
        HangsInProcess(), fallback=-1, budget_ms=3000, isolation="process", max_in_flight=1
    ) as g:
        first = int(g.predict([[1.0]])[0])
        assert g.last_outcome.outcome == "ok"
        with mp.deadline(ms=200):
            assert g.predict([[-1.0]]).tolist() == [-1]
        assert g.last_outcome.outcome == "timeout"
        assert g.stats().workers_killed == 1
        # The slot comes back once the replacement worker is ready; until then calls shed.
        assert _wait_for(lambda: g.call([[1.0]]).outcome == "ok")
        second = int(g.last_outcome.value[0])
        assert second != first
        assert g.thread_count == 0
        stats = g.stats()
        assert stats.orphans == 0
        assert stats.in_flight == 0


def test_a_failed_worker_restart_is_retried_by_later_calls(tmp_path):
    from structlog.testing import capture_logs

    flag = tmp_path / "cannot-load"
    with mp.guard(
        LoadsUnless(flag), fallback=-1, budget_ms=30_000, isolation="process", max_in_flight=1
    ) as g:
        first = int(g.predict([[1.0]])[0])
        flag.touch()  # from now on a fresh worker fails to load the model
        with capture_logs() as logs:
            with mp.deadline(ms=200):
                assert g.predict([[-1.0]]).tolist() == [-1]  # times out: the worker is killed
            assert _wait_for(lambda: g.stats().worker_restart_failures >= 1)
        failed = [e for e in logs if e["event"].startswith("could not restart")]
        assert failed[0]["log_level"] == "error"
        assert failed[0]["workers_down"] == 1
        assert g.call([[1.0]]).outcome == "shed"  # no worker until a restart succeeds
        flag.unlink()
        # Without a retry the guard would shed every call from here on.
        assert _wait_for(lambda: g.call([[1.0]]).outcome == "ok", 30)
        assert int(g.last_outcome.value[0]) != first
        stats = g.stats()
        assert stats.workers_killed == 1
        assert stats.worker_restart_failures >= 1
        assert "mlprod_guard_worker_restart_failures_total" in stats.to_prometheus()


def test_restart_back_off_doubles_up_to_its_bound(monkeypatch):
    from mlprod.runtime._executor import ProcessExecutor

    ex = ProcessExecutor(
        HangsInProcess(),
        1,
        name="t",
        start=False,
        restart_backoff_s=0.5,
        restart_backoff_max_s=2.0,
    )

    def cannot_start():
        raise OSError("no more processes")

    monkeypatch.setattr(ex, "_start", cannot_start)
    ex._down = 1
    delays = []
    for _ in range(5):
        ex._retry_at = 0.0  # as if the back-off had passed
        with ex._lock:
            assert ex._claim_restart()
        before = time.monotonic()
        ex._respawn(None, True)
        delays.append(round(ex._retry_at - before, 1))
        with ex._lock:
            assert not ex._claim_restart()  # no new attempt before the back-off ends
    assert delays == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert (ex.restart_failures, ex._down, ex._restarting) == (5, 1, False)


def test_a_model_that_does_not_pickle_is_rejected_up_front():
    class NotPicklable:
        def predict(self, X):
            return X

    with pytest.raises(mp.ConfigurationError, match="does not pickle"):
        mp.guard(NotPicklable(), isolation="process")


def test_no_threads_are_left_behind_after_close():
    before = {t.name for t in threading.enumerate()}
    g = mp.guard(HangsInProcess(), fallback=0, budget_ms=100, isolation="process")
    g.close()
    after = {t.name for t in threading.enumerate()}
    assert after <= before | {"MainThread"}


def test_test_mode_starts_no_worker_process(testing):
    import multiprocessing

    before = set(multiprocessing.active_children())
    g = mp.guard(HangsInProcess(), fallback=0, budget_ms=100, isolation="process")
    assert set(multiprocessing.active_children()) <= before
    assert int(g.predict([[1.0]])[0]) > 0  # ran inline: answers with this process's pid
    g.close()


def test_an_input_that_does_not_pickle_is_an_error_and_keeps_the_worker():
    with mp.guard(
        HangsInProcess(), fallback=-1, budget_ms=30_000, isolation="process", max_in_flight=1
    ) as g:
        for _ in range(2):
            assert g.call([[lambda: 1.0]]).outcome == "error"
            assert "pickle" in g.last_outcome.reason
        assert g.call([[1.0]]).outcome == "ok"
        assert g.stats().in_flight == 0


def test_an_answer_that_does_not_unpickle_is_an_error_and_keeps_the_worker():
    with mp.guard(
        RaisesTwoArgError(), fallback=-1, budget_ms=30_000, isolation="process", max_in_flight=1
    ) as g:
        assert [g.call([[1.0]]).outcome for _ in range(2)] == ["error", "error"]
        assert g.last_outcome.reason == "RuntimeError: TwoArgError: no answer"
        assert g.stats().workers_killed == 0


def _is_gone(pid):
    """True once ``pid`` has exited and been reaped (a zombie still has its /proc entry)."""
    return not os.path.exists(f"/proc/{pid}")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_killed_workers_are_reaped_and_close_kills_busy_ones():
    g = mp.guard(
        HangsInProcess(), fallback=-1, budget_ms=30_000, isolation="process", max_in_flight=1
    )
    first = int(g.predict([[1.0]])[0])
    with mp.deadline(ms=200):
        assert g.predict([[-1.0]]).tolist() == [-1]  # times out: the worker is killed
    assert _wait_for(lambda: g.call([[1.0]]).outcome == "ok")
    assert _is_gone(first)
    second = int(g.last_outcome.value[0])
    ungated = mp.guard(HangsInProcess(), fallback=-1, isolation="process", max_in_flight=1)
    busy = int(ungated.predict([[1.0]])[0])
    outcome = []
    caller = threading.Thread(
        target=lambda: outcome.append(ungated.call([[-1.0]]).outcome), daemon=True
    )
    caller.start()  # no budget: it hangs until the guard is closed
    assert _wait_for(lambda: ungated.stats().in_flight == 1)
    ungated.close()
    g.close()
    caller.join(30)
    assert outcome == ["error"]
    assert _is_gone(busy)
    assert _wait_for(lambda: _is_gone(second), 10)


def test_a_cancelled_async_call_to_a_hung_worker_does_not_keep_the_program_alive():
    script = f"""
import asyncio, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import mlprod as mp
from guard_models import HangsInProcess

if __name__ == "__main__":
    g = mp.guard(HangsInProcess(), fallback=-1, isolation="process", max_in_flight=1)

    async def main():
        try:
            await asyncio.wait_for(g.apredict([[-1.0]]), 0.5)  # no budget: hangs
        except TimeoutError:
            print("caller gave up")

    asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout) == (0, "caller gave up\n"), done.stderr


def test_the_worker_process_sees_the_remaining_budget():
    with mp.guard(ReportsRemaining(), isolation="process", max_in_flight=1) as g:
        assert g.predict([[1.0]]).tolist() == [-1.0]  # no deadline anywhere
        with mp.deadline(ms=20_000):
            left = float(g.predict([[1.0]])[0])
        assert 0 < left <= 20_000
    with mp.guard(ReportsRemaining(), budget_ms=20_000, isolation="process") as g:
        with mp.deadline(ms=60_000):  # the guard's own, smaller budget wins
            left = float(g.predict([[1.0]])[0])
        assert 0 < left <= 20_000
