"""A mergeable quantile sketch with a guaranteed rank error (KLL-style compaction).

The sketch keeps at most about ``size`` weighted points of a column. Built
from one batch it sorts the values and keeps the median of each run of
``ceil(n / size)`` consecutive values; merging concatenates the points and,
when they outgrow ``size``, keeps one point per run of ranks again (the point
at the run's middle rank). Every compaction moves any rank by at most half a
run, and the sketch adds those halves up in :attr:`QuantileSketch.error`:
the estimated number of values ``<= x`` is within ``error`` of the true
number, for every ``x``, always (a deterministic bound, not a probability).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["QuantileSketch"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _readonly(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a.flags.writeable = False
    return a


def _compact(items: FloatArray, weights: IntArray, size: int) -> tuple[FloatArray, IntArray, int]:
    """At most ``size`` points of weight ``run = ceil(n / size)``; adds at most ``run // 2``.

    Point ``j`` stands for ranks ``j * run`` to ``(j + 1) * run`` and is the
    first input point whose running weight reaches the middle of that range.
    The estimated count of values ``<= x`` then moves by at most half a run
    whatever the input weights are (the proof is a line: the input's running
    weight at ``x`` lies between the middles of the two ranges around ``x``).
    """
    if len(items) <= size:
        return items, weights, 0
    n = int(weights.sum())
    run = -(-n // size)
    k = -(-n // run)
    new_weights = np.full(k, run, dtype=np.int64)
    new_weights[-1] = n - run * (k - 1)
    targets = np.arange(k, dtype=np.int64) * run + (new_weights + 1) // 2
    reps = np.searchsorted(np.cumsum(weights), targets, side="left")
    new_items = items[reps]
    distinct = np.r_[True, new_items[1:] != new_items[:-1]]
    if not distinct.all():  # a heavy value chosen twice becomes one point
        keep = np.flatnonzero(distinct)
        new_items, new_weights = new_items[keep], np.add.reduceat(new_weights, keep)
    return new_items, new_weights, run // 2


@dataclass(frozen=True, eq=False)
class QuantileSketch:
    """Weighted points summarising a column's distribution; see the module docstring.

    Attributes
    ----------
    items:
        Sorted representative values (read-only).
    weights:
        How many values each item stands for (read-only).
    error:
        Bound on the rank error in values: for every ``x`` the estimated
        count of values ``<= x`` is within ``error`` of the truth.
    size:
        The capacity the sketch compacts to.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprod.data.drift.sketch import QuantileSketch
    >>> s = QuantileSketch.from_values(np.arange(10_000.0), size=100)
    >>> s.n, s.error, len(s.items) <= 100
    (10000, 50, True)
    >>> bool(abs(s.rank(4999.0) - 5000) <= s.error)
    True
    """

    items: FloatArray
    weights: IntArray
    error: int
    size: int

    @property
    def n(self) -> int:
        """The number of values summarised."""
        return int(self.weights.sum())

    @property
    def rank_error(self) -> float:
        """The rank error as a fraction of the values (``error / n``); 0 when empty."""
        n = self.n
        return self.error / n if n else 0.0

    @classmethod
    def empty(cls, size: int) -> QuantileSketch:
        """A sketch of no values."""
        return cls(_readonly(np.empty(0, np.float64)), _readonly(np.empty(0, np.int64)), 0, size)

    @classmethod
    def from_values(cls, values: npt.ArrayLike, *, size: int) -> QuantileSketch:
        """Sketch finite values (NaN and infinities must be removed by the caller)."""
        return cls.from_sorted(np.sort(np.asarray(values, dtype=np.float64)), size=size)

    @classmethod
    def from_sorted(cls, x: FloatArray, *, size: int) -> QuantileSketch:
        """Sketch finite values already sorted ascending; ``x`` is not kept or changed.

        The items are copies, so the caller may reuse ``x``'s memory afterwards.
        """
        n = len(x)
        if n <= size:
            return cls(_readonly(x.copy()), _readonly(np.ones(n, np.int64)), 0, size)
        run = -(-n // size)
        starts = np.arange(0, n, run)
        totals = np.diff(np.r_[starts, n]).astype(np.int64)
        reps = starts + (totals - 1) // 2
        return cls(_readonly(x[reps]), _readonly(totals), int(run // 2), size)

    @classmethod
    def merge(cls, sketches: list[QuantileSketch], *, size: int | None = None) -> QuantileSketch:
        """One sketch of all the values behind ``sketches``, compacted to ``size`` points.

        ``size`` defaults to the first sketch's. The error is the sum of the
        inputs' errors plus at most half a run for the compaction.
        """
        size = sketches[0].size if size is None else size
        items = np.concatenate([s.items for s in sketches])
        weights = np.concatenate([s.weights for s in sketches])
        order = np.argsort(items, kind="stable")
        items, weights = items[order], weights[order]
        error = sum(s.error for s in sketches)
        items, weights, added = _compact(items, weights, size)
        return cls(_readonly(items), _readonly(weights), error + added, size)

    def rank(self, x: npt.ArrayLike) -> Any:
        """Estimated number of values ``<= x`` (vectorised over ``x``)."""
        cum = np.r_[0, np.cumsum(self.weights)]
        return cum[np.searchsorted(self.items, x, side="right")]

    def cdf(self, x: npt.ArrayLike) -> Any:
        """Estimated share of values ``<= x``; within :attr:`rank_error` of the truth."""
        n = self.n
        return self.rank(x) / n if n else np.zeros_like(np.asarray(x, dtype=float))

    def quantile(self, q: npt.ArrayLike) -> Any:
        """A value whose rank is within :attr:`error` of ``q * n`` (vectorised over ``q``)."""
        if self.n == 0:
            return np.full_like(np.asarray(q, dtype=float), np.nan)
        cum = np.cumsum(self.weights)
        target = np.clip(np.asarray(q, dtype=float), 0.0, 1.0) * self.n
        idx = np.clip(np.searchsorted(cum, target, side="left"), 0, len(self.items) - 1)
        return self.items[idx]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (floats written so they read back bit for bit)."""
        return {
            "items": self.items.tolist(),
            "weights": self.weights.tolist(),
            "error": self.error,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantileSketch:
        """Inverse of :meth:`to_dict`."""
        return cls(
            _readonly(np.asarray(data["items"], dtype=np.float64)),
            _readonly(np.asarray(data["weights"], dtype=np.int64)),
            int(data["error"]),
            int(data["size"]),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantileSketch):
            return NotImplemented
        return (
            self.size == other.size
            and self.error == other.error
            and np.array_equal(self.items, other.items)
            and np.array_equal(self.weights, other.weights)
        )

    def __hash__(self) -> int:
        return hash((self.size, self.error, self.items.tobytes(), self.weights.tobytes()))
