"""Compute a fairness report's numbers: groups, metrics, intervals, disparities.

The result is plain data (lists, dicts, floats with ``None`` for undefined),
which :class:`~mlprod.FairnessReport` wraps, renders and serialises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlprod.errors import InvalidInput
from mlprod.reports.fairness import _disparity as disp
from mlprod.reports.fairness import _kernels as kern
from mlprod.reports.fairness._inputs import group_codes, prepare_labels, prepare_scores

__all__ = ["ALIASES", "POLICY", "build"]

Array = np.ndarray[Any, Any]

ALIASES = {
    "tpr": "true_positive_rate",
    "recall": "true_positive_rate",
    "fpr": "false_positive_rate",
    "fnr": "false_negative_rate",
    "tnr": "true_negative_rate",
    "acc": "accuracy",
    "accuracy_score": "accuracy",
    "precision_score": "precision",
    "recall_score": "true_positive_rate",
    "mae": "mean_absolute_error",
    "rmse": "root_mean_squared_error",
    "auc": "roc_auc",
}
# Signed metrics: a ratio of two of them says nothing, so no ratio rule applies.
SIGNED = frozenset({"calibration_gap", "mean_residual"})
SHORT = {
    "true_positive_rate": "TPR",
    "false_positive_rate": "FPR",
    "false_negative_rate": "FNR",
    "true_negative_rate": "TNR",
    "selection_rate": "selection rate",
    "roc_auc": "ROC AUC",
}
POLICY = (
    "A metric whose denominator is zero in a group (TPR with no actual positives, precision "
    "with no predicted positives, AUC with one class) is undefined there: NaN with the reason, "
    "never 0. Undefined values are skipped by between-group and to-overall disparities (as "
    "pandas skips NaN in MetricFrame), their disparity verdict is 'undefined', and a gate "
    "counts 'undefined' as not passed unless told to ignore it. Groups smaller than "
    "min_group_size are computed and flagged 'small'. Intersections with no rows are listed "
    "as pruned. Intervals resample within each group (stratified bootstrap; confusion counts "
    "drawn from a multinomial); ROC AUC and calibration means use a normal approximation "
    "(Hanley-McNeil / standard error) instead; the expected calibration error has no interval. "
    "A disparity whose interval straddles a threshold is 'inconclusive'. Signed metrics "
    "(calibration gap, mean residual) get no ratio verdict ('n/a'); gate them on their "
    "difference. Disparities to the "
    "reference are called significant after Holm's correction across groups, per metric."
)


class _Metric:
    __slots__ = ("draws", "lo", "name", "odraws", "overall", "rate", "reason", "values", "w")

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: Array = np.empty(0)
        self.overall = float("nan")
        self.draws: Array | None = None
        self.odraws: Array | None = None
        self.w: tuple[Array, Array] | None = None
        self.reason = ""
        self.rate = False


def _f(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _fl(a: Any) -> list[float | None]:
    return [_f(v) for v in np.ravel(a)]


def build(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    data: Any,
    y_score: Any,
    metrics: Any,
    reference: Any,
    ci: float,
    n_boot: int,
    random_state: int | None,
    min_group_size: int,
    pos_label: Any,
    task: str | None,
) -> dict[str, Any]:
    """Everything the report holds, as plain data."""
    if not 0 < ci < 1:
        raise InvalidInput(f"ci must be in (0, 1), got {ci}.", parameter="ci", found=str(ci))
    if n_boot < 0:
        raise InvalidInput("n_boot must be >= 0.", parameter="n_boot", found=str(n_boot))
    if data is not None:
        y_true = data[y_true] if isinstance(y_true, str) else y_true
        y_pred = data[y_pred] if isinstance(y_pred, str) else y_pred
        y_score = data[y_score] if isinstance(y_score, str) else y_score
    labels = prepare_labels(y_true, y_pred, pos_label=pos_label, task=task)
    n = len(labels.y_true)
    groups = group_codes(sensitive_features, data=data, n=n)
    g = len(groups.labels)
    if g < 2:
        raise InvalidInput(
            f"sensitive_features has a single group {groups.labels[0]!r}: there is nothing to "
            "compare. Pass a feature that takes at least two values on these rows.",
            parameter="sensitive_features",
            found="1 group",
        )
    if (groups.sizes == 1).all():
        raise InvalidInput(
            f"sensitive_features puts every row in a group of its own ({g:,} groups of one "
            "row): it looks like an identifier, not a group. Pass a categorical feature, or "
            "bin a continuous one (pd.cut).",
            parameter="sensitive_features",
            found=f"{g} groups of one row",
        )
    score = prepare_scores(y_score, n) if y_score is not None else None
    seed = (
        int(random_state)
        if random_state is not None
        else int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)  # recorded
    )
    rng = np.random.default_rng(seed)
    codes = groups.codes
    out: list[_Metric] = []
    custom: list[tuple[str, Callable[..., Any]]] = []
    wanted: list[str] = []
    for m in metrics or ():
        if callable(m):
            custom.append((getattr(m, "__name__", "metric"), m))
        else:
            wanted.append(ALIASES.get(str(m), str(m)))
    if isinstance(metrics, dict):
        custom = [(str(k), v) for k, v in metrics.items() if callable(v)]
        wanted = [ALIASES.get(str(v), str(v)) for v in metrics.values() if not callable(v)]
    if labels.task == "regression":
        avail = list(kern.REGRESSION_METRICS)
        wanted = wanted or ([] if metrics else avail)
        sums = kern.regression_sums(codes, g, labels.y_true, labels.y_pred)
        bsums = (
            kern.regression_draws(codes, groups.sizes, labels.y_true, labels.y_pred, n_boot, rng)
            if n_boot
            else None
        )
        for name in _known(wanted, avail):
            m = _Metric(name)
            m.values = kern.regression_metric(name, sums)
            m.overall = float(kern.regression_metric(name, sums.sum(0)))
            if bsums is not None:
                m.draws = kern.regression_metric(name, bsums)
                m.odraws = kern.regression_metric(name, bsums.sum(1))
            out.append(m)
    else:
        k = len(labels.classes) if labels.task == "multiclass" else 2
        c = kern.confusion(codes, g, labels.y_true, labels.y_pred, k)
        bc = kern.multinomial_draws(c, n_boot, rng) if n_boot else None
        if labels.task == "binary":
            avail = list(kern.BINARY_METRICS) + (["roc_auc"] if score is not None else [])
            fn: Callable[[str, Array], Array] = kern.binary_metric

            def parts(name: str, cc: Array) -> tuple[Array, Array]:
                return kern.rate_parts(name, cc)
        else:
            names = [str(x) for x in labels.classes]
            index = {
                f"{b}[{lab}]": f"{b}[{i}]"
                for i, lab in enumerate(names)
                for b in ("selection_rate", "true_positive_rate")
            }
            avail = ["count", "accuracy", *index]

            def fn(name: str, cc: Array) -> Array:
                return kern.multiclass_metric(index.get(name, name), cc)

            def parts(name: str, cc: Array) -> tuple[Array, Array]:
                return kern.multiclass_parts(index.get(name, name), cc)

        wanted = wanted or ([] if metrics else avail)
        for name in _known(wanted, avail):
            if name == "roc_auc":
                continue
            m = _Metric(name)
            m.values = fn(name, c)
            m.overall = float(fn(name, c.sum(0)))
            if bc is not None:
                m.draws = fn(name, bc)
                m.odraws = fn(name, bc.sum(1))
            if name != "count":
                m.rate = True
                num, den = parts(name, c)
                m.w = disp.wilson(num, den, ci)
                base = name.split("[")[0]
                m.reason = (
                    kern.undefined_reason(name)
                    if labels.task == "binary"
                    else "no rows of this class in the group"
                    if base == "true_positive_rate"
                    else "the group is empty"
                )
            out.append(m)
        if score is not None and labels.task == "binary":
            if "roc_auc" in wanted or not metrics:
                out.append(_auc(codes, g, labels.y_true, score, n_boot, rng))
            if not metrics:
                out.extend(_calibration(codes, g, labels.y_true, score, n_boot, rng))
    for name, f in custom:
        m = _Metric(name)
        m.values, m.overall, m.draws, m.odraws = kern.callable_metric(
            f, labels.y_true, labels.y_pred, codes, groups.sizes, n_boot, rng
        )
        m.reason = "the metric returned NaN for this group"
        out.append(m)
    ref = _reference(reference, groups, g)
    return _assemble(out, groups, labels, ref, ci, n_boot, seed, min_group_size, score)


def _known(wanted: list[str], avail: list[str]) -> list[str]:
    bad = [w for w in wanted if w not in avail]
    if bad:
        raise InvalidInput(
            f"metrics {bad!r} are not available here; choose from {avail} or pass callables "
            "(y_true, y_pred) -> float.",
            parameter="metrics",
            found=f"unknown {bad}",
        )
    return wanted


def _normal_metric(
    name: str, values: Array, se: Array, overall: float, ose: float, n_boot: int, rng: Any
) -> _Metric:
    m = _Metric(name)
    m.values, m.overall = values, overall
    if n_boot:
        m.draws = values + se * rng.standard_normal((n_boot, len(values)))
        m.odraws = overall + ose * rng.standard_normal(n_boot)
    return m


def _auc(codes: Array, g: int, y: Array, s: Array, n_boot: int, rng: Any) -> _Metric:
    auc, npos, nneg = kern.grouped_auc(codes, g, y, s)
    oauc, opos, oneg = kern.grouped_auc(np.zeros_like(codes), 1, y, s)
    m = _normal_metric(
        "roc_auc",
        auc,
        kern.hanley_mcneil_se(auc, npos, nneg),
        float(oauc[0]),
        float(kern.hanley_mcneil_se(oauc, opos, oneg)[0]),
        n_boot,
        rng,
    )
    if m.draws is not None and m.odraws is not None:
        m.draws, m.odraws = np.clip(m.draws, 0, 1), np.clip(m.odraws, 0, 1)
    m.reason = "the group has only one class, so no AUC"
    return m


def _calibration(codes: Array, g: int, y: Array, s: Array, n_boot: int, rng: Any) -> list[_Metric]:
    per = kern.calibration(codes, g, y, s)
    whole = kern.calibration(np.zeros_like(codes), 1, y, s)
    out = []
    for name, (v, se) in per.items():
        m = _normal_metric(
            name, v, se, float(whole[name][0][0]), float(whole[name][1][0]), n_boot, rng
        )
        if name == "expected_calibration_error":
            m.draws = m.odraws = None
        out.append(m)
    return out


def _reference(reference: Any, groups: Any, g: int) -> int:
    if reference is None:
        return int(np.argmax(groups.sizes))
    want = reference if isinstance(reference, tuple) else (reference,)
    for i, lab in enumerate(groups.labels):
        if tuple(lab) == want or tuple(map(str, lab)) == tuple(map(str, want)):
            return i
    raise InvalidInput(
        f"reference={reference!r} is not one of the groups "
        f"{[lab if len(lab) > 1 else lab[0] for lab in groups.labels][:20]}.",
        parameter="reference",
        found=repr(reference),
    )


def _assemble(
    metrics: list[_Metric],
    groups: Any,
    labels: Any,
    ref: int,
    ci: float,
    n_boot: int,
    seed: int,
    min_group_size: int,
    score: Array | None,
) -> dict[str, Any]:
    g = len(groups.labels)
    intervals: list[dict[str, Any]] = []
    disparities: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    by_metric: dict[str, Any] = {}
    overall: dict[str, Any] = {}
    for m in metrics:
        lo, hi = disp.interval(m.draws, ci)
        lo, hi = np.broadcast_to(lo, (g,)), np.broadcast_to(hi, (g,))
        wl, wh = m.w if m.w is not None else (np.full(g, np.nan), np.full(g, np.nan))
        olo, ohi = disp.interval(m.odraws, ci)
        by_metric[m.name] = _fl(m.values)
        overall[m.name] = {"value": _f(m.overall), "low": _f(olo), "high": _f(ohi)}
        for i in range(g):
            v = m.values[i]
            intervals.append(
                {
                    "group": i,
                    "metric": m.name,
                    "value": _f(v),
                    "low": _f(lo[i]),
                    "high": _f(hi[i]),
                    "wilson_low": _f(wl[i]),
                    "wilson_high": _f(wh[i]),
                    "reason": None if np.isfinite(v) else m.reason,
                }
            )
        for label, fn in (
            ("difference", disp.between_difference),
            ("ratio", disp.between_ratio),
        ):
            val = fn(m.values)
            dlo, dhi = disp.interval(fn(m.draws) if m.draws is not None else None, ci)
            scores.append(_score(f"{m.name} {label} between groups", val, dlo, dhi))
        for label, fo in (("difference", disp.overall_difference), ("ratio", disp.overall_ratio)):
            val = fo(m.values, np.float64(m.overall))
            dr = fo(m.draws, m.odraws) if m.draws is not None else None
            dlo, dhi = disp.interval(dr, ci)
            scores.append(_score(f"{m.name} {label} to overall", val, dlo, dhi))
        if m.name == "count":
            continue
        rv = m.values[ref]
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = m.values - rv
            ratio = m.values / rv
            ddraw = m.draws - m.draws[:, [ref]] if m.draws is not None else None
            rdraw = m.draws / m.draws[:, [ref]] if m.draws is not None else None
        dlo, dhi = disp.interval(ddraw, ci)
        rlo, rhi = disp.interval(rdraw, ci)
        dlo, dhi = np.broadcast_to(dlo, (g,)), np.broadcast_to(dhi, (g,))
        rlo, rhi = np.broadcast_to(rlo, (g,)), np.broadcast_to(rhi, (g,))
        p = disp.two_sided_p(diff, ddraw)
        p[ref] = np.nan
        padj = disp.holm(p)
        for i in range(g):
            if i == ref:
                continue
            ff = (
                bool(0.8 <= ratio[i] <= 1.25)
                if np.isfinite(ratio[i]) and m.name not in SIGNED
                else None
            )
            disparities.append(
                {
                    "metric": m.name,
                    "group": i,
                    "value": _f(m.values[i]),
                    "reference_value": _f(rv),
                    "difference": _f(diff[i]),
                    "difference_low": _f(dlo[i]),
                    "difference_high": _f(dhi[i]),
                    "ratio": _f(ratio[i]) if np.isfinite(ratio[i]) else None,
                    "ratio_low": _f(rlo[i]),
                    "ratio_high": _f(rhi[i]),
                    "p_value": _f(p[i]),
                    "p_holm": _f(padj[i]),
                    "significant": bool(padj[i] < 1 - ci) if np.isfinite(padj[i]) else None,
                    "four_fifths": ff,
                    "verdict": disp.verdict(rlo[i], rhi[i], ratio[i], 0.8, 1.25)
                    if m.name not in SIGNED
                    else "n/a",
                }
            )
    # the named fairness scores, from the same draws
    named = {m.name: m for m in metrics}
    scores += _named_scores(named, ci)
    return {
        "kind": "fairness_report",
        "format": 1,
        "task": labels.task,
        "note": labels.note,
        "classes": list(labels.classes),
        "pos_label": labels.pos_label,
        "features": list(groups.features),
        "groups": [list(lab) for lab in groups.labels],
        "sizes": [int(x) for x in groups.sizes],
        "small": [bool(x < min_group_size) for x in groups.sizes],
        "pruned": [list(lab) for lab in groups.pruned],
        "pruned_count": int(groups.pruned_count),
        "reference": ref,
        "metrics": [m.name for m in metrics],
        "rows": len(groups.codes),
        "ci": ci,
        "n_boot": n_boot,
        "seed": seed,
        "min_group_size": min_group_size,
        "correction": "holm",
        "policy": POLICY,
        "overall": overall,
        "by_group": by_metric,
        "intervals": intervals,
        "disparities": disparities,
        "scores": scores,
    }


def _score(name: str, val: Any, lo: Any, hi: Any) -> dict[str, Any]:
    return {"score": name, "value": _f(val), "low": _f(lo), "high": _f(hi)}


def _have(m: _Metric | None) -> bool:
    return m is not None and m.draws is not None


def _named_scores(named: dict[str, _Metric], ci: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    sel = named.get("selection_rate")
    tpr = named.get("true_positive_rate")
    fpr = named.get("false_positive_rate")
    for method, dfn, rfn in (
        ("between_groups", disp.between_difference, disp.between_ratio),
        ("to_overall", disp.overall_difference, disp.overall_ratio),
    ):

        def pair(m: _Metric, f: Any, draws: bool, method: str = method) -> Any:
            if method == "between_groups":
                return f(m.draws) if draws else f(m.values)
            return f(m.draws, m.odraws) if draws else f(m.values, np.float64(m.overall))

        sfx = "" if method == "between_groups" else " (to overall)"
        if sel is not None:
            for lab, f in (("difference", dfn), ("ratio", rfn)):
                lo, hi = disp.interval(pair(sel, f, True) if _have(sel) else None, ci)
                out.append(_score(f"demographic_parity_{lab}{sfx}", pair(sel, f, False), lo, hi))
        if tpr is not None:
            for lab, f in (("difference", dfn), ("ratio", rfn)):
                lo, hi = disp.interval(pair(tpr, f, True) if _have(tpr) else None, ci)
                out.append(_score(f"equal_opportunity_{lab}{sfx}", pair(tpr, f, False), lo, hi))
        if tpr is not None and fpr is not None:
            for lab, f, worst in (("difference", dfn, np.fmax), ("ratio", rfn, np.fmin)):
                a, b = pair(tpr, f, False), pair(fpr, f, False)
                both = _have(tpr) and _have(fpr)
                da: Any = pair(tpr, f, True) if both else None
                db: Any = pair(fpr, f, True) if both else None
                lo, hi = disp.interval(worst(da, db) if both else None, ci)
                out.append(_score(f"equalized_odds_{lab}{sfx}", worst(a, b), lo, hi))
                lo, hi = disp.interval((da + db) / 2 if both else None, ci)
                out.append(_score(f"equalized_odds_{lab}_mean{sfx}", (a + b) / 2, lo, hi))
    return out
