"""What happened on one guarded call: the outcome, the path that answered, and why.

The guard fills a :class:`CallState` as the call moves through its defences,
then keeps the result per thread or asyncio task (a context variable), from
which :class:`CallOutcome` is built only when someone asks.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

from mlprod.runtime.breaker import Permit

__all__ = ["CallOutcome", "CallState", "last_outcome", "remember"]

# The latest call's (outcome, answered_by, path, reason, latency_ms, value); a CallOutcome
# is built from it only when asked for, which keeps the hot path lean.
_LAST: contextvars.ContextVar[tuple[str, str, str, str, float, Any] | None] = (
    contextvars.ContextVar("mlprod_guard_last_outcome", default=None)
)


@dataclass(frozen=True)
class CallOutcome:
    """What happened on one guarded call.

    Attributes
    ----------
    outcome:
        What happened to the primary: ``ok``, ``timeout``, ``error``,
        ``invalid_input``, ``invalid_output``, ``breaker_open``, ``shed`` or
        ``over_budget``.
    answered_by:
        ``"primary"``, ``"fallback"``, or ``"none"`` when the guard raised.
    path:
        ``"primary"`` or ``"fallback[i]:<label>"`` (``""`` when nothing answered).
    reason:
        Why the primary did not answer, in words (empty on ``ok``).
    latency_ms:
        Time from the call to the answer.
    value:
        The answer (not shown in ``repr``).

    Examples
    --------
    >>> import mlprod as mp
    >>> g = mp.guard(lambda X: 1 / 0, fallback=0)
    >>> result = g.call([[1.0]])
    >>> result.outcome, result.path, result.value.tolist()
    ('error', 'fallback[0]:0', [0])
    """

    __module__ = "mlprod"

    outcome: str
    answered_by: str
    path: str
    reason: str
    latency_ms: float
    value: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        reason = f", reason={self.reason!r}" if self.reason else ""
        return (
            f"CallOutcome(outcome={self.outcome!r}, answered_by={self.answered_by!r}, "
            f"path={self.path!r}{reason}, latency_ms={self.latency_ms:.3g})"
        )

    @property
    def ok(self) -> bool:
        """``True`` when the primary answered."""
        return self.outcome == "ok"

    def to_dict(self) -> dict[str, Any]:
        """Everything but the value, as plain data."""
        return {
            "outcome": self.outcome,
            "answered_by": self.answered_by,
            "path": self.path,
            "reason": self.reason,
            "latency_ms": self.latency_ms,
        }


class CallState:
    """The working state of one call as it moves through the defences."""

    __slots__ = ("at", "error", "outcome", "permit", "reason", "reserved", "start", "value")

    def __init__(self, start: float, at: float | None) -> None:
        self.start = start
        self.at = at
        self.outcome = "ok"
        self.reason = ""
        self.error: BaseException | None = None
        self.permit: Permit | None = None
        self.reserved = 0.0  # cost counted up front, given back if the primary fails
        self.value: Any = None


def remember(
    outcome: str, answered_by: str, path: str, reason: str, latency_ms: float, value: Any
) -> None:
    """Keep the latest call's result for this thread or asyncio task."""
    _LAST.set((outcome, answered_by, path, reason, latency_ms, value))


def last_outcome() -> CallOutcome | None:
    """The latest call's :class:`CallOutcome` in this thread or asyncio task, or ``None``."""
    last = _LAST.get()
    return None if last is None else CallOutcome(*last)
