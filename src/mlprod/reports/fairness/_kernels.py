"""Per-group metrics from counts: one ``bincount`` over the rows, arithmetic after.

Classification metrics are functions of per-group confusion counts, so the
rows are touched once (``bincount`` of ``group * K² + true * K + pred``) and
every metric, the overall value and every bootstrap resample is arithmetic
on a ``(..., G, K, K)`` array. Resamples draw confusion counts per group
from a multinomial instead of resampling rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "BINARY_METRICS",
    "REGRESSION_METRICS",
    "binary_metric",
    "confusion",
    "grouped_auc",
    "multiclass_metric",
    "regression_sums",
]

Array = np.ndarray[Any, Any]

# name -> (numerator cells, denominator cells, why it can be undefined) over (tn, fp, fn, tp)
_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...], str]] = {
    "selection_rate": ((1, 3), (0, 1, 2, 3), "the group is empty"),
    "accuracy": ((0, 3), (0, 1, 2, 3), "the group is empty"),
    "true_positive_rate": ((3,), (2, 3), "no actual positives (TP + FN = 0)"),
    "false_negative_rate": ((2,), (2, 3), "no actual positives (TP + FN = 0)"),
    "false_positive_rate": ((1,), (0, 1), "no actual negatives (FP + TN = 0)"),
    "true_negative_rate": ((0,), (0, 1), "no actual negatives (FP + TN = 0)"),
    "precision": ((3,), (1, 3), "no predicted positives (TP + FP = 0)"),
}
BINARY_METRICS = ("count", *_RATES)
REGRESSION_METRICS = (
    "count",
    "mean_absolute_error",
    "root_mean_squared_error",
    "mean_prediction",
    "mean_residual",
)


def confusion(codes: Array, n_groups: int, y_true: Array, y_pred: Array, k: int) -> Array:
    """``(G, K, K)`` counts: ``[g, t, p]`` rows of group g with truth t predicted p."""
    kk = k * k
    idx = codes * kk + (y_true * k + y_pred)
    return np.bincount(idx, minlength=n_groups * kk).reshape(n_groups, k, k)


def _cells(c: Array) -> Array:
    """(..., 2, 2) -> (..., 4) as (tn, fp, fn, tp)."""
    return c.reshape(*c.shape[:-2], 4)


def rate_parts(name: str, c: Array) -> tuple[Array, Array]:
    """Numerator and denominator of a binary rate from ``(..., 2, 2)`` counts."""
    flat = _cells(c)
    num_idx, den_idx, _ = _RATES[name]
    return flat[..., list(num_idx)].sum(-1), flat[..., list(den_idx)].sum(-1)


def undefined_reason(name: str) -> str:
    """Why a rate has no value for a group (a zero denominator)."""
    if name in _RATES:
        return _RATES[name][2]
    return "the metric is undefined for this group"


def _divide(num: Array, den: Array, undefined: float) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num, dtype=np.float64) / den
    return np.where(den == 0, undefined, out)


def binary_metric(name: str, c: Array, undefined: float = np.nan) -> Array:
    """A standard binary metric from ``(..., 2, 2)`` confusion counts."""
    if name == "count":
        out: Array = _cells(c).sum(-1).astype(np.float64)
        return out
    num, den = rate_parts(name, c)
    return _divide(num, den, undefined)


def multiclass_metric(name: str, c: Array, undefined: float = np.nan) -> Array:
    """accuracy, count, ``selection_rate[k]`` or ``true_positive_rate[k]`` from (..., K, K)."""
    total = c.sum((-2, -1))
    if name == "count":
        tot: Array = total.astype(np.float64)
        return tot
    if name == "accuracy":
        return _divide(np.trace(c, axis1=-2, axis2=-1), total, undefined)
    base, _, k = name.partition("[")
    j = int(k.rstrip("]"))
    if base == "selection_rate":
        return _divide(c[..., :, j].sum(-1), total, undefined)
    if base == "true_positive_rate":
        return _divide(c[..., j, j], c[..., j, :].sum(-1), undefined)
    raise KeyError(name)


def multiclass_parts(name: str, c: Array) -> tuple[Array, Array]:
    """Numerator and denominator of a multiclass rate (for Wilson intervals)."""
    total = c.sum((-2, -1))
    if name == "accuracy":
        return np.trace(c, axis1=-2, axis2=-1), total
    base, _, k = name.partition("[")
    j = int(k.rstrip("]"))
    if base == "selection_rate":
        return c[..., :, j].sum(-1), total
    return c[..., j, j], c[..., j, :].sum(-1)


def regression_sums(codes: Array, n_groups: int, y_true: Array, y_pred: Array) -> Array:
    """``(G, 5)`` sums: n, Σ|e|, Σe², Σŷ, Σe with e = y - ŷ."""
    e = y_true - y_pred
    out = np.empty((n_groups, 5))
    out[:, 0] = np.bincount(codes, minlength=n_groups)
    out[:, 1] = np.bincount(codes, weights=np.abs(e), minlength=n_groups)
    out[:, 2] = np.bincount(codes, weights=e * e, minlength=n_groups)
    out[:, 3] = np.bincount(codes, weights=y_pred, minlength=n_groups)
    out[:, 4] = np.bincount(codes, weights=e, minlength=n_groups)
    return out


def regression_metric(name: str, s: Array) -> Array:
    """A regression metric from ``(..., 5)`` sums."""
    n = s[..., 0]
    if name == "count":
        return n.astype(np.float64)
    col = {
        "mean_absolute_error": 1,
        "root_mean_squared_error": 2,
        "mean_prediction": 3,
        "mean_residual": 4,
    }[name]
    value = _divide(s[..., col], n, np.nan)
    return np.sqrt(value) if name == "root_mean_squared_error" else value


def regression_draws(
    codes: Array,
    sizes: Array,
    y_true: Array,
    y_pred: Array,
    n_boot: int,
    rng: np.random.Generator,
    chunk_rows: int = 4_000_000,
) -> Array:
    """``(B, G, 5)`` sums over resamples drawn row-wise within each group.

    Sums of continuous values have no multinomial shortcut; each resample
    draws ``n_g`` rows of group ``g`` with replacement, all groups and a
    chunk of resamples at once.
    """
    n_groups = len(sizes)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    g_sorted = codes[order]
    e = (y_true - y_pred)[order]
    pred = y_pred[order]
    n = len(codes)
    out = np.empty((n_boot, n_groups, 5))
    per = max(1, chunk_rows // max(n, 1))
    for b0 in range(0, n_boot, per):
        b = min(per, n_boot - b0)
        u = rng.random((b, n))
        pick = starts[g_sorted] + np.floor(u * sizes[g_sorted]).astype(np.int64)
        key = (np.arange(b)[:, None] * n_groups + g_sorted[None, :]).ravel()
        ee, pp = e[pick].ravel(), pred[pick].ravel()
        m = b * n_groups
        out[b0 : b0 + b, :, 0] = np.bincount(key, minlength=m).reshape(b, n_groups)
        out[b0 : b0 + b, :, 1] = np.bincount(key, np.abs(ee), m).reshape(b, n_groups)
        out[b0 : b0 + b, :, 2] = np.bincount(key, ee * ee, m).reshape(b, n_groups)
        out[b0 : b0 + b, :, 3] = np.bincount(key, pp, m).reshape(b, n_groups)
        out[b0 : b0 + b, :, 4] = np.bincount(key, ee, m).reshape(b, n_groups)
    return out


def multinomial_draws(c: Array, n_boot: int, rng: np.random.Generator) -> Array:
    """``(B, G, K, K)`` confusion counts resampled within each group."""
    g, k, _ = c.shape
    flat = c.reshape(g, k * k).astype(np.float64)
    n = flat.sum(1)
    p = np.divide(flat, n[:, None], out=np.zeros_like(flat), where=n[:, None] > 0)
    draws = rng.multinomial(n.astype(np.int64), p, size=(n_boot, g))
    return draws.reshape(n_boot, g, k, k)


def grouped_auc(codes: Array, n_groups: int, y: Array, score: Array) -> tuple[Array, Array, Array]:
    """ROC AUC per group from within-group ranks (ties get their average rank).

    Returns ``(auc, n_pos, n_neg)``; AUC is NaN where a group lacks a class.
    Equal to ``sklearn.metrics.roc_auc_score`` on each group (Mann–Whitney U).
    """
    order = np.lexsort((score, codes))
    g = codes[order]
    s = score[order]
    yy = y[order].astype(np.float64)
    n = len(g)
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (g[1:] != g[:-1]) | (s[1:] != s[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, n - 1)
    block = np.cumsum(new) - 1
    gstart = np.searchsorted(g, np.arange(n_groups))
    rank = (first + last)[block] / 2.0 - gstart[g] + 1.0
    n_pos = np.bincount(g, weights=yy, minlength=n_groups)
    n_neg = np.bincount(g, minlength=n_groups) - n_pos
    r_pos = np.bincount(g, weights=rank * yy, minlength=n_groups)
    auc = _divide(r_pos - n_pos * (n_pos + 1) / 2.0, n_pos * n_neg, np.nan)
    return auc, n_pos, n_neg


def hanley_mcneil_se(auc: Array, n_pos: Array, n_neg: Array) -> Array:
    """Hanley & McNeil (1982) standard error of an AUC."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    var = _divide(
        auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2),
        n_pos * n_neg,
        np.nan,
    )
    return np.sqrt(np.maximum(var, 0.0))


