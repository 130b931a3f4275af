"""Explanation charts: importance bars, a beeswarm-style summary, waterfalls.

Each returns a matplotlib ``Figure`` on the Agg canvas (never pyplot, never
``show()``), takes ``ax=`` to draw into an axes of yours, and inlines as SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlprod._internal.plots import MUTED, PALETTE, interval_bars, new_figure

__all__ = ["beeswarm", "importance_bars", "waterfall"]

_UP, _DOWN = PALETTE[3], PALETTE[0]


def importance_bars(table: Any, *, top: int = 15, ax: Any = None) -> Any:
    """Mean |SHAP| per feature (or group) with its bootstrap interval."""
    shown = table.head(top)
    return interval_bars(
        [f"{f} [group]" if g else str(f) for f, g in zip(shown["feature"], shown["group"])],
        shown["mean_abs"].tolist(),
        shown["lower"].tolist(),
        shown["upper"].tolist(),
        title="Global importance: mean |contribution| (95% bootstrap interval)",
        xlabel="mean |SHAP value|",
        ax=ax,
    )


def beeswarm(
    values: Any,
    data: Any,
    feature_names: Sequence[str],
    order: Sequence[int],
    *,
    max_points: int = 200,
    seed: int = 0,
    ax: Any = None,
) -> Any:
    """One row of dots per feature: contribution (x), coloured by the feature's value."""
    n = len(order)
    if ax is None:
        fig = new_figure(6.4, max(1.8, 0.34 * n + 1.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    rng = np.random.default_rng(seed)
    cmap = _cmap()
    v = np.asarray(values, dtype=float)
    pick = rng.choice(v.shape[0], max_points, replace=False) if v.shape[0] > max_points else None
    for pos, j in enumerate(order):
        x = v[:, j] if pick is None else v[pick, j]
        col = data.iloc[:, j] if pick is None else data.iloc[pick, j]
        numeric = getattr(col.dtype, "kind", "O") in "biuf"
        if numeric:
            ranks = col.rank(pct=True).to_numpy(dtype=float)
            colours: Any = cmap(np.nan_to_num(ranks, nan=0.5))
        else:
            colours = MUTED
        jitter = rng.uniform(-0.28, 0.28, size=x.shape[0])
        # thousands of dots as vector marks would weigh hundreds of kB: one embedded image
        ax.scatter(x, pos + jitter, s=6, c=colours, linewidths=0, rasterized=True)
    ax.axvline(0, color="#57606a", lw=0.8)
    ax.set_yticks(np.arange(n), [str(feature_names[j]) for j in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(
        "contribution (SHAP value); colour: feature value, low (blue) to high (red)", fontsize=8
    )
    ax.set_title("Contributions per row", fontsize=10, loc="left")
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _cmap() -> Any:
    colors = __import__("matplotlib.colors", fromlist=["LinearSegmentedColormap"])
    return colors.LinearSegmentedColormap.from_list("mlprod", [_DOWN, "#b0b0b0", _UP])


def waterfall(
    contributions: Sequence[float],
    labels: Sequence[str],
    base: float,
    *,
    title: str = "",
    top: int = 8,
    ax: Any = None,
) -> Any:
    """How one row's output builds up from the base value, largest steps first."""
    c = np.asarray(contributions, dtype=float)
    order = np.argsort(-np.abs(c), kind="stable")
    keep = list(order[:top])
    steps = [(str(labels[i]), float(c[i])) for i in keep]
    rest = float(c[order[top:]].sum()) if len(order) > top else 0.0
    if len(order) > top:
        steps.append((f"{len(order) - top} other features", rest))
    n = len(steps)
    if ax is None:
        fig = new_figure(6.4, max(1.8, 0.32 * n + 1.2))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    start = base
    for pos, (_, step) in enumerate(steps):
        ax.barh(pos, step, left=start, color=_UP if step >= 0 else _DOWN, height=0.6)
        ax.text(
            start + step,
            pos,
            f" {step:+.3g}",
            va="center",
            ha="left" if step >= 0 else "right",
            fontsize=7,
        )
        start += step
    ax.axvline(base, color="#57606a", lw=0.8, ls="--")
    ax.axvline(start, color="#1f2328", lw=0.8)
    ax.set_yticks(np.arange(n), [s[0] for s in steps], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"output: base {base:.4g} (dashed) → {start:.4g} (solid)", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
