"""``mp.explain``: SHAP values with a cost estimate, an additivity check and summaries."""

from __future__ import annotations

import io
import itertools
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlprod._internal.canonical import sha256_bytes
from mlprod._internal.environment import environment
from mlprod._internal.lazy import optional_import
from mlprod._internal.logging import get_logger
from mlprod.errors import ConfigurationError, TooCostly
from mlprod.reports.explain_inputs import check_background, check_model, check_nan, check_x
from mlprod.reports.explain_methods import ModelExplainer, default_max_evals
from mlprod.reports.explain_methods import plan as plan_for
from mlprod.reports.explain_report import ExplanationReport
from mlprod.reports.explain_stats import additivity, disagreements, importance, units

__all__ = ["explain"]

_log = get_logger("mlprod.reports.explain")
_LOG_ABOVE_S = 3.0  # runs expected to take longer get a logged estimate and a progress bar
_CHUNKS = 20
_PROBE_ROWS = 50


def _digest(model: Any) -> str | None:
    joblib = optional_import("joblib", feature="explain")
    buf = io.BytesIO()
    try:
        joblib.dump(model, buf)
    except Exception:
        return None
    return sha256_bytes(buf.getvalue())


def _per_row_seconds(
    ex: ModelExplainer, X: Any, max_evals: int | None
) -> tuple[float, tuple[Any, Any] | None]:
    """Seconds per explained row, measured on a small probe (and the probe's values).

    Tree and linear values of a row do not depend on the other rows, so the
    probe's values are kept and the probe costs nothing extra.
    """
    if ex.method == "permutation":
        # evaluations × seconds per evaluation: every evaluation runs the model on the
        # whole background, so time the model on a batch of that size
        evals = max_evals or default_max_evals(X.shape[1])
        batch = X.iloc[[0] * max(ex.n_background, 1)]
        ex.output(batch)  # warm-up
        t0 = time.perf_counter()
        ex.output(batch)
        return (time.perf_counter() - t0) * evals, None
    probe = X.iloc[: min(len(X), _PROBE_ROWS)]
    t0 = time.perf_counter()
    kept = ex.contributions(probe)
    return (time.perf_counter() - t0) / len(probe), kept


