"""``mp.drift``: compare current data with a reference profile, column by column.

The default (``method="auto"``) holds at every sample size:

* **numbers**: a two-sample Kolmogorov–Smirnov test on the sketches (its
  p-value made conservative by subtracting the sketches' stated error from
  the statistic), Benjamini–Hochberg adjusted across the report's columns,
  **and** a Wasserstein distance of at least ``0.05`` reference standard
  deviations. The test keeps false alarms at or below ``alpha`` on small
  batches; the effect floor keeps a million rows from flagging differences
  nobody acts on, yet sits below a 0.1 sd shift.
* **categories, strings, booleans**: a chi-square test of homogeneity (BH
  adjusted) **and** a Jensen–Shannon distance (base 2) of at least ``0.03``.
* fewer than ``min_rows`` values on either side: "not enough data", never drift.
* datetimes: their ranges are reported, not tested (time moves on).

Every judged column gets an effect size with a 95% bootstrap interval
(Wasserstein in sd for numbers, Jensen–Shannon for categories). The dataset
drifts when at least ``drift_share`` (default 0.5) of the judged columns do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mlprod.data.drift import stats
from mlprod.data.drift.profiles import Profile, profile
from mlprod.data.drift.report import ColumnDrift, DriftReport
from mlprod.data.drift.summaries import CategoricalSummary, ColumnSummary, NumericSummary
from mlprod.errors import ConfigurationError

__all__ = ["DEFAULT_ALPHA", "DEFAULT_DRIFT_SHARE", "DEFAULT_MIN_ROWS", "EFFECT_FLOOR", "drift"]

DEFAULT_ALPHA = 0.05
DEFAULT_DRIFT_SHARE = 0.5
DEFAULT_MIN_ROWS = 100
#: the smallest effect ``method="auto"`` calls drift, per column kind
EFFECT_FLOOR = {"numeric": 0.05, "categorical": 0.03}
#: default thresholds of the single-statistic methods
METHOD_THRESHOLDS = {
    "ks": 0.05,
    "chisquare": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.2,
}
_NUMERIC_METHODS = {"ks", "wasserstein", "psi", "jensenshannon"}
_CATEGORICAL_METHODS = {"chisquare", "psi", "jensenshannon"}
_SWAP = {"ks": "chisquare", "wasserstein": "jensenshannon", "chisquare": "ks"}


def _num(v: float, scale: float = 1.0) -> str:
    """``v`` to two decimals at unit scale, more or fewer digits as ``scale`` asks."""
    if not np.isfinite(v):
        return str(v)
    digits = 2 if not scale > 0 else int(np.clip(1 - np.floor(np.log10(scale)), 0, 12)) + 1
    if abs(v) >= 1e6:
        return f"{v:.4g}"
    return f"{v:.{digits}f}"


def _missing_change(
    ref: ColumnSummary, cur: ColumnSummary, alpha: float
) -> tuple[float | None, float | None, bool]:
    nr, nc = ref.rows, cur.rows
    if nr == 0 or nc == 0:
        return (ref.missing / nr if nr else None), (cur.missing / nc if nc else None), False
    a, b = ref.missing / nr, cur.missing / nc
    pooled = (ref.missing + cur.missing) / (nr + nc)
    se = np.sqrt(pooled * (1 - pooled) * (1 / nr + 1 / nc))
    if se == 0:
        return a, b, a != b
    from scipy import stats as sps

    p = 2 * sps.norm.sf(abs(a - b) / se)
    return a, b, bool(p < alpha and abs(a - b) >= 0.01)


def _not_enough_data(
    base: dict[str, Any], method: str, notes: list[str], min_rows: int
) -> ColumnDrift:
    counts = f"{base['n_reference']:,} vs {base['n_current']:,}"
    notes.append(f"fewer than {min_rows} values on one side ({counts})")
    return ColumnDrift(**base, method=method, verdict="not enough data", notes=tuple(notes))


def _test_verdict(
    result: dict[str, Any],
    method: str,
    test: str,
    combined: str,
    kind: str,
    statistic: float,
    pvalue: float,
    threshold: float | None,
) -> None:
    """A p-value test's fields; ``"auto"`` decides later, after the correction across columns."""
    result.update(statistic=statistic, p_value=pvalue)
    if method == "auto":
        floor = threshold if threshold is not None else EFFECT_FLOOR[kind]
        result.update(method=combined, threshold=floor)
    else:
        t = threshold if threshold is not None else METHOD_THRESHOLDS[test]
        result.update(method=test, threshold=t, verdict="drift" if pvalue < t else "no drift")


