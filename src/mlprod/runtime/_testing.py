"""The switch that makes guards deterministic inside a test suite.

With testing on, a guard runs its primary, fallbacks and shadow inline in
the calling thread (no executor threads, no worker processes), and every
clock the runtime reads is the one given here (a :class:`~mlprod.ManualClock`
makes timeouts and breaker recovery instant).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mlprod._internal.clock import SystemClock
from mlprod.protocols import Clock

__all__ = ["TestingMode", "current_clock", "is_testing", "set_guard_testing"]

_SYSTEM = SystemClock()


class _State:
    """Test mode and the clock; ``now`` is the clock's ``monotonic``, looked up once."""

    __slots__ = ("_clock", "enabled", "now")

    def __init__(self) -> None:
        self.enabled = False
        self._clock: Clock = _SYSTEM
        # The system clock's reading straight from time: one Python frame less per read
        # on the guard's hot path, which reads it twice per call.
        self.now: Callable[[], float] = time.monotonic

    @property
    def clock(self) -> Clock:
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._clock = clock
        self.now = time.monotonic if clock is _SYSTEM else clock.monotonic


_STATE = _State()


class TestingMode:
    """What :func:`set_guard_testing` returns: restores the previous mode on ``with`` exit."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, previous: tuple[bool, Clock]) -> None:
        self._previous = previous

    def __enter__(self) -> TestingMode:
        return self

    def __exit__(self, *exc: object) -> None:
        _STATE.enabled, _STATE.clock = self._previous

    def __repr__(self) -> str:
        return f"TestingMode(enabled={_STATE.enabled}, clock={_STATE.clock!r})"


def set_guard_testing(enabled: bool = True, *, clock: Clock | None = None) -> TestingMode:
    """Turn the runtime's test mode on or off: no threads, no processes, an injectable clock.

    In test mode every guard runs its primary inline and judges a timeout
    after the fact from ``clock`` (a primary that advances a
    :class:`~mlprod.ManualClock` past the budget "took too long"); shadow
    models run inline; deadlines, breakers and cost budgets read ``clock``.
    Call it once in a ``conftest.py``, or use it as a context manager to
    restore the previous mode on exit.

    Parameters
    ----------
    enabled:
        ``True`` to turn test mode on, ``False`` for normal operation.
    clock:
        The clock to read while test mode is on (default: the system clock).

    Examples
    --------
    >>> import mlprod as mp
    >>> clock = mp.ManualClock()
    >>> class Slow:
    ...     def predict(self, X):
    ...         clock.advance(1.0)  # "takes" a second, instantly
    ...         return [1] * len(X)
    >>> with mp.set_guard_testing(clock=clock):
    ...     g = mp.guard(Slow(), fallback=0, budget_ms=100)
    ...     g.predict([[1.0]]).tolist(), g.last_outcome.outcome
    ([0], 'timeout')
    """
    previous = (_STATE.enabled, _STATE.clock)
    _STATE.enabled = bool(enabled)
    _STATE.clock = clock if (clock is not None and enabled) else _SYSTEM
    return TestingMode(previous)


def is_testing() -> bool:
    """``True`` while :func:`set_guard_testing` is on."""
    return _STATE.enabled


def current_clock() -> Clock:
    """The clock the runtime reads now: the test clock in test mode, else the system clock."""
    return _STATE.clock


# Reported, documented and pickled under the public path.
set_guard_testing.__module__ = "mlprod"
