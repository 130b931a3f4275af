"""What happened on one guarded call: the outcome, the path that answered, and why.

The guard fills a :class:`CallState` as the call moves through its defences
and hands the result back as a plain tuple (:data:`Result`) to the code that
made the call; :class:`CallOutcome` is built from it only when someone asks
(``Guard.call``, ``Guard.last_outcome``), which keeps ``predict`` lean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlprod._internal.render import Document, Rendered
from mlprod.runtime.breaker import Permit

__all__ = ["CallOutcome", "CallState", "Result"]

Result = tuple[str, str, str, str, float, Any]
"""One call's ``(outcome, answered_by, path, reason, latency_ms, value)``."""


@dataclass(frozen=True, repr=False)
class CallOutcome(Rendered):
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

    def _document(self, **options: Any) -> Document:
        facts: dict[str, Any] = {
            "outcome": self.outcome,
            "answered by": self.answered_by,
            "path": self.path or "-",
            "latency": f"{self.latency_ms:.3g} ms",
        }
        if self.reason:
            facts["reason"] = self.reason
        return Document("Guarded call", ok=self.ok, facts=facts)

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


# The class reports mlprod as its module, so doctest would not see it as defined here.
__test__ = {"CallOutcome": CallOutcome}
