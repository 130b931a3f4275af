"""A fixed-memory, mergeable latency histogram with bounded relative error.

Buckets are log-linear: each power of two between 1 µs and about 4.7 hours
is cut into 16 equal sub-buckets, so any quantile is reported within 1/32
(3.1 %) of the true value, in 544 counters whatever the traffic. Two
histograms merge by adding their counters, so per-process or per-interval
histograms combine into exactly the histogram of all the samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["LatencyHistogram"]

_SUB = 16
_EMIN = -9  # 2**-10 ms ≈ 1 µs
_EMAX = 24  # 2**24 ms ≈ 4.7 h
_SIZE = (_EMAX - _EMIN + 1) * _SUB


def _index(ms: float) -> int:
    if ms <= 0.0:
        return 0
    mant, exp = math.frexp(ms)  # ms = mant * 2**exp, 0.5 <= mant < 1
    if exp < _EMIN:
        return 0
    if exp > _EMAX:
        return _SIZE - 1
    return (exp - _EMIN) * _SUB + int((mant - 0.5) * 2 * _SUB)


def _midpoint(index: int) -> float:
    exp, sub = divmod(index, _SUB)
    low = math.ldexp(0.5 + sub / (2 * _SUB), exp + _EMIN)
    high = math.ldexp(0.5 + (sub + 1) / (2 * _SUB), exp + _EMIN)
    return (low + high) / 2


class LatencyHistogram:
    """Latencies in milliseconds, counted in fixed log-linear buckets.

    Not thread-safe by itself: the guard records under its own lock.

    Examples
    --------
    >>> from mlprod.runtime.histogram import LatencyHistogram
    >>> a, b = LatencyHistogram(), LatencyHistogram()
    >>> for ms in range(1, 101):
    ...     (a if ms % 2 else b).record(float(ms))
    >>> merged = a.merged(b)
    >>> merged.count, 48 <= merged.quantile(0.5) <= 52
    (100, True)
    """

    __module__ = "mlprod"

    __slots__ = ("count", "counts", "max", "min", "total")

    def __init__(self) -> None:
        self.counts = [0] * _SIZE
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = 0.0

    def record(self, ms: float) -> None:
        """Count one latency of ``ms`` milliseconds."""
        self.counts[_index(ms)] += 1
        self.count += 1
        self.total += ms
        if ms < self.min:
            self.min = ms
        if ms > self.max:
            self.max = ms

    def record_many(self, values: Iterable[float]) -> None:
        """Count every latency in ``values``."""
        for ms in values:
            self.record(ms)

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 <= q <= 1) in milliseconds, within 3.1 %; NaN when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile q must be within [0, 1], got {q}")
        if self.count == 0:
            return math.nan
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= rank:
                # Exact extremes beat bucket midpoints at the ends of the range.
                return min(max(_midpoint(i), self.min), self.max)
        return self.max

    def quantiles(self, qs: Sequence[float]) -> list[float]:
        """Several quantiles at once."""
        return [self.quantile(q) for q in qs]

    @property
    def mean(self) -> float:
        """The mean latency in milliseconds (exact; NaN when empty)."""
        return self.total / self.count if self.count else math.nan

    def merge(self, other: LatencyHistogram) -> None:
        """Add ``other``'s samples into this histogram, in place."""
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]
        self.count += other.count
        self.total += other.total
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def merged(self, other: LatencyHistogram) -> LatencyHistogram:
        """A new histogram holding the samples of both."""
        out = self.copy()
        out.merge(other)
        return out

    def copy(self) -> LatencyHistogram:
        """An independent copy."""
        out = LatencyHistogram()
        out.counts = list(self.counts)
        out.count, out.total, out.min, out.max = self.count, self.total, self.min, self.max
        return out

    def to_dict(self) -> dict[str, Any]:
        """Sparse plain-data form (non-empty buckets only); :meth:`from_dict` reads it back."""
        return {
            "layout": f"log2x{_SUB}:{_EMIN}:{_EMAX}",
            "count": self.count,
            "total_ms": self.total,
            "min_ms": None if self.count == 0 else self.min,
            "max_ms": self.max,
            "buckets": {str(i): c for i, c in enumerate(self.counts) if c},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencyHistogram:
        """Rebuild a histogram from :meth:`to_dict` output."""
        expected = f"log2x{_SUB}:{_EMIN}:{_EMAX}"
        if data.get("layout") != expected:
            raise ValueError(
                f"histogram layout {data.get('layout')!r} differs from {expected!r}; "
                "it was written by an incompatible mlprod version"
            )
        out = cls()
        for key, c in data["buckets"].items():
            out.counts[int(key)] = int(c)
        out.count = int(data["count"])
        out.total = float(data["total_ms"])
        out.min = math.inf if data["min_ms"] is None else float(data["min_ms"])
        out.max = float(data["max_ms"])
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LatencyHistogram):
            return NotImplemented
        return self.counts == other.counts and self.count == other.count

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not self.count:
            return "LatencyHistogram(count=0)"
        p50, p99 = self.quantile(0.5), self.quantile(0.99)
        return f"LatencyHistogram(count={self.count}, p50={p50:.3g} ms, p99={p99:.3g} ms)"