def calibration(
    codes: Array, n_groups: int, y: Array, score: Array, bins: int = 10
) -> dict[str, tuple[Array, Array]]:
    """Per-group calibration summary: value and standard error of each mean.

    ``mean_score``, ``calibration_gap`` (mean score − observed positive rate),
    ``brier_score`` (mean squared error of the score) and
    ``expected_calibration_error`` (10 equal-width bins; no standard error).
    """
    n = np.bincount(codes, minlength=n_groups).astype(np.float64)
    yy = y.astype(np.float64)

    def mean_se(values: Array) -> tuple[Array, Array]:
        s1 = np.bincount(codes, weights=values, minlength=n_groups)
        s2 = np.bincount(codes, weights=values * values, minlength=n_groups)
        mean = _divide(s1, n, np.nan)
        var = _divide(s2 - n * mean**2, n - 1, np.nan)
        return mean, np.sqrt(np.maximum(var, 0.0) / np.maximum(n, 1))

    b = np.minimum((score * bins).astype(np.int64), bins - 1)
    key = codes * bins + b
    cnt = np.bincount(key, minlength=n_groups * bins).reshape(n_groups, bins)
    ssum = np.bincount(key, weights=score, minlength=n_groups * bins).reshape(n_groups, bins)
    ysum = np.bincount(key, weights=yy, minlength=n_groups * bins).reshape(n_groups, bins)
    ece = _divide(np.abs(ssum - ysum).sum(1), cnt.sum(1), np.nan)
    return {
        "mean_score": mean_se(score),
        "calibration_gap": mean_se(score - yy),
        "brier_score": mean_se((score - yy) ** 2),
        "expected_calibration_error": (ece, np.full(n_groups, np.nan)),
    }


