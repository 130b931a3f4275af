"""Fairness reports: MetricFrame's numbers from one pass of counts, with intervals and verdicts.

:func:`fairness_report` computes per-group metrics, disparities to a
reference group and between groups, demographic parity, equalized odds and
equal opportunity, each with a bootstrap interval resampled within groups,
and returns a :class:`~mlprod.FairnessReport` that renders (HTML with
inline SVG, Markdown, text), round-trips through JSON and gates a registry
promotion (:meth:`~mlprod.FairnessReport.gate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlprod.reports.fairness._report import FairnessReport

__all__ = ["FairnessReport", "fairness_report"]


def fairness_report(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    metrics: Sequence[Any] | None = None,
    reference: Any = None,
    ci: float = 0.95,
    n_boot: int = 200,
    random_state: int | None = None,
    min_group_size: int = 30,
    pos_label: Any = None,
    task: str | None = None,
    data: Any = None,
) -> FairnessReport:
    """Report how a model's metrics differ across groups, with uncertainty.

    Parameters
    ----------
    y_true, y_pred:
        Targets and predictions, one per row (arrays, Series, or column
        names of ``data``). Binary labels in {0, 1} (or bools) by default;
        other labels need ``pos_label`` (two labels) or are treated as
        multiclass (three or more: accuracy and, per class, the selection
        rate and TPR). Continuous targets make a regression report (MAE,
        RMSE, mean prediction, mean residual).
    sensitive_features:
        A Series, a DataFrame (its columns cross into intersectional groups),
        a dict of arrays, a 1-D array, or column names of ``data``. Missing
        values form their own group, named ``"<missing>"``.
    y_score:
        Probability of the positive class, in [0, 1]; adds ROC AUC and a
        calibration summary (mean score, calibration gap, Brier score,
        expected calibration error) per group.
    metrics:
        Names (``"selection_rate"``, ``"tpr"``, ...), callables
        ``(y_true, y_pred) -> float`` computed per group as ``MetricFrame``
        would, or a dict of name -> either. Default: all standard metrics
        of the task.
    reference:
        The group disparities are measured against (a value, or a tuple for
        intersections). Default: the largest group.
    ci, n_boot, random_state:
        Interval level, bootstrap resamples (0 for none) and the seed of a
        local ``numpy.random.Generator`` (recorded in the report; drawn
        fresh when ``None``).
    min_group_size:
        Groups smaller than this are flagged ``small``.
    pos_label, task:
        The positive label to binarise on; force ``"regression"`` or
        ``"binary"`` instead of inferring.
    data:
        A DataFrame the column names above refer to.

    Returns
    -------
    FairnessReport

    Raises
    ------
    mlprod.InvalidInput
        Length mismatches, a single group, labels outside {0, 1} without
        ``pos_label``, NaN in ``y_true``/``y_pred``, scores outside [0, 1],
        empty input, a sensitive feature with one row per group.

    Examples
    --------
    >>> import numpy as np, mlprod as mp
    >>> rng = np.random.default_rng(1)
    >>> sex = rng.choice(["F", "M"], 2000)
    >>> y = rng.integers(0, 2, 2000)
    >>> pred = np.where(sex == "F", y, rng.integers(0, 2, 2000))
    >>> fr = mp.fairness_report(y, pred, sensitive_features=sex, random_state=0)
    >>> round(fr.by_group.loc["F", "accuracy"], 2)
    np.float64(1.0)
    >>> fr.gate(max_difference=0.1, metrics=["accuracy"])(None, None).passed
    False
    """
    from mlprod._internal.environment import environment
    from mlprod.reports.fairness._build import build

    data_dict = build(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        data=data,
        y_score=y_score,
        metrics=metrics,
        reference=reference,
        ci=ci,
        n_boot=n_boot,
        random_state=random_state,
        min_group_size=min_group_size,
        pos_label=pos_label,
        task=task,
    )
    data_dict["fingerprints"] = _fingerprints(y_true, y_pred, y_score, sensitive_features, data)
    data_dict["environment"] = {
        "packages": environment()["packages"],
        "python": environment()["python"]["version"],
    }
    return FairnessReport(data_dict)


def _fingerprints(y_true: Any, y_pred: Any, y_score: Any, sf: Any, data: Any) -> dict[str, str]:
    import numpy as np
    import pandas as pd

    from mlprod.data.fingerprint import fingerprint

    def col(v: Any) -> Any:
        if data is not None and isinstance(v, str):
            v = data[v]
        if isinstance(v, pd.Series | pd.DataFrame):
            return v.reset_index(drop=True)
        return pd.Series(np.asarray(v))

    if data is not None and (isinstance(sf, str) or (isinstance(sf, list) and sf)):
        sf = data[[sf] if isinstance(sf, str) else sf]
    elif isinstance(sf, dict):
        sf = pd.DataFrame(sf)
    feats = col(sf) if not isinstance(sf, pd.DataFrame) else sf.reset_index(drop=True)
    out = {
        "sensitive_features": str(fingerprint(feats)),
        "y_true": str(fingerprint(col(y_true))),
        "y_pred": str(fingerprint(col(y_pred))),
    }
    if y_score is not None:
        out["y_score"] = str(fingerprint(col(y_score)))
    return out


fairness_report.__module__ = "mlprod"  # documented and reported under its public path
