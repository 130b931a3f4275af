"""The circuit breaker against a plain model of its rules, driven by a hypothesis state machine.

The model restates the documented rules in the simplest terms (a list of failure
times, a state, the probes in flight) and the machine checks, after every step of
a random mix of calls, verdicts, cancellations and clock moves, that the breaker
agrees with it.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

import mlprod as mp


class BreakerModel:
    """The rules, restated: nothing here is shared with the implementation."""

    def __init__(self, threshold: int, window: float, recovery: float, probes: int) -> None:
        self.threshold, self.window, self.recovery, self.max_probes = (
            threshold,
            window,
            recovery,
            probes,
        )
        self.state = "closed"
        self.failures: list[float] = []
        self.opened_at = 0.0
        self.probes = 0
        self.successes = 0
        self.opened = 0

    def observe(self, now: float) -> str:
        # Open past its recovery time, the breaker is half-open (probes in flight keep counting).
        if self.state == "open" and now - self.opened_at >= self.recovery:
            self.state, self.successes = "half_open", 0
        return self.state

    def allow(self, now: float) -> str | None:
        if self.state == "closed":
            return "call"
        if self.observe(now) == "open":
            return None
        if self.probes >= self.max_probes:
            return None
        self.probes += 1
        return "probe"

    def success(self, permit: str) -> None:
        if permit != "probe":
            return
        self.probes -= 1
        if self.state != "half_open":
            return
        self.successes += 1
        if self.successes >= self.max_probes:
            self.state, self.failures = "closed", []

    def failure(self, permit: str, now: float) -> None:
        if permit == "probe":
            self.probes -= 1
            if self.state == "half_open":
                self.state, self.opened_at = "open", now
            return
        if self.state != "closed":
            return
        self.failures = [*self.failures, now][-self.threshold :]
        if len(self.failures) == self.threshold and now - self.failures[0] <= self.window:
            self.state, self.opened_at = "open", now
            self.opened += 1

    def release(self, permit: str) -> None:
        if permit == "probe":
            self.probes -= 1


class BreakerMachine(RuleBasedStateMachine):
    permits = Bundle("permits")

    @initialize(
        threshold=st.integers(1, 4),
        window=st.sampled_from([1.0, 10.0, 60.0]),
        recovery=st.sampled_from([0.5, 5.0, 30.0]),
        probes=st.integers(1, 3),
    )
    def build(self, threshold, window, recovery, probes):
        self.clock = mp.ManualClock(100.0)
        self.breaker = mp.CircuitBreaker(
            threshold, window, recovery, probes, name="m", clock=self.clock
        )
        self.model = BreakerModel(threshold, window, recovery, probes)

    @rule(target=permits)
    def allow(self):
        got = self.breaker.allow()
        assert got == self.model.allow(self.clock.monotonic())
        return multiple() if got is None else multiple(got)

    @rule(permit=consumes(permits))
    def succeed(self, permit):
        self.breaker.record_success(permit)
        self.model.success(permit)

    @rule(permit=consumes(permits))
    def fail(self, permit):
        self.breaker.record_failure(permit)
        self.model.failure(permit, self.clock.monotonic())

    @rule(permit=consumes(permits))
    def cancel(self, permit):
        self.breaker.release(permit)
        self.model.release(permit)

    @rule(seconds=st.sampled_from([0.0, 0.25, 0.5, 1.0, 4.9, 5.0, 10.0, 30.0, 61.0]))
    def advance(self, seconds):
        self.clock.advance(seconds)

    @invariant()
    def agrees_with_the_model(self):
        now = self.clock.monotonic()
        assert self.breaker.state == self.model.observe(now)
        assert self.breaker.opened_count == self.model.opened
        expected_retry = (
            max(0.0, self.model.recovery - (now - self.model.opened_at))
            if self.model.state == "open"
            else 0.0
        )
        assert abs(self.breaker.retry_after_s() - expected_retry) < 1e-9


BreakerMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
TestBreakerStateMachine = BreakerMachine.TestCase


def test_failures_exactly_one_window_apart_open_the_breaker():
    # The window is inclusive; the state machine rarely lands on its edge by chance.
    for gap, opens in ((1.0, True), (1.0 + 1e-6, False)):
        clock = mp.ManualClock(0.0)
        breaker = mp.CircuitBreaker(2, window=1.0, recovery_s=5, clock=clock)
        breaker.record_failure(breaker.allow())
        clock.advance(gap)
        breaker.record_failure(breaker.allow())
        assert (breaker.state == "open") is opens
