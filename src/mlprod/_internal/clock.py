"""The real clock, and a manual one for tests."""

from __future__ import annotations

import threading
import time

__all__ = ["ManualClock", "SystemClock"]


class SystemClock:
    """The machine's clocks: ``time.monotonic`` and ``time.time``.

    Satisfies :class:`mlprod.protocols.Clock`; the default wherever a clock
    can be injected.

    Examples
    --------
    >>> import mlprod as mp
    >>> clock = mp.SystemClock()
    >>> clock.monotonic() <= clock.monotonic()
    True
    """

    __module__ = "mlprod"

    __slots__ = ()

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        return time.monotonic()

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told to, for instant, deterministic tests.

    Parameters
    ----------
    start:
        The initial reading of both clocks, in seconds.

    Examples
    --------
    >>> import mlprod as mp
    >>> clock = mp.ManualClock()
    >>> clock.advance(30)
    >>> clock.monotonic()
    30.0
    """

    __module__ = "mlprod"

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        """The current reading."""
        return self._now

    def time(self) -> float:
        """The current reading (as epoch seconds)."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (must not be negative)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards: advance({seconds})")
        with self._lock:
            self._now += seconds

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now})"
