"""Numbers behind an explanation: additivity, global importance, rank stability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Additivity", "additivity", "disagreements", "importance", "units"]


@dataclass(frozen=True)
class Additivity:
    """Base value + contributions against the model's output, on every row.

    Attributes
    ----------
    tolerance:
        The largest absolute error counted as a pass.
    max_error, mean_error:
        Over all explained rows.
    failing_rows:
        Row labels (of ``X``) whose error exceeds ``tolerance``.
    ok:
        ``True`` when no row fails.
    """

    __module__ = "mlprod"

    tolerance: float
    max_error: float
    mean_error: float
    failing_rows: tuple[Any, ...]
    n_rows: int

    @property
    def ok(self) -> bool:
        """``True`` when every row adds up within the tolerance."""
        return not self.failing_rows

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON-ready data."""
        return {
            "tolerance": self.tolerance,
            "max_error": self.max_error,
            "mean_error": self.mean_error,
            "failing_rows": list(self.failing_rows),
            "n_rows": self.n_rows,
            "ok": self.ok,
        }


def additivity(
    values: Any, base: Any, output: Any, labels: Sequence[Any], tolerance: float
) -> Additivity:
    """Check ``base + values.sum(1) == output`` row by row (vectorised)."""
    err = np.abs(np.asarray(base) + np.asarray(values).sum(axis=1) - np.asarray(output))
    bad = np.flatnonzero(~(err <= tolerance))
    return Additivity(
        tolerance=float(tolerance),
        max_error=float(err.max()) if err.size else 0.0,
        mean_error=float(err.mean()) if err.size else 0.0,
        failing_rows=tuple(_plain(labels[int(i)]) for i in bad),
        n_rows=int(err.size),
    )


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def units(
    feature_names: Sequence[str], groups: Mapping[str, Sequence[str]] | None
) -> list[tuple[str, list[int]]]:
    """Lines of the importance table: each group as one line, then lone features."""
    index = {n: i for i, n in enumerate(feature_names)}
    out: list[tuple[str, list[int]]] = []
    used: set[int] = set()
    for name, members in (groups or {}).items():
        cols = [index[m] for m in members]
        used.update(cols)
        out.append((str(name), cols))
    out += [(n, [i]) for n, i in index.items() if i not in used]
    return out


def _ranks(scores: Any) -> Any:
    """Rank 1 = most important, along the last axis."""
    order = np.argsort(-scores, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[-1] + 1), axis=-1)
    return ranks


def importance(
    values: Any,
    lines: Sequence[tuple[str, Sequence[int]]],
    *,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int | None = 0,
) -> dict[str, Any]:
    """Mean |SHAP| per line with bootstrap intervals over rows, and rank intervals."""
    v = np.asarray(values, dtype=float)
    summed = np.stack([v[:, cols].sum(axis=1) for _, cols in lines], axis=1)
    absval = np.abs(summed)
    n = absval.shape[0]
    mean = absval.mean(axis=0)
    rng = np.random.default_rng(seed)
    # a bootstrap replicate is a multinomial reweighting of rows: one matrix product
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot) / n
    boot = weights @ absval
    alpha = (1 - level) / 2
    lower, upper = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    rank = _ranks(mean[None, :])[0]
    boot_rank = _ranks(boot)
    rlo, rhi = np.quantile(boot_rank, [alpha, 1 - alpha], axis=0)
    order = np.argsort(rank)
    return {
        "feature": [lines[i][0] for i in order],
        "mean_abs": mean[order].tolist(),
        "lower": lower[order].tolist(),
        "upper": upper[order].tolist(),
        "rank": rank[order].tolist(),
        "rank_lower": np.floor(rlo[order]).astype(int).tolist(),
        "rank_upper": np.ceil(rhi[order]).astype(int).tolist(),
        "group": [len(lines[i][1]) > 1 for i in order],
    }


def disagreements(
    shap_rank: Mapping[str, int], perm_rank: Mapping[str, int], *, top: int = 5
) -> list[str]:
    """Plain sentences where the SHAP and permutation rankings part ways."""
    out: list[str] = []
    common = [f for f in shap_rank if f in perm_rank]
    for f in common:
        a, b = shap_rank[f], perm_rank[f]
        if min(a, b) <= top and abs(a - b) >= 3:
            out.append(f"{f}: rank {a} by mean |SHAP| but {b} by permutation importance")
    return out