def _effect_verdict(
    result: dict[str, Any], method: str, value: float, threshold: float | None
) -> None:
    """A single statistic's fields: drift at ``value >= threshold``."""
    t = threshold if threshold is not None else METHOD_THRESHOLDS[method]
    result.update(
        method=method, statistic=value, threshold=t, verdict="drift" if value >= t else "no drift"
    )


def _numeric(
    name: str,
    ref: NumericSummary,
    cur: NumericSummary,
    method: str,
    threshold: float | None,
    min_rows: int,
    seed: int,
) -> tuple[ColumnDrift, float | None]:
    """The column's result and its p-value for the correction (None if not a p-value test)."""
    notes: list[str] = []
    for side, s in (("reference", ref), ("current", cur)):
        if s.pos_inf or s.neg_inf:
            notes.append(
                f"{side} has {s.pos_inf + s.neg_inf:,} infinite values (left out of the test)"
            )
    base: dict[str, Any] = {
        "column": name,
        "kind": ref.kind,
        "n_reference": ref.count,
        "n_current": cur.count,
    }
    if ref.kind == "datetime":
        words = "—"
        if ref.count and cur.count:
            import pandas as pd

            def ts(v: float | None) -> str:
                return str(pd.Timestamp(v, unit="s")) if v is not None else "—"

            words = f"range {ts(ref.min)} – {ts(ref.max)} → {ts(cur.min)} – {ts(cur.max)}"
        return ColumnDrift(
            **base,
            method="range",
            verdict="not tested",
            shift=words,
            notes=(*notes, "datetime columns are reported, not tested"),
        ), None
    if ref.count < min_rows or cur.count < min_rows:
        return _not_enough_data(base, method, notes, min_rows), None
    sd = ref.std
    w = stats.wasserstein(ref.sketch, cur.sketch)
    lo, hi = stats.wasserstein_interval(ref.sketch, cur.sketch, seed=seed)
    if sd > 0:
        w_sd, lo_sd, hi_sd = w / sd, lo / sd, hi / sd
        shift = (
            f"mean {_num(ref.mean, sd)} → {_num(cur.mean, sd)}, "
            f"{(cur.mean - ref.mean) / sd:+.2f} sd; "
            f"sd {_num(sd, sd)} → {_num(cur.std, sd)}"
        )
    else:
        notes.append(f"constant in the reference (value {_num(ref.mean)}): effect in raw units")
        w_sd, lo_sd, hi_sd = (float("inf") if w > 0 else 0.0), None, None
        shift = f"constant {_num(ref.mean)} → mean {_num(cur.mean)}, sd {_num(cur.std)}"
    result: dict[str, Any] = {
        "effect": "wasserstein_sd",
        "effect_value": w_sd,
        "effect_low": lo_sd,
        "effect_high": hi_sd,
        "shift": shift,
    }
    pvalue = None
    if method in ("auto", "ks"):
        d, bound = stats.ks_statistic(ref.sketch, cur.sketch)
        pvalue = stats.ks_pvalue(max(0.0, d - bound), ref.count, cur.count)
        _test_verdict(result, method, "ks", "ks+wasserstein", "numeric", d, pvalue, threshold)
    elif method == "wasserstein":
        _effect_verdict(result, method, w_sd, threshold)
    else:
        _edges, r, c = stats.quantile_bins(
            ref.sketch, cur.sketch, bins=10 if method == "psi" else 20
        )
        value = stats.psi(r, c) if method == "psi" else stats.jensen_shannon(r, c)
        _effect_verdict(result, method, value, threshold)
    result.setdefault("verdict", "no drift")
    result["histogram"] = _numeric_hist(ref, cur)
    return ColumnDrift(**base, notes=tuple(notes), **result), pvalue


def _numeric_hist(ref: NumericSummary, cur: NumericSummary) -> Any:
    lo = float(min(ref.sketch.quantile(0.005), cur.sketch.quantile(0.005)))
    hi = float(max(ref.sketch.quantile(0.995), cur.sketch.quantile(0.995)))
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, 31)
    r = np.diff(ref.sketch.rank(edges)).astype(float)
    c = np.diff(cur.sketch.rank(edges)).astype(float)
    return (tuple(edges.tolist()), tuple(r.tolist()), tuple(c.tolist()))


