"""Ambient deadlines carried in a context variable.

A deadline is an absolute instant on the runtime clock. Nested deadlines keep
the earlier one, so an inner ``with mp.deadline(ms=500)`` inside an outer
``ms=200`` still ends at 200 ms. Because the value lives in a
:class:`contextvars.ContextVar`, it follows asyncio tasks and threads started
with :func:`contextvars.copy_context`, and never leaks between requests.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

from mlprod.errors import ConfigurationError
from mlprod.runtime._testing import current_clock

__all__ = ["DeadlineScope", "current_deadline", "deadline", "remaining_ms"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "mlprod_deadline", default=None
)


def current_deadline() -> float | None:
    """The ambient deadline as an instant on the runtime clock (seconds), or ``None``."""
    return _DEADLINE.get()


class DeadlineScope:
    """An active (or about to be active) deadline; what :func:`deadline` returns.

    Use it with ``with`` or ``async with``. Inside, :attr:`remaining_ms`
    tells how much time is left of the effective (earliest) deadline.
    """

    __slots__ = ("_at", "_ms", "_token")

    def __init__(self, ms: float | None, at: float | None = None) -> None:
        self._ms = ms
        self._at = at
        self._token: contextvars.Token[float | None] | None = None

    def __enter__(self) -> DeadlineScope:
        # A budget counts from each entry, so one scope object can be reused.
        at = self._at if self._ms is None else current_clock().monotonic() + self._ms / 1000
        assert at is not None
        outer = _DEADLINE.get()
        if outer is not None and outer < at:
            at = outer
        self._at = at
        self._token = _DEADLINE.set(at)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _DEADLINE.reset(self._token)
            self._token = None

    async def __aenter__(self) -> DeadlineScope:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()

    @property
    def remaining_ms(self) -> float:
        """Milliseconds left before the effective deadline (0 once it has passed)."""
        if self._at is None:
            return float(self._ms or 0.0)
        return max(0.0, (self._at - current_clock().monotonic()) * 1000)

    @property
    def expired(self) -> bool:
        """``True`` once the deadline has passed."""
        return self.remaining_ms <= 0.0

    def __repr__(self) -> str:
        if self._token is None:
            return f"deadline(ms={self._ms})"
        return f"deadline(remaining_ms={self.remaining_ms:.1f})"


def deadline(ms: float | None = None, *, s: float | None = None) -> DeadlineScope:
    """Set a time budget for the enclosed code, in a context variable.

    Every guarded call inside uses the smaller of its own ``budget_ms`` and
    what is left of this deadline; :func:`remaining_ms` reads it anywhere
    below. Nested deadlines take the earlier one. Works in threads started
    with :func:`contextvars.copy_context` and in asyncio tasks (use
    ``async with`` or ``with``).

    Parameters
    ----------
    ms:
        The budget in milliseconds.
    s:
        Or the budget in seconds.

    Raises
    ------
    ConfigurationError
        If neither or both of ``ms`` and ``s`` are given, or the budget is
        negative or not finite.

    Examples
    --------
    >>> import mlprod as mp
    >>> with mp.deadline(ms=200):
    ...     with mp.deadline(ms=5_000):  # the earlier deadline wins
    ...         left = mp.remaining_ms()
    >>> 0 < left <= 200
    True
    >>> mp.remaining_ms() is None  # no deadline outside
    True
    """
    if (ms is None) == (s is None):
        raise ConfigurationError(
            "deadline() needs exactly one of ms= or s=, e.g. mp.deadline(ms=200)",
            parameter="ms",
            value=ms,
        )
    param, value, unit = ("ms", ms, "milliseconds") if ms is not None else ("s", s, "seconds")
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigurationError(
            f"a deadline must be a finite, non-negative number of {unit}, got {param}={value!r}",
            parameter=param,
            value=value,
        )
    return DeadlineScope(float(value) if param == "ms" else float(value) * 1000)


def deadline_at(at: float | None) -> DeadlineScope | contextlib.nullcontext[None]:
    """A scope (``with`` or ``async with``) that sets the ambient deadline to ``at``, if any."""
    return contextlib.nullcontext() if at is None else DeadlineScope(None, at)


def remaining_ms() -> float | None:
    """Milliseconds left of the ambient deadline, ``0.0`` once it passed, ``None`` without one.

    Examples
    --------
    >>> import mlprod as mp
    >>> mp.remaining_ms() is None
    True
    >>> with mp.deadline(ms=1_000):
    ...     mp.remaining_ms() > 900
    True
    """
    at = _DEADLINE.get()
    if at is None:
        return None
    return max(0.0, (at - current_clock().monotonic()) * 1000)


# Reported, documented and pickled under the public path.
deadline.__module__ = "mlprod"
remaining_ms.__module__ = "mlprod"
