"""Disparities between groups, their intervals, verdicts and the multiple-comparison correction.

Every function works on the last axis (groups), so the same code gives the
point estimate from ``(G,)`` values and the bootstrap distribution from
``(B, G)`` draws. NaN (an undefined metric) is skipped the way pandas skips
it in ``MetricFrame.difference()`` / ``ratio()``.
"""

from __future__ import annotations

import math
import warnings
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = [
    "between_difference",
    "between_ratio",
    "holm",
    "interval",
    "overall_difference",
    "overall_ratio",
    "verdict",
    "wilson",
]

Array = np.ndarray[Any, Any]


def _nan_reduce(fn: Any, x: Array) -> Array:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row reduces to NaN
        return np.asarray(fn(x, axis=-1))


def between_difference(v: Array) -> Array:
    """``max - min`` over groups (MetricFrame ``difference(method='between_groups')``)."""
    return _nan_reduce(np.nanmax, v) - _nan_reduce(np.nanmin, v)


def between_ratio(v: Array) -> Array:
    """``min / max`` over groups (MetricFrame ``ratio(method='between_groups')``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _nan_reduce(np.nanmin, v) / _nan_reduce(np.nanmax, v)


def overall_difference(v: Array, overall: Any) -> Array:
    """``max |group - overall|`` (MetricFrame ``difference(method='to_overall')``)."""
    return _nan_reduce(np.nanmax, np.abs(v - np.asarray(overall)[..., None]))


def overall_ratio(v: Array, overall: Any) -> Array:
    """``min`` over groups of ``group/overall`` folded into (0, 1] (``ratio('to_overall')``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = v / np.asarray(overall)[..., None]
        r = np.where(r > 1, 1 / r, r)
    return _nan_reduce(np.nanmin, r)


def interval(draws: Array | None, ci: float) -> tuple[Array, Array]:
    """Percentile interval over the first axis, ignoring NaN resamples."""
    if draws is None:
        return np.asarray(np.nan), np.asarray(np.nan)
    a = (1 - ci) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(np.asarray(draws, dtype=np.float64), [a, 1 - a], axis=0)
    return lo, hi


def wilson(successes: Array, trials: Array, ci: float) -> tuple[Array, Array]:
    """Wilson score interval of a proportion (closed form); NaN where ``trials == 0``."""
    z = NormalDist().inv_cdf(0.5 + ci / 2)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo = np.where(n > 0, centre - half, np.nan)
    hi = np.where(n > 0, centre + half, np.nan)
    return lo, hi


def two_sided_p(estimate: Array, draws: Array | None) -> Array:
    """p-value of "no disparity", from the estimate over its bootstrap standard error."""
    if draws is None:
        return np.full(np.shape(estimate), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(draws, axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(np.asarray(estimate, dtype=np.float64)) / se
    out = np.array([math.erfc(x / math.sqrt(2)) if np.isfinite(x) else np.nan for x in np.ravel(z)])
    out = np.where((se == 0) & (np.asarray(estimate) != 0), 0.0, out.reshape(np.shape(z)))
    return np.where((se == 0) & (np.asarray(estimate) == 0), 1.0, out)


def holm(p: Array) -> Array:
    """Holm's step-down adjusted p-values (NaN stays NaN and does not count)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out


def verdict(lo: float, hi: float, point: float, low: float, high: float) -> str:
    """``pass`` if the interval lies in ``[low, high]``, ``fail`` if outside, else inconclusive.

    Without an interval (no resamples) the point estimate decides.
    """
    if not np.isfinite(point):
        return "undefined"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        lo = hi = point
    if lo >= low and hi <= high:
        return "pass"
    if hi < low or lo > high:
        return "fail"
    return "inconclusive"