def _categorical(
    name: str,
    ref: CategoricalSummary,
    cur: CategoricalSummary,
    method: str,
    threshold: float | None,
    min_rows: int,
    seed: int,
) -> tuple[ColumnDrift, float | None]:
    notes: list[str] = []
    for side, s in (("reference", ref), ("current", cur)):
        if s.mixed_types:
            notes.append(f"{side} mixes Python types in one object column (compared as text)")
        if s.other:
            notes.append(
                f"{side}: {s.overflowed:,}+ values past the cap of {s.cap} counted as '(other)'"
            )
    new = tuple(sorted(set(cur.counts) - set(ref.counts)))
    gone = tuple(sorted(set(ref.counts) - set(cur.counts)))
    if ref.other:  # a 'new' value may hide in the reference's other bucket
        new = tuple(v for v in new if cur.counts[v] > 0)
    base: dict[str, Any] = {
        "column": name,
        "kind": ref.kind,
        "n_reference": ref.count,
        "n_current": cur.count,
        "new_categories": new,
        "vanished_categories": gone,
    }
    if ref.count < min_rows or cur.count < min_rows:
        return _not_enough_data(base, method, notes, min_rows), None
    names, r, c = stats.category_table(ref, cur)
    js = stats.jensen_shannon(r, c)
    lo, hi = stats.js_interval(r, c, seed=seed)
    pr, pc = r / r.sum(), c / c.sum()
    k = int(np.argmax(np.abs(pc - pr)))
    shift = f"largest change {names[k]!r} {pr[k]:.1%} → {pc[k]:.1%}"
    if new:
        shift += "; new " + ", ".join(f"{v!r} ({cur.counts[v] / cur.count:.1%})" for v in new[:5])
    result: dict[str, Any] = {
        "effect": "jensen_shannon",
        "effect_value": js,
        "effect_low": lo,
        "effect_high": hi,
        "shift": shift,
    }
    pvalue = None
    if method in ("auto", "chisquare"):
        chi, pvalue = stats.chi_square(r, c)
        _test_verdict(
            result,
            method,
            "chisquare",
            "chisquare+jensenshannon",
            "categorical",
            chi,
            pvalue,
            threshold,
        )
    else:
        value = js if method == "jensenshannon" else stats.psi(r, c)
        _effect_verdict(result, method, value, threshold)
    result.setdefault("verdict", "no drift")
    top = np.argsort(-(pr + pc), kind="stable")[:12]
    result["histogram"] = (
        tuple(names[i] for i in top),
        tuple(r[top].tolist()),
        tuple(c[top].tolist()),
    )
    return ColumnDrift(**base, notes=tuple(notes), **result), pvalue


