"""The guard: answer in time, or answer with something safe, and leave a record.

Every call goes through the same order of defence:

1. input validation (``input_schema.validate(X).ok``) → ``invalid_input``
2. the cost budget → ``over_budget``
3. the circuit breaker → ``breaker_open``
4. the primary, within the smaller of the guard's budget and the ambient
   deadline, on a bounded executor → ``timeout``, ``error`` or ``shed``
5. the output check (NaN/inf, rows, range, yours) → ``invalid_output``
6. on any failure, the fallback chain, tried in order, under a deadline of
   whatever time is left.

The guard returns the first answer it gets; :meth:`Guard.call` returns
which path answered and why, and :attr:`Guard.last_outcome` keeps it per
guard (and per thread or asyncio task).

A ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``,
``SystemExit``, cancellation, your own subclasses), raised by a model or
while the guard waits for one, ends the call on every path (inline,
executor, asyncio, worker process): the call is counted (outcome ``error``,
answered by ``none``) and audited, the breaker is given its permit back
without a verdict, any cost reserved is refunded, no fallback runs, and the
exception propagates. :mod:`~mlprod.runtime.policy`
holds the declaration; this module executes it, synchronously or with asyncio.
"""

from __future__ import annotations

import contextvars
import math
import numbers
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from mlprod._internal.logging import get_logger
from mlprod.errors import BudgetExceeded, ConfigurationError, SchemaError, Unavailable
from mlprod.protocols import AuditSink, Validator
from mlprod.runtime import _testing
from mlprod.runtime._dispatch import fallback_async, fallback_sync, primary_async, primary_sync
from mlprod.runtime._executor import SHED, Executor, ProcessExecutor, ThreadExecutor
from mlprod.runtime.breaker import CircuitBreaker
from mlprod.runtime.budget import CostBudget
from mlprod.runtime.deadline import _DEADLINE
from mlprod.runtime.explain import ExplainSampler
from mlprod.runtime.outcome import CallOutcome, CallState, Result
from mlprod.runtime.policy import Fallback, GuardPolicy, OutputCheck
from mlprod.runtime.records import call_record, disagreement_record
from mlprod.runtime.shadow import ShadowRunner
from mlprod.runtime.stats import GuardStats, StatsRecorder

__all__ = ["CallOutcome", "Guard", "ProbabilisticGuard"]

_log = get_logger("mlprod.runtime.guard")
_STATE = _testing._STATE  # read once per call: which clock, test mode or not
_PREDICTION_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "score_samples",
)


def _weak_listener(method: Any) -> Any:
    # A shared breaker, or the shadow thread, outlives the guard: neither may keep it alive.
    ref = weakref.WeakMethod(method)

    def listener(change: Mapping[str, Any]) -> None:
        target = ref()
        if target is not None:
            target(change)

    return listener


def _release(
    executor: Executor, shadow: ShadowRunner | None, breaker: CircuitBreaker | None, listener: Any
) -> None:
    if shadow is not None:
        shadow.close()
    executor.shutdown()
    if breaker is not None and listener is not None:
        breaker.remove_listener(listener)