def callable_metric(
    fn: Callable[..., Any],
    y_true: Array,
    y_pred: Array,
    codes: Array,
    sizes: Array,
    n_boot: int,
    rng: np.random.Generator | None,
) -> tuple[Array, float, Array | None, Array | None]:
    """A user's ``fn(y_true, y_pred)`` per group, overall, and over within-group resamples.

    A callable is opaque, so it runs once per group (and per group and
    resample when intervals are asked for): the loop is over groups, never
    over rows.
    """
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    slices = [order[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
    values = np.array([float(fn(y_true[ix], y_pred[ix])) for ix in slices])
    overall = float(fn(y_true, y_pred))
    if not n_boot or rng is None:
        return values, overall, None, None
    draws = np.empty((n_boot, len(sizes)))
    picks = [ix[rng.integers(0, len(ix), size=(n_boot, len(ix)))] for ix in slices]
    for g, pick in enumerate(picks):
        for b in range(n_boot):
            draws[b, g] = float(fn(y_true[pick[b]], y_pred[pick[b]]))
    overall_draws = np.empty(n_boot)
    for b in range(n_boot):
        rows = np.concatenate([p[b] for p in picks])
        overall_draws[b] = float(fn(y_true[rows], y_pred[rows]))
    return values, overall, draws, overall_draws