def drift(
    reference: Any,
    current: Any,
    *,
    method: str = "auto",
    threshold: float | None = None,
    columns: Iterable[str] | None = None,
    alpha: float = DEFAULT_ALPHA,
    drift_share: float = DEFAULT_DRIFT_SHARE,
    min_rows: int = DEFAULT_MIN_ROWS,
    seed: int = 0,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column; see the module docstring.

    Parameters
    ----------
    reference, current:
        A :class:`~mlprod.Profile` or a DataFrame (profiled here, ``current``
        with the reference's ``bins`` and ``max_categories``). Predictions or
        scores are columns like any other.
    method:
        ``"auto"`` (the default above), or one statistic for every column:
        ``"ks"``/``"chisquare"`` (plain test, drift at ``p < threshold``,
        uncorrected), ``"wasserstein"`` (in reference sd), ``"jensenshannon"``
        or ``"psi"`` (drift at ``value >= threshold``). ``"ks"`` on a
        categorical column runs chi-square, ``"wasserstein"`` Jensen–Shannon.
    threshold:
        For ``"auto"`` the effect floor; otherwise the method's threshold
        (defaults: KS/chi-square 0.05, Wasserstein 0.1 sd, JS 0.1, PSI 0.2).
    columns:
        Compare only these columns.
    alpha:
        Level of the BH-corrected tests under ``"auto"``, and of the
        missing-rate test.
    drift_share:
        Share of judged columns that must drift for the dataset to drift.
    min_rows:
        Fewer values than this on either side: "not enough data".
    seed:
        Seed of the bootstrap intervals (results are reproducible).

    Examples
    --------
    >>> import numpy as np, pandas as pd, mlprod as mp
    >>> rng = np.random.default_rng(1)
    >>> ref = mp.profile(pd.DataFrame({"score": rng.normal(size=20_000)}))
    >>> report = mp.drift(ref, pd.DataFrame({"score": rng.normal(size=20_000)}))
    >>> report.drifted, report["score"].verdict
    (False, 'no drift')
    """
    allowed = {"auto"} | _NUMERIC_METHODS | _CATEGORICAL_METHODS
    if method not in allowed:
        raise ConfigurationError(
            f"unknown drift method {method!r}: use one of {sorted(allowed)}",
            parameter="method",
            value=method,
        )
    if not 0 < alpha < 1 or not 0 < drift_share <= 1:
        raise ConfigurationError(
            f"alpha must be in (0, 1) and drift_share in (0, 1], got {alpha!r} and {drift_share!r}",
            parameter="alpha",
            value=(alpha, drift_share),
        )
    ref = reference if isinstance(reference, Profile) else profile(reference)
    cur = (
        current
        if isinstance(current, Profile)
        else profile(current, bins=ref.bins, max_categories=ref.max_categories)
    )
    names = list(ref.columns) if columns is None else list(columns)
    unknown = [c for c in names if c not in ref and c not in cur]
    if unknown:
        raise ConfigurationError(
            f"columns {unknown} are in neither the reference nor the current data",
            parameter="columns",
            value=unknown,
        )
    missing_in_current = tuple(c for c in names if c in ref and c not in cur)
    missing_in_reference = tuple(
        c for c in (cur.columns if columns is None else names) if c not in ref
    )
    dtype_changes: dict[str, tuple[str, str]] = {}
    results: list[ColumnDrift] = []
    pvalues: list[tuple[int, float]] = []
    for i, name in enumerate(c for c in names if c in ref and c in cur):
        r, c = ref[name], cur[name]
        a, b, changed = _missing_change(r, c, alpha)
        missing: dict[str, Any] = {
            "missing_reference": a,
            "missing_current": b,
            "missing_changed": changed,
        }
        if r.kind != c.kind:
            dtype_changes[name] = (r.dtype, c.dtype)
            results.append(
                ColumnDrift(
                    name,
                    r.kind,
                    method,
                    "not tested",
                    **missing,
                    notes=(f"dtype changed {r.dtype} → {c.dtype} ({r.kind} → {c.kind})",),
                )
            )
            continue
        col_method = method
        if isinstance(r, NumericSummary) and isinstance(c, NumericSummary):
            if method not in ("auto", *_NUMERIC_METHODS):
                col_method = _SWAP[method]
            res, p = _numeric(name, r, c, col_method, threshold, min_rows, seed + i)
        elif isinstance(r, CategoricalSummary) and isinstance(c, CategoricalSummary):
            if method not in ("auto", *_CATEGORICAL_METHODS):
                col_method = _SWAP[method]
            res, p = _categorical(name, r, c, col_method, threshold, min_rows, seed + i)
        else:  # pragma: no cover - kinds equal implies classes equal
            raise AssertionError(name)
        if r.dtype != c.dtype:
            res = _with(res, notes=(*res.notes, f"dtype {r.dtype} → {c.dtype}"))
        res = _with(res, **missing)
        if p is not None:
            pvalues.append((len(results), p))
        results.append(res)
    adjusted = stats.benjamini_hochberg([p for _, p in pvalues])
    for (j, _), q in zip(pvalues, adjusted):
        res = results[j]
        fields: dict[str, Any] = {"p_adjusted": q}
        if method == "auto":
            floor = res.threshold if res.threshold is not None else 0.0
            big = res.effect_value is not None and res.effect_value >= floor
            fields["verdict"] = "drift" if (q < alpha and big) else "no drift"
        results[j] = _with(res, **fields)
    judged = [x for x in results if x.drifted is not None]
    share = sum(bool(x.drifted) for x in judged) / len(judged) if judged else 0.0
    return DriftReport(
        columns=tuple(results),
        drifted=bool(judged) and share >= drift_share,
        share=share,
        drift_share=drift_share,
        method=method,
        alpha=alpha,
        rows_reference=ref.rows,
        rows_current=cur.rows,
        missing_in_current=missing_in_current,
        missing_in_reference=missing_in_reference,
        dtype_changes=dtype_changes,
    )


def _with(res: ColumnDrift, **changes: Any) -> ColumnDrift:
    from dataclasses import replace

    return replace(res, **changes)


drift.__module__ = "mlprod"  # documented and reported under its public path