class Guard:
    """A model wrapped in fallbacks, a latency budget, a breaker, a bulkhead and an audit trail.

    Build one with :func:`mlprod.guard`. A guard is itself a model: it has
    ``predict`` (and ``predict_proba`` when the model has it), so guards nest
    (a guarded model can be another guard's fallback).

    Examples
    --------
    >>> import mlprod as mp
    >>> inner = mp.guard(lambda X: 1 / 0, fallback=2, name="inner")
    >>> outer = mp.guard(lambda X: 1 / 0, fallback=inner, name="outer")
    >>> outer.predict([[0.0]]).tolist(), outer.last_outcome.path
    ([2], 'fallback[0]:inner')
    >>> isinstance(outer, mp.Guard), outer.stats().calls
    (True, 1)
    """

    __module__ = "mlprod"

    def __init__(
        self,
        model: Any,
        *,
        policy: GuardPolicy,
        fallbacks: tuple[Fallback, ...],
        input_schema: Validator | None,
        output_check: OutputCheck,
        breaker: CircuitBreaker | None,
        audit: AuditSink | None,
        model_ref: Mapping[str, Any] | None,
        cost: float | Callable[[Any, Any], float] | None,
        cost_budget: CostBudget | None,
        shadow: Any,
        explain: ExplainSampler | None = None,
    ) -> None:
        self.model = model
        self.policy = policy
        self.name = policy.name
        self.fallbacks = fallbacks
        self.input_schema = input_schema
        self.output_check = output_check
        self.breaker = breaker
        self.audit = audit
        self.model_ref = model_ref
        self._cost = cost
        # A fixed cost is counted when the call is admitted (see _admit).
        self._fixed_cost = 0.0 if cost is None or callable(cost) else float(cost)
        self._explain = explain
        self._closed = False
        # Per guard, and per thread or asyncio task within it.
        self._last: contextvars.ContextVar[Result | None] = contextvars.ContextVar(
            f"mlprod_guard_last_outcome_{policy.name}", default=None
        )
        self.cost_budget = cost_budget
        self._budget_s = None if policy.budget_ms is None else policy.budget_ms / 1000
        self._recorder = StatsRecorder()
        self._executor: ThreadExecutor | ProcessExecutor
        if policy.isolation == "process":
            # In test mode the model runs inline; workers start if test mode is ever left.
            self._executor = ProcessExecutor(
                model, policy.max_in_flight, name=policy.name, start=not _testing.is_testing()
            )
        else:
            self._executor = ThreadExecutor(policy.max_in_flight, name=policy.name)
        # Set for a lean guard (no schema, cost budget, breaker, budget; threads): its
        # calls may take the short path of _run.
        self._inline: ThreadExecutor | None = None
        if (
            isinstance(self._executor, ThreadExecutor)
            and input_schema is None
            and cost_budget is None
            and breaker is None
            and policy.budget_ms is None
        ):
            self._inline = self._executor
        self._shadow: ShadowRunner | None = None
        if shadow is not None:
            self._shadow = ShadowRunner(
                shadow,
                name=policy.name,
                count=self._recorder.count_shadow,
                on_disagreement=_weak_listener(self._audit_disagreement),
            )
        listener = None
        if breaker is not None and audit is not None:
            listener = _weak_listener(self._audit_breaker)
            breaker.add_listener(listener)
        # Runs on close() or when the guard is collected, whichever comes first.
        self._finalizer = weakref.finalize(
            self, _release, self._executor, self._shadow, breaker, listener
        )

    # -- public calls ----------------------------------------------------------------------

    def predict(self, X: Any) -> Any:
        """Predict with the primary, or the fallback chain when the primary cannot answer.

        Raises the primary's own error (or :class:`~mlprod.BudgetExceeded`,
        :class:`~mlprod.SchemaError`, :class:`~mlprod.Unavailable`) only when
        no fallback answers.
        """
        return self._run("predict", X)[5]

    async def apredict(self, X: Any) -> Any:
        """:meth:`predict` for asyncio code: the event loop is never blocked by the primary."""
        return (await self._arun("predict", X))[5]

    def call(self, X: Any, *, method: str = "predict") -> CallOutcome:
        """Like :meth:`predict`, but return the :class:`CallOutcome` (answer in ``.value``).

        Raises :class:`~mlprod.ConfigurationError` when the model has no ``method``.
        """
        self._callable(method)
        return CallOutcome(*self._run(method, X))

    async def acall(self, X: Any, *, method: str = "predict") -> CallOutcome:
        """:meth:`call` for asyncio code."""
        self._callable(method)
        return CallOutcome(*(await self._arun(method, X)))

    @property
    def last_outcome(self) -> CallOutcome | None:
        """The outcome of this guard's latest call in this thread or asyncio task.

        Each guard keeps its own: another guard's calls never show here.
        """
        last = self._last.get()
        return None if last is None else CallOutcome(*last)

    def stats(self) -> GuardStats:
        """A snapshot of the counters, gauges and latency histogram (see :class:`GuardStats`)."""
        ex = self._executor
        return self._recorder.snapshot(
            name=self.name,
            breaker_state=None if self.breaker is None else self.breaker.state,
            in_flight=ex.in_flight,
            orphans=ex.orphans,
            orphans_finished=ex.orphans_finished,
            workers_killed=ex.killed,
            worker_restart_failures=ex.restart_failures,
            cost_spent=None if self.cost_budget is None else self.cost_budget.spent(),
        )

    @property
    def audit_errors(self) -> int:
        """Audit records the sink failed to write (also in :meth:`stats`)."""
        return self._recorder.audit_errors

    @property
    def thread_count(self) -> int:
        """Executor threads started so far (never more than ``max_in_flight``)."""
        return self._executor.threads

    def drain_shadow(self, timeout_s: float = 5.0) -> bool:
        """Wait for queued shadow runs to finish; ``True`` when the queue is empty."""
        return True if self._shadow is None else self._shadow.drain(timeout_s)

    def close(self) -> None:
        """Release executor threads or worker processes and the shadow thread.

        A closed guard no longer records the state changes of its breaker.
        """
        self._closed = True
        self._inline = None  # the general path refuses calls to a closed guard
        self._finalizer()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        p = self.policy
        return (
            f"{type(self).__name__}(name={p.name!r}, budget_ms={p.budget_ms}, "
            f"max_in_flight={p.max_in_flight}, isolation={p.isolation!r}, "
            f"fallbacks={list(p.fallbacks)}, "
            f"breaker={None if self.breaker is None else self.breaker.state!r})"
        )

    # -- the order of defence --------------------------------------------------------------

    def _admit(self, X: Any) -> CallState:
        if self._closed:
            raise ConfigurationError(
                f"guard {self.name!r} is closed: its executor is shut down. Build a new "
                "guard with mp.guard(...), or close it only when you are done with it.",
                parameter="guard",
                value=self.name,
            )
        start = _STATE.now()
        at = None if self._budget_s is None else start + self._budget_s
        ambient = _DEADLINE.get()
        if ambient is not None and (at is None or ambient < at):
            at = ambient
        call = CallState(start, at)
        if self.input_schema is not None:
            try:
                report = self.input_schema.validate(X)
            except Exception as exc:
                call.outcome = "invalid_input"
                call.reason = (
                    f"the schema could not validate the input: {type(exc).__name__}: {exc}"
                )
                call.error = SchemaError(
                    f"guard {self.name!r}: {call.reason}. Pass the input in the form the "
                    "schema expects (e.g. a DataFrame with its columns)."
                )
                call.error.__cause__ = exc
                return call
            if not report.ok:
                failures = getattr(report, "failures", None)
                count = f" ({len(failures)} failures)" if failures is not None else ""
                call.outcome, call.reason = "invalid_input", f"the input failed its schema{count}"
                call.error = SchemaError(
                    f"guard {self.name!r}: the input failed its schema{count}. See .report "
                    "for each failure; fix the caller or give the guard a fallback.",
                    report=report,
                )
                return call
        if self.cost_budget is not None and not self.cost_budget.try_spend(self._fixed_cost):
            b = self.cost_budget
            spent = b.spent()
            call.outcome = "over_budget"
            call.reason = (
                f"cost budget {b.amount:g} per {b.per_seconds:g} s is spent ({spent:g} spent)"
            )
            call.error = BudgetExceeded(
                f"guard {self.name!r}: {call.reason}; calls go to the fallback until "
                "spending falls back under the budget. Add a cheaper fallback or raise the budget.",
                limit=b.amount,
                spent=spent,
                unit=f"cost per {b.per_seconds:g} s",
            )
            return call
        if self.cost_budget is not None:
            call.reserved = self._fixed_cost
        if self.breaker is not None:
            call.permit = self.breaker.allow()
            if call.permit is None:
                call.outcome, call.reason = "breaker_open", self.breaker.rejection()
                call.error = Unavailable(
                    f"guard {self.name!r}: {call.reason}. Give the guard a fallback to answer "
                    "meanwhile.",
                    outcome="breaker_open",
                    name=self.name,
                    retry_after_s=self.breaker.retry_after_s(),
                )
        return call

    def _check_output(self, X: Any, value: Any) -> str | None:
        try:
            return self.output_check(X, value)
        except Exception as exc:
            return f"the output check raised {type(exc).__name__}: {exc}"

    def _judge(
        self, call: CallState, X: Any, status: str, value: Any, why: str | None = None
    ) -> None:
        """Turn what the primary did into an outcome, and tell the breaker.

        ``why`` is the output check's verdict when the caller already has it.
        """
        if status == "ok":
            if why is None:
                why = self._check_output(X, value)
            if why is None:
                call.value = value
                if callable(self._cost) and self.cost_budget is not None:
                    self._spend(X, value)
            else:
                call.outcome, call.reason = "invalid_output", why
                call.error = SchemaError(
                    f"guard {self.name!r}: the primary's output failed its check: {why}. "
                    "Give the guard a fallback, or fix the model."
                )
        elif status == "timeout":
            budget = None if call.at is None else (call.at - call.start) * 1000
            elapsed = (_STATE.now() - call.start) * 1000
            call.outcome = "timeout"
            call.reason = f"no answer within {budget:.1f} ms" if budget is not None else "timeout"
            call.error = BudgetExceeded(
                f"guard {self.name!r}: the primary did not answer within its budget "
                f"({budget:.1f} ms). Raise budget_ms, speed the model up, or give the guard "
                "a fallback.",
                budget_ms=budget,
                elapsed_ms=elapsed,
                unit="ms",
            )
        elif status == "shed":
            call.outcome = "shed"
            call.reason = f"all {self.policy.max_in_flight} slots are busy"
            call.error = Unavailable(
                f"guard {self.name!r} shed the call: all {self.policy.max_in_flight} slots are "
                f"busy ({self._executor.orphans} held by timed-out calls). Give the guard a "
                "fallback, raise max_in_flight, or fix the slow model.",
                outcome="shed",
                name=self.name,
            )
        else:
            call.outcome = "error"
            call.reason = f"{type(value).__name__}: {value}"
            call.error = value
        if self.breaker is not None:
            if status == "shed":
                self.breaker.release(call.permit)
            elif call.outcome == "ok":
                self.breaker.record_success(call.permit)
            else:
                self.breaker.record_failure(call.permit)
            call.permit = None  # the breaker has its verdict

    def _spend(self, X: Any, y: Any) -> None:
        try:
            raw = self._cost(X, y)  # type: ignore[misc,operator]
            cost = float(raw) if isinstance(raw, numbers.Real) else math.nan
            if isinstance(raw, bool) or not math.isfinite(cost) or cost < 0:
                raise ConfigurationError(
                    f"the cost function returned {raw!r}; a cost must be a finite, "
                    "non-negative number (NaN would switch the budget off for good)",
                    parameter="cost",
                    value=repr(raw),
                )
            self.cost_budget.spend(cost)  # type: ignore[union-attr]
        except Exception as exc:
            # The answer is good; a broken cost function must not turn it into a failure,
            # nor may its value reach the budget. Counted, so the gap shows in stats().
            self._recorder.count_cost_error()
            _log.error(
                "the cost of an answer could not be counted; fix the cost function",
                guard=self.name,
                error=f"{type(exc).__name__}: {exc}",
            )

    # -- the primary's methods --------------------------------------------------------------

    def _callable(self, method: str) -> Any:
        fn = getattr(self.model, method, None)
        if fn is None and method == "predict" and callable(self.model):
            return self.model
        if fn is None:
            offered = [m for m in _PREDICTION_METHODS if callable(getattr(self.model, m, None))]
            if not offered and callable(self.model):
                offered = ["predict"]
            has = ", ".join(f"{m}()" for m in offered) or "no prediction method"
            raise ConfigurationError(
                f"guard {self.name!r}: the model ({type(self.model).__name__}) has no "
                f"{method}(); it has {has}. Call one of those, or guard a model that has "
                f"{method}().",
                parameter="method",
                value=method,
            )
        return fn

    # -- one call, start to finish -----------------------------------------------------------

    def _run(self, method: str, X: Any) -> Result:
        ex = self._inline
        if ex is not None and _DEADLINE.get() is None and not _STATE.enabled:
            # The lean path (no schema, cost budget, breaker, budget or deadline): the
            # primary runs in the caller's thread and a good answer returns at once.
            # Anything else joins the general path below with the same state.
            start = _STATE.now()
            try:
                value = ex.run_here(self._callable(method), X)
            except Exception as exc:
                call = CallState(start, None)
                self._judge(call, X, "error", exc)
                return self._conclude(call, method, X)
            except BaseException as exc:
                self._abort(CallState(start, None), method, X, exc)
                raise
            if value is SHED:
                call = CallState(start, None)
                self._judge(call, X, "shed", None)
                return self._conclude(call, method, X)
            try:
                why = self.output_check(X, value)
            except Exception as exc:
                why = f"the output check raised {type(exc).__name__}: {exc}"
            if why is None:
                return self._answered(start, method, X, value)
            call = CallState(start, None)
            self._judge(call, X, "ok", value, why)
            return self._conclude(call, method, X)
        call = self._admit(X)
        if call.outcome == "ok":
            try:
                status, value = primary_sync(self._executor, call.at, method, X, self._callable)
                self._judge(call, X, status, value)
            except BaseException as exc:
                self._abort(call, method, X, exc)
                raise
        return self._conclude(call, method, X)

    def _conclude(self, call: CallState, method: str, X: Any) -> Result:
        if call.outcome == "ok":
            return self._answered(call.start, method, X, call.value)
        try:
            path, value, failures = fallback_sync(self.fallbacks, call.at, method, X)
        except BaseException as exc:
            self._abort(call, method, X, exc)
            raise
        return self._finish(call, method, X, path, value, failures)

    async def _arun(self, method: str, X: Any) -> Result:
        call = self._admit(X)
        try:
            if call.outcome == "ok":
                status, value = await primary_async(
                    self._executor, call.at, method, X, self._callable
                )
                self._judge(call, X, status, value)
            if call.outcome == "ok":
                return self._answered(call.start, method, X, call.value)
            path, value, failures = await fallback_async(self.fallbacks, call.at, method, X)
        except BaseException as exc:
            self._abort(call, method, X, exc)
            raise
        return self._finish(call, method, X, path, value, failures)

    def _abort(self, call: CallState, method: str, X: Any, exc: BaseException) -> None:
        """Count and audit a call that a ``BaseException`` ended; the caller re-raises it."""
        # No verdict on the dependency: a half-open breaker would otherwise wait for
        # this probe forever and turn every later call away.
        if self.breaker is not None:
            self.breaker.release(call.permit)
            call.permit = None
        text = f"{type(exc).__name__} ended the call" + (f": {exc}" if str(exc) else "")
        if call.outcome == "ok":
            call.outcome, call.reason = "error", text
        else:
            call.reason = f"{call.reason}; then {text} in the fallback chain"
        call.error = None
        self._refund(call)
        latency_ms = (_STATE.now() - call.start) * 1000
        self._recorder.record(call.outcome, "none", latency_ms)
        self._last.set((call.outcome, "none", "", call.reason, latency_ms, None))
        if self.audit is not None:
            self._audit_call(method, X, call.outcome, call.reason, "none", "", latency_ms, None, [])

    def _refund(self, call: CallState) -> None:
        # Failed calls cost nothing: give back what was counted when the call was admitted.
        if call.reserved:
            self.cost_budget.spend(-call.reserved)  # type: ignore[union-attr]
            call.reserved = 0.0

    def _answered(self, start: float, method: str, X: Any, value: Any) -> Result:
        """Finish a call the primary answered: count it, keep it, record it."""
        latency_ms = (_STATE.now() - start) * 1000
        self._recorder.record("ok", "primary", latency_ms)
        result = ("ok", "primary", "primary", "", latency_ms, value)
        self._last.set(result)
        if self.audit is not None:
            self._audit_call(method, X, "ok", "", "primary", "primary", latency_ms, value, [])
        if self._shadow is not None:
            self._shadow.submit(method, X, value, inline=_STATE.enabled)
        return result

    def _finish(
        self, call: CallState, method: str, X: Any, path: str, value: Any, failures: list[str]
    ) -> Result:
        """Finish a call the primary did not answer: a fallback did, or nothing did."""
        latency_ms = (_STATE.now() - call.start) * 1000
        self._refund(call)
        answered_by = "fallback" if path else "none"
        self._recorder.record(call.outcome, answered_by, latency_ms)
        result = (call.outcome, answered_by, path, call.reason, latency_ms, value)
        self._last.set(result)
        if self.audit is not None:
            self._audit_call(
                method, X, call.outcome, call.reason, answered_by, path, latency_ms, value, failures
            )
        if answered_by == "none":
            error = call.error if call.error is not None else RuntimeError(call.reason)
            if not self.fallbacks:
                raise error
            # A model may raise one stored exception again and again (a cached load
            # failure, a future's result): notes must not pile up on it call after call.
            known = getattr(error, "__notes__", ())
            for line in failures or [f"no fallback of guard {self.name!r} offers {method}()"]:
                if line not in known:
                    error.add_note(line)
            raise error
        return result

    # -- audit -----------------------------------------------------------------------------

    def _append(self, record: dict[str, Any]) -> None:
        try:
            self.audit.append(record)  # type: ignore[union-attr]
        except Exception as exc:
            # The answer matters more than its record: count, log loudly, carry on.
            self._recorder.count_audit_error()
            _log.error("could not write an audit record", guard=self.name, error=str(exc))

    def _audit_call(
        self,
        method: str,
        X: Any,
        outcome: str,
        reason: str,
        answered_by: str,
        path: str,
        latency_ms: float,
        value: Any,
        failures: list[str],
    ) -> None:
        record = call_record(
            guard=self.name,
            method=method,
            model_ref=self.model_ref,
            X=X,
            outcome=outcome,
            reason=reason,
            answered_by=answered_by,
            path=path,
            latency_ms=latency_ms,
            value=value,
            failures=failures,
            record_inputs=self.policy.record_inputs,
        )
        # Only the primary's answers are the explainer's model's; unsampled calls stop
        # at one counter step.
        if self._explain is not None and answered_by == "primary" and self._explain.sample():
            record["explanation"] = self._explanation(X)
        self._append(record)

    def _explanation(self, X: Any) -> dict[str, Any]:
        assert self._explain is not None
        try:
            explanation = self._explain.explain(X)
        except Exception as exc:
            # The answer stands; its record says why it carries no explanation.
            self._recorder.count_explanation(failed=True)
            _log.error("the explainer failed", guard=self.name, error=f"{type(exc).__name__}")
            return {
                "explainer": type(self._explain.explainer).__name__,
                "error": f"{type(exc).__name__}: {exc}",
            }
        self._recorder.count_explanation(failed=False)
        return explanation

    def _audit_breaker(self, change: Mapping[str, Any]) -> None:
        self._append({**change, "guard": self.name})

    def _audit_disagreement(self, info: Mapping[str, Any]) -> None:
        if self.audit is not None:
            self._append(disagreement_record(self.name, self.model_ref, info))


class ProbabilisticGuard(Guard):
    """A :class:`Guard` around a model with ``predict_proba``, which it guards too.

    What :func:`mlprod.guard` returns for a model with ``predict_proba``;
    use :class:`mlprod.Guard` in ``isinstance`` checks and annotations.

    Examples
    --------
    >>> import mlprod as mp
    >>> class Coin:
    ...     def predict(self, X):
    ...         return [1] * len(X)
    ...     def predict_proba(self, X):
    ...         return [[0.5, 0.5]] * len(X)
    >>> mp.guard(Coin(), budget_ms=1000).predict_proba([[0.0]])
    [[0.5, 0.5]]
    """

    __module__ = "mlprod"

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities from the primary, or from the first fallback that answers."""
        return self._run("predict_proba", X)[5]

    async def apredict_proba(self, X: Any) -> Any:
        """:meth:`predict_proba` for asyncio code."""
        return (await self._arun("predict_proba", X))[5]


# The class reports mlprod as its module, so doctest would not see it as defined here.
__test__ = {"Guard": Guard}
