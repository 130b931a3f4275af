"""Cost budgets: route calls to the fallback once a paid model has spent its allowance.

Spending is counted in a ring of 60 time slots spanning the budget window,
so the memory is fixed and old spending drops out slot by slot (the window
is exact to within 1/60 of its length).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from mlprod.errors import ConfigurationError
from mlprod.protocols import Clock
from mlprod.runtime._testing import current_clock

__all__ = ["CostBudget", "CostFn"]

CostFn = Callable[[Any, Any], float]
"""A cost as a function of a call's input and output."""

_SLOTS = 60


def _finite_cost(cost: float) -> None:
    if isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost):
        raise ConfigurationError(
            f"a cost must be a finite number, got {cost!r}: NaN would switch the budget off "
            "for good and an infinite cost would jam it. Make the cost function return a "
            "finite number of your cost unit.",
            parameter="cost",
            value=repr(cost),
        )


class CostBudget:
    """At most ``amount`` of cost within any ``per_seconds`` window (to within 1/60 of it).

    Parameters
    ----------
    amount:
        The allowance, in your cost unit (dollars, tokens, credits).
    per_seconds:
        The window's length in seconds.
    clock:
        Where time comes from; the runtime clock by default.

    Examples
    --------
    >>> from mlprod.runtime.budget import CostBudget
    >>> import mlprod as mp
    >>> clock = mp.ManualClock()
    >>> budget = CostBudget(1.0, 60, clock=clock)
    >>> budget.spend(0.6); budget.spend(0.6)
    >>> budget.exhausted()
    True
    >>> clock.advance(61)
    >>> budget.exhausted(), budget.spent()
    (False, 0.0)
    """

    def __init__(self, amount: float, per_seconds: float, *, clock: Clock | None = None) -> None:
        for param, value in (("amount", amount), ("per_seconds", per_seconds)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ConfigurationError(
                    f"cost_budget=(amount, per_seconds) needs positive numbers; "
                    f"{param} is {value!r}",
                    parameter="cost_budget",
                    value=(amount, per_seconds),
                )
        self.amount = float(amount)
        self.per_seconds = float(per_seconds)
        self._clock = clock
        self._slot_s = self.per_seconds / _SLOTS
        self._ring = [0.0] * _SLOTS
        self._stamp = [-1] * _SLOTS  # which absolute slot number each cell holds
        self._lock = threading.Lock()

    def _slot(self) -> int:
        return int((self._clock or current_clock()).monotonic() / self._slot_s)

    def _live(self, now_slot: int) -> float:
        oldest = now_slot - _SLOTS + 1
        return sum((v for v, s in zip(self._ring, self._stamp) if s >= oldest), 0.0)

    def _add(self, slot: int, cost: float) -> None:
        cell = slot % _SLOTS
        if self._stamp[cell] != slot:
            self._stamp[cell] = slot
            self._ring[cell] = 0.0
        self._ring[cell] += cost

    def spend(self, cost: float) -> None:
        """Count ``cost`` as spent now (a negative cost gives some back).

        Raises
        ------
        ConfigurationError
            When ``cost`` is NaN or infinite: one such value would switch
            the budget off (NaN compares false) or jam it for good.
        """
        _finite_cost(cost)
        if not cost:
            return
        slot = self._slot()
        with self._lock:
            self._add(slot, float(cost))

    def try_spend(self, cost: float) -> bool:
        """Count ``cost`` as spent now unless the budget is exhausted; ``False`` if it is.

        Checking and counting are one step, so concurrent callers cannot all
        pass the check before any of them counts.
        """
        _finite_cost(cost)
        if cost < 0:
            raise ConfigurationError(
                f"a call's cost cannot be negative, got {cost!r}",
                parameter="cost",
                value=cost,
            )
        slot = self._slot()
        with self._lock:
            if self._live(slot) >= self.amount:
                return False
            if cost:
                self._add(slot, float(cost))
            return True

    def spent(self) -> float:
        """Cost spent within the current window."""
        slot = self._slot()
        with self._lock:
            return self._live(slot)

    def exhausted(self) -> bool:
        """``True`` when the window's spending has reached ``amount``."""
        return self.spent() >= self.amount

    def to_dict(self) -> dict[str, Any]:
        """The budget and current spending as plain data."""
        return {"amount": self.amount, "per_seconds": self.per_seconds, "spent": self.spent()}

    def __repr__(self) -> str:
        return (
            f"CostBudget(amount={self.amount:g}, per_seconds={self.per_seconds:g}, "
            f"spent={self.spent():g})"
        )
