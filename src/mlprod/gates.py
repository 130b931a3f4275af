"""Promotion gates, all in one namespace: ``mp.gates``.

A gate is any callable ``gate(candidate, current, *, actor=None)`` returning a
verdict (``passed``, ``gate``, ``evidence``; see :class:`mlprod.protocols.Gate`).
:meth:`mlprod.ModelRegistry.set_alias` runs every gate before it moves an alias
and seals each verdict, with its evidence, into the registry's event chain.

* :func:`metric_threshold`, :func:`beats_current`, :func:`signature_compatible`,
  :func:`four_eyes` — rules on a version's recorded metrics, signature and actors;
* :func:`fairness` — computes a fairness report of the candidate on data you give
  and gates on its disparities (the report is the evidence);
* :func:`behaviour` — runs a behaviour suite (:mod:`mlprod.testing`) on the
  candidate (the behaviour report is the evidence).

This module sits above the registry, the reports and the testing package,
which never import each other: it is where their gates meet. The fairness and
behaviour gates load their packages only when built.

Examples
--------
>>> import mlprod as mp, tempfile
>>> reg = mp.ModelRegistry(tempfile.mkdtemp())
>>> _ = reg.register("churn", {"w": 1}, metrics={"auc": 0.81}, actor="ana")
>>> _ = reg.set_alias("churn", "production", 1, actor="bo",
...                   gates=[mp.gates.metric_threshold("auc", min=0.8), mp.gates.four_eyes()])
>>> reg.resolve("churn", "production").version
1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlprod.errors import ConfigurationError
from mlprod.models.gates import (
    Verdict,
    beats_current,
    compare_signatures,
    four_eyes,
    metric_threshold,
    signature_compatible,
)
from mlprod.protocols import Gate

__all__ = [
    "Verdict",
    "beats_current",
    "behaviour",
    "compare_signatures",
    "fairness",
    "four_eyes",
    "metric_threshold",
    "signature_compatible",
]


def behaviour(
    suite: Callable[[Any], Any],
    *,
    load: Callable[[Any], Any] | None = None,
    name: str = "behaviour",
) -> Gate:
    """A gate running a behaviour suite on the candidate; see :func:`mlprod.testing.behaviour_gate`.

    Parameters
    ----------
    suite:
        ``model -> BehaviourReport``, e.g. ``lambda m: mt.check_predictor(m, X)``.
    load:
        ``ModelVersion -> model``: pass ``reg.load`` (it verifies the artifact).
    name:
        The gate's name in the verdict.
    """
    from mlprod.testing import behaviour_gate

    gate: Gate = behaviour_gate(suite, load=load, name=name)
    return gate


class _FairnessOnData:
    """Computes the candidate's fairness report on the given data, then gates on it."""

    def __init__(
        self,
        X: Any,
        y_true: Any,
        *,
        sensitive_features: Any,
        load: Callable[[Any], Any],
        thresholds: dict[str, Any],
        report_options: dict[str, Any],
        name: str,
    ) -> None:
        self.X, self.y_true = X, y_true
        self.sensitive_features = sensitive_features
        self.load = load
        self.thresholds = thresholds
        self.report_options = report_options
        self.name = name

    def __call__(self, candidate: Any, current: Any | None, /, *, actor: str | None = None) -> Any:
        from mlprod.reports.fairness import fairness_report

        model = self.load(candidate)
        report = fairness_report(
            self.y_true,
            model.predict(self.X),
            sensitive_features=self.sensitive_features,
            **self.report_options,
        )
        gate = report.gate(name=self.name, **self.thresholds)
        return gate(candidate, current, actor=actor)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.thresholds.items() if v is not None)
        return f"mp.gates.fairness({shown})"


def fairness(
    X: Any,
    y_true: Any,
    *,
    sensitive_features: Any,
    load: Callable[[Any], Any],
    min_ratio: float | None = None,
    max_difference: float | None = None,
    metrics: Sequence[str] | None = None,
    inconclusive: str = "fail",
    name: str = "fairness",
    **report_options: Any,
) -> Gate:
    """A gate computing the candidate's fairness report on ``X`` and gating on its disparities.

    At promotion time the gate loads the candidate (``load(candidate)``),
    predicts ``X``, computes :func:`mlprod.fairness_report` against ``y_true``
    and ``sensitive_features``, and passes when every chosen metric's
    disparity holds (see :meth:`mlprod.FairnessReport.gate`). The whole report
    and its digest are the verdict's evidence, sealed with the alias move.
    To gate on a report you already have, use ``report.gate(...)``.

    Parameters
    ----------
    X, y_true:
        Evaluation inputs and labels.
    sensitive_features:
        As for :func:`mlprod.fairness_report` (a Series, a DataFrame, a dict).
    load:
        ``ModelVersion -> model``; pass ``reg.load`` (it verifies the artifact).
    min_ratio, max_difference, metrics, inconclusive:
        The thresholds, as for :meth:`mlprod.FairnessReport.gate`.
    name:
        The gate's name in the verdict.
    **report_options:
        Passed to :func:`mlprod.fairness_report` (``n_boot``, ``random_state``, ...).

    Raises
    ------
    mlprod.ConfigurationError
        ``load`` is not callable, or no threshold is given.
    """
    if not callable(load):
        raise ConfigurationError(
            "mp.gates.fairness needs load=reg.load to get the candidate's model: a gate "
            "receives the ModelVersion, not the model.",
            parameter="load",
            value=type(load).__name__,
        )
    if min_ratio is None and max_difference is None:
        raise ConfigurationError(
            "mp.gates.fairness needs a threshold: pass min_ratio= (e.g. 0.8, the four-fifths "
            "rule) and/or max_difference=.",
            parameter="min_ratio",
            value=None,
        )
    thresholds = {
        "min_ratio": min_ratio,
        "max_difference": max_difference,
        "metrics": metrics,
        "inconclusive": inconclusive,
    }
    return _FairnessOnData(
        X,
        y_true,
        sensitive_features=sensitive_features,
        load=load,
        thresholds=thresholds,
        report_options=dict(report_options),
        name=name,
    )
