"""``mp.guard(...)``: assemble a guard from a model and the options a user gives."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np

from mlprod.errors import ConfigurationError
from mlprod.protocols import AuditSink, Explainer, ModelRef, OutputRule, Predictor, Validator
from mlprod.runtime.breaker import CircuitBreaker
from mlprod.runtime.budget import CostBudget, CostFn
from mlprod.runtime.explain import ExplainSampler
from mlprod.runtime.guard import Guard, ProbabilisticGuard
from mlprod.runtime.policy import (
    GuardPolicy,
    as_fallbacks,
    as_output_check,
    fallback_labels,
    model_ref_dict,
)

__all__ = ["Constant", "FallbackLike", "ModelLike", "guard"]

ModelLike: TypeAlias = Predictor | Callable[[Any], Any]
"""A model: anything with ``predict(X)``, or a plain function of ``X``."""

Constant: TypeAlias = int | float | bool | str | np.generic | np.ndarray[Any, Any] | tuple[Any, ...]
"""A constant fallback answer, broadcast to one per input row."""

FallbackLike: TypeAlias = ModelLike | Constant
"""One link of a fallback chain: a model, a function of ``X``, or a constant."""


def _default_name(model: Any) -> str:
    name = getattr(model, "name", None)
    if isinstance(name, str) and name:
        return name
    return getattr(model, "__name__", type(model).__name__)


def guard(
    model: ModelLike,
    *,
    fallback: FallbackLike | list[FallbackLike] | None = None,
    budget_ms: float | None = None,
    input_schema: Validator | None = None,
    output_check: OutputRule | None = None,
    breaker: CircuitBreaker | None = None,
    max_in_flight: int = 8,
    audit: AuditSink | None = None,
    model_ref: ModelRef | None = None,
    name: str | None = None,
    isolation: str = "thread",
    cost: float | CostFn | None = None,
    cost_budget: tuple[float, float] | None = None,
    shadow: ModelLike | None = None,
    record_inputs: bool = False,
    explainer: Explainer | None = None,
    explain_every: int | None = None,
    explain_rate: float | None = None,
    explain_top: int = 5,
    explain_seed: int | None = 0,
) -> Guard:
    """Wrap a model so it answers in time, or answers with something safe, and leaves a record.

    The guard has the model's ``predict`` (and ``predict_proba`` when the
    model has it), plus ``apredict`` for asyncio. Each call passes input
    validation, the cost budget and the breaker, then runs the primary
    within the budget on a bounded executor and checks its output; on any
    failure the fallback chain answers. The outcome of the latest call is in
    :attr:`~mlprod.runtime.guard.Guard.last_outcome`.

    Parameters
    ----------
    model:
        Anything with ``predict`` (a :class:`~mlprod.protocols.Predictor`),
        or a plain function of ``X``.
    fallback:
        A model, a callable of ``X``, a constant (broadcast to one per row),
        or a list of these tried in order. A fallback runs in the calling
        thread under a deadline of whatever time is left; wrap a slow one in
        its own guard to bound it.
    budget_ms:
        Latency budget per call. The guard uses the smaller of this and the
        ambient :func:`mlprod.deadline`. Without either, the primary runs in
        the caller's thread (no hand-off cost).
    input_schema:
        Anything with ``validate(X)`` returning an object with ``.ok`` (an
        ``mp.Schema``, or the registry signature of the model).
    output_check:
        An :class:`~mlprod.OutputCheck` or a callable ``(X, y) -> bool``.
        By default outputs must be finite and have one row per input row.
    breaker:
        A :class:`~mlprod.CircuitBreaker`; errors, timeouts and bad outputs
        count as failures.
    max_in_flight:
        Slots of the bounded executor (and the thread bound): primary calls,
        orphans included, that may run at once. Further calls are shed.
    audit:
        An :class:`~mlprod.protocols.AuditSink` (e.g. :class:`~mlprod.AuditLog`)
        that receives one record per call, and breaker state changes.
    model_ref:
        Any object with ``name``, ``version`` and ``digest`` (an
        ``mp.ModelVersion``); stamped on every audit record.
    name:
        For statistics, logs and records; defaults to the model's name or type.
    isolation:
        ``"thread"`` (default) or ``"process"``: the primary runs in worker
        processes that are killed and replaced on timeout, for models that
        may hang for good. The model must pickle.
    cost:
        The cost of one primary call: a number, or a callable ``(X, y) -> float``.
        Calls the primary fails cost nothing.
    cost_budget:
        ``(amount, per_seconds)``: once that much was spent in the window,
        calls go to the fallback with outcome ``over_budget``. A fixed cost is
        counted as each call is admitted, so concurrent calls cannot overshoot
        the budget together; a cost function can only be counted after the
        answer, so calls already running may overshoot it by their own cost.
    shadow:
        A challenger model run off the critical path on the same inputs;
        disagreements are counted and audited, never returned.
    record_inputs:
        Put the raw input into audit records (by default only its fingerprint).
    explainer:
        An :class:`~mlprod.protocols.Explainer` (``feature_names``,
        ``explain_rows(X)``), e.g. what ``mp.explainer(model, background)``
        returns. Sampled calls answered by the primary get each row's top
        contributions (feature, value, contribution) in their audit record;
        needs ``audit=``. A failing explainer never fails the call: the
        record notes the error and ``stats().explain_errors`` counts it.
    explain_every:
        Explain every N-th call the primary answers (1 = all of them).
    explain_rate:
        Or explain each such call with this probability, drawn from a
        generator seeded with ``explain_seed`` (reproducible).
    explain_top:
        Contributions kept per row, largest in absolute value first.
    explain_seed:
        Seed of the draws of ``explain_rate``.

    Returns
    -------
    Guard
        A :class:`~mlprod.runtime.guard.ProbabilisticGuard` when the model has
        ``predict_proba``.

    Examples
    --------
    >>> import mlprod as mp
    >>> class Flaky:
    ...     def predict(self, X):
    ...         raise ConnectionError("model server down")
    >>> g = mp.guard(Flaky(), fallback=[lambda X: [0.5] * len(X)], budget_ms=50, name="churn")
    >>> g.predict([[1.0], [2.0]])
    [0.5, 0.5]
    >>> g.last_outcome.outcome, g.last_outcome.path
    ('error', 'fallback[0]:<lambda>')
    """
    if model is None or not (callable(getattr(model, "predict", None)) or callable(model)):
        raise ConfigurationError(
            f"guard() needs a model with predict(X) (or a function of X), got "
            f"{type(model).__name__}",
            parameter="model",
            value=repr(model),
        )
    if (cost is None) != (cost_budget is None):
        raise ConfigurationError(
            "cost= and cost_budget= go together: cost says what one call costs, "
            "cost_budget=(amount, per_seconds) how much may be spent",
            parameter="cost_budget",
            value=cost_budget,
        )
    fixed = cost is not None and not callable(cost)
    if fixed and (
        isinstance(cost, bool)
        or not isinstance(cost, int | float)
        or not math.isfinite(cost)
        or cost < 0
    ):
        raise ConfigurationError(
            f"cost must be a finite, non-negative number or a callable (X, y) -> float, "
            f"got {cost!r}",
            parameter="cost",
            value=cost,
        )
    chain = as_fallbacks(fallback)
    budget = None
    if cost_budget is not None:
        try:
            amount, per_seconds = cost_budget
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"cost_budget must be (amount, per_seconds), got {cost_budget!r}",
                parameter="cost_budget",
                value=cost_budget,
            ) from None
        budget = CostBudget(amount, per_seconds)
    explain = None
    if explainer is not None:
        if audit is None:
            raise ConfigurationError(
                "explainer= writes explanations into audit records, but the guard has no "
                "audit=: pass audit=mp.AuditLog(path) (or any sink with append)",
                parameter="explainer",
                value=type(explainer).__name__,
            )
        explain = ExplainSampler(
            explainer, every=explain_every, rate=explain_rate, top=explain_top, seed=explain_seed
        )
    elif explain_every is not None or explain_rate is not None:
        raise ConfigurationError(
            "explain_every= and explain_rate= say how often to explain, but no explainer= "
            "was given",
            parameter="explainer",
        )
    if input_schema is not None and not callable(getattr(input_schema, "validate", None)):
        raise ConfigurationError(
            f"input_schema must have validate(X) (like mp.Schema), got "
            f"{type(input_schema).__name__}",
            parameter="input_schema",
            value=repr(input_schema),
        )
    policy = GuardPolicy(
        name=name or _default_name(model),
        budget_ms=budget_ms,
        max_in_flight=max_in_flight,
        isolation=isolation,
        fallbacks=fallback_labels(chain),
        record_inputs=record_inputs,
        cost_budget=None if budget is None else (budget.amount, budget.per_seconds),
    )
    cls = ProbabilisticGuard if callable(getattr(model, "predict_proba", None)) else Guard
    return cls(
        model,
        policy=policy,
        fallbacks=chain,
        input_schema=input_schema,
        output_check=as_output_check(output_check),
        breaker=breaker,
        audit=audit,
        model_ref=model_ref_dict(model_ref),
        cost=cost,
        cost_budget=budget,
        shadow=shadow,
        explain=explain,
    )


# Reported, documented and pickled under the public path.
guard.__module__ = "mlprod"
