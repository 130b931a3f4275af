"""Behaviour suites as registry gates: a version whose suite fails cannot take the alias."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mlprod.errors import ConfigurationError
from mlprod.testing._report import BehaviourReport
from mlprod.testing._verdict import BehaviourVerdict, ReportGate, _verdict

__all__ = ["BehaviourGate", "ReportGate", "behaviour_gate"]


def _as_report(result: Any, subject: str) -> BehaviourReport:
    if isinstance(result, BehaviourReport):
        return result
    if isinstance(result, Iterable) and not isinstance(result, str | bytes):
        return BehaviourReport.combine(list(result), subject=subject)
    raise ConfigurationError(
        f"The behaviour suite returned {type(result).__name__}; it must return a "
        "BehaviourReport (or several), e.g. lambda model: mt.check_predictor(model, X).",
        parameter="suite",
        value=type(result).__name__,
    )


class BehaviourGate:
    """A gate running a behaviour suite on the version about to take the alias."""

    def __init__(
        self,
        suite: Callable[[Any], Any],
        load: Callable[[Any], Any] | None,
        name: str,
    ) -> None:
        self.suite, self.load, self.name = suite, load, name

    def model_of(self, candidate: Any) -> Any:
        """The candidate's model: ``load(candidate)``, or the candidate when it predicts."""
        if self.load is not None:
            return self.load(candidate)
        if callable(getattr(candidate, "predict", None)):
            return candidate
        raise ConfigurationError(
            f"behaviour_gate cannot get the model of {getattr(candidate, 'ref', candidate)!r}: "
            "a gate receives the ModelVersion, not the model. Pass load=reg.load so the gate "
            "loads (and verifies) the candidate's artifact.",
            parameter="load",
            value=None,
        )

    def __call__(
        self, candidate: Any, current: Any | None, /, *, actor: str | None = None
    ) -> BehaviourVerdict:
        ref = getattr(candidate, "ref", None) or repr(candidate)[:80]
        extra: dict[str, Any] = {
            "candidate": ref,
            "digest": getattr(candidate, "digest", None),
        }
        try:
            model = self.model_of(candidate)
            report = _as_report(self.suite(model), subject=str(ref))
        except AssertionError as exc:
            # a suite written with the assert_* helpers fails by raising
            return BehaviourVerdict(
                self.name, False, {**extra, "assertion": str(exc)}, "the behaviour suite failed"
            )
        return _verdict(self.name, report, extra)

    def __repr__(self) -> str:
        return f"mt.behaviour_gate({self.suite!r}, load={self.load!r})"


def behaviour_gate(
    suite: Callable[[Any], Any],
    *,
    load: Callable[[Any], Any] | None = None,
    name: str = "behaviour",
) -> BehaviourGate:
    """A registry gate that runs ``suite`` on the candidate and stores the report as evidence.

    Satisfies :class:`mlprod.protocols.Gate`: pass it to
    ``reg.set_alias(..., gates=[...])``. The verdict passes when the report
    has no failure; its evidence holds the whole report (checks run,
    examples drawn, skips with why, counterexamples), sealed into the alias
    event.

    Parameters
    ----------
    suite:
        ``model -> BehaviourReport`` (or several reports), e.g.
        ``lambda m: mt.check_predictor(m, X) + mt.directional(m, X, "income")``.
        A suite raising ``AssertionError`` (written with ``assert_*``) fails.
    load:
        ``ModelVersion -> model``; pass ``reg.load`` (which verifies the
        artifact's digest). Without it the candidate itself must predict.
    name:
        The gate's name in the verdict.

    Raises
    ------
    mlprod.ConfigurationError
        ``suite`` or ``load`` is not callable.

    Examples
    --------
    >>> import pandas as pd, tempfile, mlprod as mp, mlprod.testing as mt
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> reg = mp.ModelRegistry(tempfile.mkdtemp())
    >>> mv = reg.register("price", LinearRegression().fit(X, [2.0, 4.0, 6.0]))
    >>> gate = mt.behaviour_gate(lambda m: mt.check_predictor(m, X, checks=["one_row"],
    ...                          max_examples=5, database=False), load=reg.load)
    >>> change = reg.set_alias("price", "production", mv.version, gates=[gate])
    >>> change.verdicts[0]["evidence"]["report"]["counts"]
    {'passed': 1, 'failed': 0, 'skipped': 0}
    """
    if not callable(suite):
        raise ConfigurationError(
            f"suite must be a callable model -> BehaviourReport, got {type(suite).__name__}.",
            parameter="suite",
            value=type(suite).__name__,
        )
    if load is not None and not callable(load):
        raise ConfigurationError(
            f"load must be a callable ModelVersion -> model (e.g. reg.load), got "
            f"{type(load).__name__}.",
            parameter="load",
            value=type(load).__name__,
        )
    return BehaviourGate(suite, load, name)