def explain(
    model: Any,
    X: Any,
    *,
    background: Any = None,
    method: str = "auto",
    max_rows: int | None = None,
    max_evals: int | None = None,
    random_state: int | None = None,
    progress: bool | None = None,
    y: Any = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    tolerance: float = 1e-6,
    target_class: int | None = None,
    max_seconds: float = 120.0,
) -> ExplanationReport:
    """Explain ``model`` on the rows of ``X`` with SHAP values.

    The explainer is chosen for the model (``method="auto"``): shap's exact
    TreeExplainer for tree ensembles, the LinearExplainer for linear models,
    a permutation explainer with a bounded number of model evaluations
    otherwise. The report says which and why, checks additivity on every
    row, and summarises global importance with bootstrap intervals.

    Parameters
    ----------
    model:
        A fitted model with ``predict``; a scikit-learn ``Pipeline`` is
        explained in terms of its input columns when its preprocessing allows.
    X:
        The rows to explain (a DataFrame keeps names and value formats).
    background:
        Rows standing for typical input. Trees without one use shap's
        path-dependent algorithm; linear and permutation explainers default
        to 100 rows sampled from ``X``.
    method:
        ``"auto"``, ``"tree"``, ``"linear"`` or ``"permutation"``.
    max_rows:
        Explain a random sample of this many rows (the report says so).
    max_evals:
        Model evaluations per row for the permutation explainer (default
        ten permutations forward and back: ``10 * (2 * n_features + 1)``).
    random_state:
        Seed for sampling rows, the background and the permutation explainer.
    progress:
        Show a tqdm progress bar; ``None`` shows one when the run is
        expected to take more than a few seconds.
    y:
        Labels for ``X``: adds scikit-learn's permutation importance as a
        second view. Pass held-out data, not the training set.
    groups:
        ``{"name": [columns...]}``: each group is one line of the importance
        table (one-hot columns of a category, related measurements).
    tolerance:
        Largest |base + contributions - output| counted as additive.
    target_class:
        For classifiers, the index of the class whose score is explained
        (default the last one: the positive class of a binary model).
    max_seconds:
        A permutation run estimated to take longer, with neither ``max_rows``
        nor ``max_evals`` given, is refused with :class:`mlprod.TooCostly`.

    Returns
    -------
    ExplanationReport

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> import mlprod as mp
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    >>> y = (X["a"] + 0.2 * X["b"] > 0).astype(int)
    >>> model = HistGradientBoostingClassifier(max_iter=20).fit(X, y)
    >>> report = mp.explain(model, X)
    >>> report.method, report.additivity.ok
    ('tree', True)
    >>> report.output
    'decision_function (log-odds) of class 1'
    """
    pd = optional_import("pandas", feature="explain")
    check_model(model)
    columns = check_x(model, X)
    frame = X if hasattr(X, "iloc") else pd.DataFrame(np.asarray(X), columns=columns)
    if background is not None:
        check_background(model, background, columns)
        if not hasattr(background, "iloc"):
            background = pd.DataFrame(np.asarray(background), columns=list(frame.columns))
    for name, bound in (("max_rows", max_rows), ("max_evals", max_evals)):
        if bound is not None and (not isinstance(bound, int | np.integer) or bound < 1):
            raise ConfigurationError(
                f"{name} must be a positive integer, got {bound!r}", parameter=name, value=bound
            )
    if not tolerance >= 0:
        raise ConfigurationError(
            f"tolerance must be >= 0, got {tolerance!r}", parameter="tolerance", value=tolerance
        )
    n_total = len(frame)
    rng = np.random.default_rng(random_state)
    sampled = f"all {n_total:,} rows"
    if max_rows is not None and max_rows < n_total:
        picks = np.sort(rng.choice(n_total, size=max_rows, replace=False))
        frame = frame.iloc[picks]
        sampled = f"a random sample of {max_rows:,} of {n_total:,} rows (max_rows={max_rows})"

    if background is None and plan_for(model, columns, method).method != "tree":
        take = min(100, n_total)
        src = X if hasattr(X, "iloc") else pd.DataFrame(np.asarray(X), columns=columns)
        background = src.iloc[np.sort(rng.choice(n_total, size=take, replace=False))]
    ex = ModelExplainer(
        model,
        background,
        columns=columns,
        method=method,
        target_class=target_class,
        max_evals=max_evals,
        random_state=random_state,
    )
    plan = ex._plan
    seen = ex._prepare(frame)
    check_nan(seen, parameter="X", method=ex.method, estimator=plan.estimator)
    if background is not None:
        check_nan(
            ex._prepare(background),
            parameter="background",
            method=ex.method,
            estimator=plan.estimator,
        )
    if ex.method == "permutation":
        evals = max_evals or default_max_evals(len(columns))
        if evals < 2 * len(columns) + 1:
            raise ConfigurationError(
                f"max_evals={evals} is below one permutation (2 × {len(columns)} features + 1 "
                f"= {2 * len(columns) + 1}); raise it",
                parameter="max_evals",
                value=evals,
            )
        sampled += f"; {evals:,} model evaluations per row on {ex.n_background} background rows"

    per_row, probed = _per_row_seconds(ex, frame, max_evals)
    estimate = per_row * len(frame)
    if (
        ex.method == "permutation"
        and max_rows is None
        and max_evals is None
        and estimate > max_seconds
    ):
        affordable = max(1, int(max_seconds / per_row)) if per_row > 0 else len(frame)
        raise TooCostly(
            f"the permutation explainer would take about {estimate:,.0f} s "
            f"({len(frame):,} rows × {per_row:.3g} s per row), more than max_seconds="
            f"{max_seconds:g}; bound it with max_rows={affordable} (a random sample), a "
            "smaller max_evals, or a smaller background, or raise max_seconds",
            estimated_seconds=estimate,
            limit_seconds=max_seconds,
            parameter="max_rows",
            suggestion=affordable,
        )
    if estimate > _LOG_ABOVE_S:
        _log.info(
            "explain_cost_estimate",
            method=ex.method,
            rows=len(frame),
            seconds_per_row=per_row,
            estimated_s=round(estimate, 2),
        )
    show = estimate > _LOG_ABOVE_S if progress is None else progress
    t0 = time.perf_counter()
    if probed is None:
        values, base = _run(ex, frame, show)
    elif len(frame) > _PROBE_ROWS:
        rest_v, rest_b = _run(ex, frame.iloc[_PROBE_ROWS:], show)
        values = np.concatenate([probed[0], rest_v])
        base = np.concatenate([probed[1], rest_b])
    else:
        values, base = probed
    elapsed = time.perf_counter() - t0
    if probed is not None:
        elapsed += per_row * min(len(frame), _PROBE_ROWS)  # the probe explained its rows

    names = ex.feature_names
    if len(names) != len(columns):
        data = pd.DataFrame(seen, columns=list(names), index=frame.index)
    else:
        data = frame
    output = np.asarray(ex.output(frame), dtype=float)
    check = additivity(values, base, output, list(frame.index), tolerance)
    if not check.ok:
        warnings.warn(
            f"explain: {len(check.failing_rows)} of {check.n_rows} rows do not add up to the "
            f"model output within tolerance={tolerance:g} (max error {check.max_error:.3g}); "
            f"rows {list(check.failing_rows)[:10]}",
            RuntimeWarning,
            stacklevel=2,
        )
    if groups:
        for g, members in groups.items():
            unknown = [m for m in members if m not in names]
            if unknown:
                raise ConfigurationError(
                    f"groups[{g!r}] names columns that are not features: {unknown}; "
                    f"features are {list(names)[:10]}",
                    parameter="groups",
                    value=unknown,
                )
    imp = pd.DataFrame(importance(values, units(names, groups), seed=random_state))
    perm_frame: Any = None
    disagree: list[str] = []
    if y is not None:
        perm_frame, disagree = _permutation(model, frame, y, imp, random_state, groups)
    fp = optional_import("mlprod.data.fingerprint", feature="explain")
    meta = {
        "method": ex.method,
        "reason": ex.reason,
        "output": ex.output_name,
        "sampled": sampled,
        "background": ex.background_kind,
        "model": type(model).__name__,
        "model_digest": _digest(model),
        "data_fingerprint": str(fp.fingerprint(frame)),
        "versions": {
            k: v
            for k, v in environment()["packages"].items()
            if k in ("mlprod", "shap", "scikit-learn", "numpy", "pandas", "xgboost", "lightgbm")
        },
        "groups": {str(k): list(v) for k, v in (groups or {}).items()},
        "elapsed_s": round(elapsed, 4),
        "estimated_s": round(estimate, 4),
    }
    return ExplanationReport(
        values=values,
        base_values=base,
        feature_names=names,
        data=data,
        additivity=check,
        importance=imp,
        permutation=perm_frame,
        disagreements=disagree,
        meta=meta,
    )


def _run(ex: ModelExplainer, frame: Any, show: bool) -> tuple[Any, Any]:
    if not show:
        return ex.contributions(frame)
    tqdm = optional_import("tqdm.auto", feature="explain progress")
    bounds = np.linspace(0, len(frame), min(_CHUNKS, len(frame)) + 1).astype(int)
    parts_v, parts_b = [], []
    with tqdm.tqdm(total=len(frame), desc=f"explain ({ex.method})", unit="row") as bar:
        for lo, hi in itertools.pairwise(bounds):
            v, b = ex.contributions(frame.iloc[lo:hi])
            parts_v.append(v)
            parts_b.append(b)
            bar.update(int(hi - lo))
    return np.concatenate(parts_v), np.concatenate(parts_b)


def _permutation(
    model: Any,
    frame: Any,
    y: Any,
    imp: Any,
    seed: int | None,
    groups: Mapping[str, Sequence[str]] | None,
) -> tuple[Any, list[str]]:
    pd = optional_import("pandas", feature="explain")
    inspection = optional_import("sklearn.inspection", feature="explain (permutation importance)")
    y_arr = np.asarray(y)
    if len(y_arr) != len(frame):
        y_arr = np.asarray(y.loc[frame.index]) if hasattr(y, "loc") else y_arr
    if len(y_arr) != len(frame):
        raise ConfigurationError(
            f"y has {len(np.asarray(y))} labels for {len(frame)} rows of X",
            parameter="y",
        )
    res = inspection.permutation_importance(model, frame, y_arr, n_repeats=5, random_state=seed)
    perm = pd.DataFrame(
        {
            "feature": [str(c) for c in frame.columns],
            "importance": res.importances_mean,
            "std": res.importances_std,
        }
    ).sort_values("importance", ascending=False, kind="stable")
    perm["rank"] = np.arange(1, len(perm) + 1)
    perm = perm.reset_index(drop=True)
    if groups:
        return perm, []  # groups rank as one line in SHAP, per column here: no like for like
    shap_rank = dict(zip(imp["feature"], imp["rank"]))
    perm_rank = dict(zip(perm["feature"], perm["rank"]))
    return perm, disagreements(shap_rank, perm_rank)


explain.__module__ = "mlprod"  # documented and reported under its public path
