"""A circuit breaker that does not serialise its callers.

Closed, the breaker lets every call through and touches no lock on success:
only a failure takes the lock to count itself. After ``failure_threshold``
failures within ``window`` seconds it opens and rejects calls for
``recovery_s`` seconds; then it is half-open and lets at most
``half_open_max`` probes through at a time. ``half_open_max`` successful
probes close it; one failed probe opens it again.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from mlprod._internal.logging import get_logger
from mlprod.errors import ConfigurationError, Unavailable
from mlprod.protocols import AuditSink, Clock
from mlprod.runtime._testing import current_clock

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "CircuitBreaker", "Permit"]

CLOSED: Literal["closed"] = "closed"
OPEN: Literal["open"] = "open"
HALF_OPEN: Literal["half_open"] = "half_open"

T = TypeVar("T")
Permit = Literal["call", "probe"]
"""What :meth:`CircuitBreaker.allow` grants: an ordinary call or a half-open probe."""

_log = get_logger("mlprod.runtime.breaker")


class CircuitBreaker:
    """Stop calling a failing dependency for a while, then probe it carefully.

    Parameters
    ----------
    failure_threshold:
        Failures within ``window`` seconds that open the breaker.
    window:
        The sliding window, in seconds, over which failures are counted.
    recovery_s:
        How long the breaker stays open before letting probes through.
    half_open_max:
        Probes allowed at once while half-open; that many successes close it.
    name:
        Shown in logs, audit records and statistics.
    clock:
        Where time comes from (a :class:`~mlprod.ManualClock` in tests);
        the runtime clock by default.
    audit:
        An :class:`~mlprod.protocols.AuditSink` that receives one record per
        state change. A guard also records the changes in its own log.

    Examples
    --------
    >>> import mlprod as mp
    >>> from structlog.testing import capture_logs
    >>> clock = mp.ManualClock()
    >>> breaker = mp.CircuitBreaker(failure_threshold=2, recovery_s=30, clock=clock)
    >>> with capture_logs() as logs:  # state changes are logged (and audited)
    ...     for _ in range(2):
    ...         breaker.record_failure(breaker.allow())
    ...     clock.advance(30)
    ...     permit = breaker.allow()
    >>> [(e["before"], e["after"]) for e in logs]
    [('closed', 'open'), ('open', 'half_open')]
    >>> permit, breaker.allow()  # one probe at a time
    ('probe', None)
    """

    __module__ = "mlprod"

    def __init__(
        self,
        failure_threshold: int = 5,
        window: float = 60.0,
        recovery_s: float = 30.0,
        half_open_max: int = 1,
        *,
        name: str = "breaker",
        clock: Clock | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        for param, value, low in (
            ("failure_threshold", failure_threshold, 1),
            ("half_open_max", half_open_max, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigurationError(
                    f"CircuitBreaker {param} must be an integer >= {low}, got {value!r}",
                    parameter=param,
                    value=value,
                )
        for param, seconds in (("window", window), ("recovery_s", recovery_s)):
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not math.isfinite(seconds)
                or seconds <= 0
            ):
                raise ConfigurationError(
                    f"CircuitBreaker {param} must be a positive, finite number of seconds, "
                    f"got {seconds!r} (NaN or infinity would keep the breaker from ever "
                    "recovering or forgetting)",
                    parameter=param,
                    value=seconds,
                )
        self.failure_threshold = failure_threshold
        self.window = float(window)
        self.recovery_s = float(recovery_s)
        self.half_open_max = half_open_max
        self.name = name
        self._clock = clock
        self._audit = audit
        self._lock = threading.Lock()
        self._state: str = CLOSED
        self._failures: deque[float] = deque(maxlen=failure_threshold)
        self._opened_at = 0.0
        self._probes = 0
        self._probe_successes = 0
        self._listeners: list[Callable[[Mapping[str, Any]], None]] = []
        self.opened_count = 0

    # -- reading ---------------------------------------------------------------------------

    def _now(self) -> float:
        return (self._clock or current_clock()).monotonic()

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (open past its recovery time: half-open)."""
        if self._state == OPEN and self._now() - self._opened_at >= self.recovery_s:
            with self._lock:
                if self._state == OPEN and self._now() - self._opened_at >= self.recovery_s:
                    self._move(HALF_OPEN, "recovery time elapsed")
        return self._state

    def retry_after_s(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self._state != OPEN:
            return 0.0
        return max(0.0, self.recovery_s - (self._now() - self._opened_at))

    def rejection(self) -> str:
        """Why :meth:`allow` turns calls away now, in words (for error messages)."""
        retry = self.retry_after_s()
        if retry > 0:
            return (
                f"circuit breaker {self.name!r} is open after {self.failure_threshold} failures "
                f"within {self.window:g} s; it lets a probe through in {retry:.1f} s"
            )
        return (
            f"circuit breaker {self.name!r} is half-open and its {self.half_open_max} probe "
            "call(s) are still running; it lets calls through once they succeed"
        )

    # -- the call protocol -----------------------------------------------------------------

    def allow(self) -> Permit | None:
        """Ask to make one call: ``"call"``, ``"probe"`` (half-open), or ``None`` (rejected).

        Pass what it returns to :meth:`record_success` or :meth:`record_failure`.
        """
        if self._state == CLOSED:  # the hot path: no lock
            return "call"
        state = self.state
        if state == OPEN:
            return None
        with self._lock:
            if self._state == CLOSED:
                return "call"
            if self._state != HALF_OPEN or self._probes >= self.half_open_max:
                return None
            self._probes += 1
            return "probe"

    def record_success(self, permit: Permit | None = "call") -> None:
        """Report that a permitted call succeeded."""
        if permit != "probe":
            return  # successes in the closed state change nothing; no lock taken
        with self._lock:
            self._probes = max(0, self._probes - 1)
            if self._state != HALF_OPEN:
                return
            self._probe_successes += 1
            if self._probe_successes >= self.half_open_max:
                self._failures.clear()
                self._move(CLOSED, f"{self._probe_successes} probe(s) succeeded")

    def record_failure(self, permit: Permit | None = "call") -> None:
        """Report that a permitted call failed (an error, a timeout or a bad output)."""
        now = self._now()
        with self._lock:
            if permit == "probe":
                self._probes = max(0, self._probes - 1)
                if self._state == HALF_OPEN:
                    self._opened_at = now
                    self._move(OPEN, "a probe failed")
                return
            if self._state != CLOSED:
                return  # a late failure of a call let through before the breaker opened
            self._failures.append(now)
            if (
                len(self._failures) == self.failure_threshold
                and now - self._failures[0] <= self.window
            ):
                self._opened_at = now
                self.opened_count += 1
                self._move(OPEN, f"{self.failure_threshold} failures within {self.window:g} s")

    def release(self, permit: Permit | None) -> None:
        """Give back a permit whose call never reached the dependency (nothing is counted)."""
        if permit == "probe":
            with self._lock:
                self._probes = max(0, self._probes - 1)

    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call ``fn(*args, **kwargs)`` through the breaker.

        Raises
        ------
        Unavailable
            When the breaker is open (or half-open with all probes taken).

        Examples
        --------
        >>> import mlprod as mp
        >>> mp.CircuitBreaker().call(sum, [1, 2, 3])
        6
        """
        permit = self.allow()
        if permit is None:
            raise Unavailable(
                f"{self.rejection()}. Retry then, or give the guard a fallback.",
                outcome="breaker_open",
                name=self.name,
                retry_after_s=self.retry_after_s(),
            )
        try:
            result = fn(*args, **kwargs)
        except Exception:
            self.record_failure(permit)
            raise
        except BaseException:  # cancelled or interrupted: no verdict on the dependency
            self.release(permit)
            raise
        self.record_success(permit)
        return result

    # -- state changes ---------------------------------------------------------------------

    def add_listener(self, listener: Callable[[Mapping[str, Any]], None]) -> None:
        """Call ``listener(change)`` on every state change (``change`` is a plain dict)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Mapping[str, Any]], None]) -> None:
        """Stop calling ``listener`` (no error if it was not added)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _move(self, to: str, why: str) -> None:
        # Called with self._lock held.
        before = self._state
        self._state = to
        if to == HALF_OPEN:
            # _probes is left alone: probes of an earlier half-open spell may still be
            # running, and they count against half_open_max until they report.
            self._probe_successes = 0
        change = {
            "event": "breaker.state_change",
            "breaker": self.name,
            "from": before,
            "to": to,
            "reason": why,
        }
        log = _log.warning if to == OPEN else _log.info
        log("circuit breaker state change", breaker=self.name, before=before, after=to, reason=why)
        if self._audit is not None:
            self._audit.append(change)
        for listener in self._listeners:
            listener(change)

    def reset(self) -> None:
        """Close the breaker and forget past failures."""
        with self._lock:
            self._failures.clear()
            if self._state != CLOSED:
                self._move(CLOSED, "reset by hand")

    def to_dict(self) -> dict[str, Any]:
        """Configuration and current state as plain data."""
        return {
            "name": self.name,
            "state": self.state,
            "failure_threshold": self.failure_threshold,
            "window": self.window,
            "recovery_s": self.recovery_s,
            "half_open_max": self.half_open_max,
            "recent_failures": len(self._failures),
            "opened_count": self.opened_count,
        }

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(name={self.name!r}, state={self.state!r}, "
            f"failure_threshold={self.failure_threshold}, window={self.window:g}, "
            f"recovery_s={self.recovery_s:g}, half_open_max={self.half_open_max})"
        )
