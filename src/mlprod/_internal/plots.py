"""Plots for reports: matplotlib on its non-interactive Agg backend, inlined as SVG.

Every report figure goes through :func:`new_figure` and :func:`figure_to_svg`,
so plots never touch pyplot's global state, never call ``show()``, never
come out blank outside a notebook, and embed in HTML with no script and no
external URL. matplotlib loads on first use (the ``reports`` extra).

The generic charts here (:func:`interval_bars`, :func:`histogram_pair`)
serve several reports; a report with a chart of its own builds it from
:func:`new_figure` in its own module and returns the ``Figure`` so users can
restyle it (``ax=`` is accepted everywhere).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from typing import Any

from mlprod._internal.lazy import optional_import
from mlprod._internal.render import Figure

__all__ = ["figure_to_svg", "histogram_pair", "interval_bars", "new_figure", "svg_figure"]

# Colours that stay apart for colour-blind readers (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
OK, BAD, MUTED = "#1a7f37", "#cf222e", "#8c959f"


def new_figure(width: float = 6.4, height: float = 3.2) -> Any:
    """A matplotlib ``Figure`` bound to the Agg canvas (no pyplot, no display).

    Examples
    --------
    >>> from mlprod._internal.plots import new_figure, figure_to_svg
    >>> fig = new_figure()
    >>> _ = fig.add_subplot().plot([0, 1], [1, 0])
    >>> figure_to_svg(fig).startswith("<svg")
    True
    """
    figure = optional_import("matplotlib.figure", feature="report plots")
    backend = optional_import("matplotlib.backends.backend_agg", feature="report plots")
    fig = figure.Figure(figsize=(width, height), dpi=100, layout="constrained")
    backend.FigureCanvasAgg(fig)
    return fig


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_IDS = re.compile(r'id="([^"]+)"')
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.S)


def figure_to_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element to inline in HTML.

    The XML prologue and DOCTYPE are dropped, text stays text (searchable,
    small), and element ids are made unique per figure so several plots on
    one page do not share clip paths.
    """
    if not fig.axes:
        raise ValueError("figure_to_svg: the figure has no axes; a report never shows a blank plot")
    buf = io.StringIO()
    matplotlib = optional_import("matplotlib", feature="report plots")
    # a fixed salt makes matplotlib's element ids, and so the report's bytes, reproducible
    with matplotlib.rc_context({"svg.hashsalt": "mlprod"}):
        fig.savefig(
            buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight"
        )
    svg = _PROLOGUE.sub("", buf.getvalue(), count=1)
    svg = _METADATA.sub("", svg, count=1)
    # ids unique per figure yet stable, so the same report renders to the same bytes
    prefix = f"m{hashlib.sha1(svg.encode('utf-8')).hexdigest()[:12]}-"
    ids = set(_IDS.findall(svg))
    if ids:
        svg = _IDS.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
        svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{prefix}{m.group(1)}"', svg)
    return svg.strip()


def svg_figure(fig: Any, caption: str = "") -> Figure:
    """A render :class:`~mlprod._internal.render.Figure` from a matplotlib figure."""
    return Figure(figure_to_svg(fig), caption)


def interval_bars(
    labels: Sequence[str],
    values: Sequence[float],
    lower: Sequence[float] | None = None,
    upper: Sequence[float] | None = None,
    *,
    title: str = "",
    xlabel: str = "",
    reference: float | None = None,
    band: tuple[float, float] | None = None,
    flags: Sequence[bool] | None = None,
    ax: Any = None,
) -> Any:
    """Horizontal bars with interval whiskers, one per label; returns the ``Figure``.

    ``reference`` draws a vertical line (an overall value, a ratio of 1);
    ``band`` shades an acceptable range (e.g. the 0.8–1.25 ratio rule);
    ``flags`` colours flagged bars red. NaN values are drawn as an empty
    row labelled "n/a", never dropped.
    """
    import numpy as np

    n = len(labels)
    if ax is None:
        fig = new_figure(6.4, max(1.6, 0.32 * n + 1.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    y = np.arange(n)
    vals = np.asarray(values, dtype=float)
    shown = np.nan_to_num(vals, nan=0.0)
    colours = [
        BAD if (flags is not None and flags[i]) else PALETTE[0] if np.isfinite(vals[i]) else MUTED
        for i in range(n)
    ]
    if band is not None:
        ax.axvspan(band[0], band[1], color=OK, alpha=0.08, lw=0)
    ax.barh(y, shown, color=colours, height=0.6)
    if lower is not None and upper is not None:
        lo = np.asarray(lower, dtype=float)
        hi = np.asarray(upper, dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(vals)
        if ok.any():
            ax.errorbar(
                vals[ok],
                y[ok],
                xerr=[np.maximum(vals[ok] - lo[ok], 0), np.maximum(hi[ok] - vals[ok], 0)],
                fmt="none",
                ecolor="#1f2328",
                elinewidth=1,
                capsize=3,
            )
    for i in np.flatnonzero(~np.isfinite(vals)):
        ax.text(0, y[i], " n/a", va="center", fontsize=8, color=MUTED)
    if reference is not None and np.isfinite(reference):
        ax.axvline(reference, color="#57606a", lw=1, ls="--")
    ax.set_yticks(y, [str(label) for label in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def histogram_pair(
    edges: Sequence[float],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    title: str = "",
    labels: tuple[str, str] = ("reference", "current"),
    categories: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """Reference and current distributions side by side; returns the ``Figure``.

    With ``categories`` the two are bar charts of shares per category;
    otherwise step histograms over ``edges`` (``len(edges) == len(counts) + 1``).
    Counts are normalised to shares so batches of any size compare.
    """
    import numpy as np

    if ax is None:
        fig = new_figure(4.8, 2.4)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    ref = ref / ref.sum() if ref.sum() > 0 else ref
    cur = cur / cur.sum() if cur.sum() > 0 else cur
    if categories is not None:
        x = np.arange(len(categories))
        ax.bar(x - 0.2, ref, width=0.4, color=PALETTE[0], label=labels[0])
        ax.bar(x + 0.2, cur, width=0.4, color=PALETTE[1], label=labels[1])
        ax.set_xticks(x, [str(c) for c in categories], fontsize=8, rotation=30, ha="right")
    else:
        e = np.asarray(edges, dtype=float)
        ax.stairs(ref, e, color=PALETTE[0], lw=1.5, label=labels[0], fill=False)
        ax.stairs(cur, e, color=PALETTE[1], lw=1.5, label=labels[1], fill=False)
        ax.tick_params(axis="x", labelsize=8)
    ax.set_ylabel("share", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig
