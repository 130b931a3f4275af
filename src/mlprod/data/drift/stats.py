"""Two-sample statistics computed from summaries (sketches and category counts).

Each function says how it relates to the ``scipy.stats`` function computing
the same quantity from raw data: equal when the sketches are exact (every
value kept), and within a stated bound otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from mlprod.data.drift.sketch import QuantileSketch
from mlprod.data.drift.summaries import CategoricalSummary

__all__ = [
    "benjamini_hochberg",
    "category_table",
    "chi_square",
    "jensen_shannon",
    "ks_pvalue",
    "ks_statistic",
    "psi",
    "quantile_bins",
    "wasserstein",
    "wasserstein_interval",
]

_EPS = 1e-4  # share floor for PSI, so a bin empty on one side gives a finite value


def ks_statistic(ref: QuantileSketch, cur: QuantileSketch) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic and its error bound.

    Equal to ``scipy.stats.ks_2samp(a, b).statistic`` when both sketches are
    exact; otherwise within ``ref.rank_error + cur.rank_error`` of it.
    """
    grid = np.union1d(ref.items, cur.items)
    d = float(np.max(np.abs(ref.cdf(grid) - cur.cdf(grid)))) if len(grid) else 0.0
    return d, ref.rank_error + cur.rank_error


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Asymptotic two-sided KS p-value, as ``ks_2samp(..., method="asymp")``.

    Above an effective size of 1,000 it uses Kolmogorov's limit
    (``kstwobign``), which agrees to about 1e-3 and costs microseconds.
    """
    from scipy import stats

    en = n1 * n2 / (n1 + n2)
    if en > 1_000:
        return float(np.clip(stats.kstwobign.sf(d * np.sqrt(en)), 0.0, 1.0))
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def wasserstein(ref: QuantileSketch, cur: QuantileSketch) -> float:
    """Wasserstein-1 distance of the two distributions.

    ``scipy.stats.wasserstein_distance`` of the sketch points with their
    weights: equal to the raw-data value when the sketches are exact, and
    within ``(ref.rank_error + cur.rank_error) * (max - min)`` of it otherwise.
    """
    from scipy import stats

    return float(stats.wasserstein_distance(ref.items, cur.items, ref.weights, cur.weights))


_NORMAL_FROM = 100
_DRAW_BLOCK = 50
_BOOTSTRAP_POINTS = 256


def _poisson_counts(
    rng: np.random.Generator, weights: npt.NDArray[np.int64], draws: int
) -> npt.NDArray[np.float64]:
    """``draws`` rows of Poisson counts with means ``weights`` (normal where the mean is large)."""
    w = weights.astype(np.float64)
    counts = rng.standard_normal((draws, len(w)))
    counts *= np.sqrt(w)
    counts += w
    np.maximum(counts, 0.0, out=counts)
    small = np.flatnonzero(w < _NORMAL_FROM)
    if small.size:
        counts[:, small] = rng.poisson(w[small], size=(draws, small.size))
    return counts


def wasserstein_interval(
    ref: QuantileSketch,
    cur: QuantileSketch,
    *,
    level: float = 0.95,
    draws: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap interval of the Wasserstein distance, resampling both sketches.

    Each draw gives every sketch point a Poisson count with its weight as
    mean (the Poisson bootstrap), so it costs ``O(bins)`` whatever ``n``.
    Points of weight :data:`_NORMAL_FROM` or more draw the count from the
    normal law of the same mean and variance (the Poisson law's limit; its
    quantiles differ by well under one percent of the spread there), which is
    several times cheaper to draw.

    The draws run on both sketches compacted to :data:`_BOOTSTRAP_POINTS`
    points (the spread of the distance comes from how whole stretches of
    the distribution move, which that many points resolve), and the interval
    is moved by the difference that compaction makes to the distance itself.
    """
    rng = np.random.default_rng(seed)
    sketches = [QuantileSketch.merge([sk], size=_BOOTSTRAP_POINTS) for sk in (ref, cur)]
    grid = np.union1d(sketches[0].items, sketches[1].items)
    widths = np.diff(grid)
    positions = [np.searchsorted(sk.items, grid[:-1], side="right") for sk in sketches]

    def distances(counts: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
        cdfs = []
        for c, pos in zip(counts, positions):
            cum = np.zeros((len(c), c.shape[1] + 1))
            np.cumsum(c, axis=1, out=cum[:, 1:])
            cdf = cum[:, pos]
            cdf /= np.maximum(cum[:, -1:], 1.0)
            cdfs.append(cdf)
        np.subtract(cdfs[0], cdfs[1], out=cdfs[0])
        np.abs(cdfs[0], out=cdfs[0])
        return np.asarray(cdfs[0] @ widths, dtype=np.float64)

    values = np.empty(draws)
    for start in range(0, draws, _DRAW_BLOCK):  # blocks keep the arrays a few hundred kB
        block = min(_DRAW_BLOCK, draws - start)
        values[start : start + block] = distances(
            [_poisson_counts(rng, sk.weights, block) for sk in sketches]
        )
    coarse = distances([sk.weights.astype(np.float64)[None, :] for sk in sketches])[0]
    tail = (1 - level) / 2
    lo, hi = np.quantile(values, [tail, 1 - tail]) + (wasserstein(ref, cur) - coarse)
    return max(float(lo), 0.0), float(hi)


def quantile_bins(ref: QuantileSketch, cur: QuantileSketch, bins: int = 10) -> tuple[Any, Any, Any]:
    """Edges at the reference's quantiles and the two sides' counts per bin."""
    inner = np.unique(ref.quantile(np.linspace(0, 1, bins + 1)[1:-1]))
    lo = min(float(ref.items[0]), float(cur.items[0]))
    hi = max(float(ref.items[-1]), float(cur.items[-1]))
    edges = np.r_[lo, inner[(inner > lo) & (inner < hi)], hi]
    r = np.diff(np.r_[0, ref.rank(edges[1:-1]), ref.n])
    c = np.diff(np.r_[0, cur.rank(edges[1:-1]), cur.n])
    return edges, r, c


def category_table(
    ref: CategoricalSummary, cur: CategoricalSummary
) -> tuple[list[str], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Union of categories (and "other" when used) with both sides' counts."""
    names = sorted(set(ref.counts) | set(cur.counts))
    r = [ref.counts.get(k, 0) for k in names]
    c = [cur.counts.get(k, 0) for k in names]
    if ref.other or cur.other:
        names.append("(other)")
        r.append(ref.other)
        c.append(cur.other)
    return names, np.asarray(r, dtype=float), np.asarray(c, dtype=float)


def chi_square(r: npt.NDArray[np.float64], c: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Chi-square test of homogeneity, ``scipy.stats.chi2_contingency`` of the 2×k table."""
    from scipy import stats

    keep = (r + c) > 0
    table = np.vstack([r[keep], c[keep]])
    if table.shape[1] < 2:
        return 0.0, 1.0
    res = stats.chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


def jensen_shannon(r: npt.NDArray[np.float64], c: npt.NDArray[np.float64]) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]), ``scipy.spatial.distance.jensenshannon``."""
    from scipy.spatial import distance

    if r.sum() == 0 or c.sum() == 0:
        return float("nan")
    return float(distance.jensenshannon(r / r.sum(), c / c.sum(), base=2))


def psi(r: npt.NDArray[np.float64], c: npt.NDArray[np.float64]) -> float:
    """Population stability index, shares floored at 1e-4 so empty bins stay finite."""
    p = np.maximum(r / r.sum(), _EPS)
    q = np.maximum(c / c.sum(), _EPS)
    return float(np.sum((q - p) * np.log(q / p)))


def js_interval(
    r: npt.NDArray[np.float64],
    c: npt.NDArray[np.float64],
    *,
    level: float = 0.95,
    draws: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap interval of the Jensen–Shannon distance (multinomial on both sides)."""
    rng = np.random.default_rng(seed)
    nr, nc = int(r.sum()), int(c.sum())
    rr = rng.multinomial(nr, r / nr, size=draws).astype(float)
    cc = rng.multinomial(nc, c / nc, size=draws).astype(float)
    p = rr / nr
    q = cc / nc
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    values = np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))
    tail = (1 - level) / 2
    lo, hi = np.quantile(values, [tail, 1 - tail])
    return float(lo), float(hi)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (``scipy.stats.false_discovery_control``)."""
    if not pvalues:
        return []
    from scipy import stats

    return [float(v) for v in stats.false_discovery_control(np.asarray(pvalues), method="bh")]
