"""Behaviour properties: labelled must-pass cases, and agreement between two models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlprod.errors import ConfigurationError
from mlprod.testing._calls import (
    as_array,
    check_model,
    describe_error,
    differ,
    is_clear_error,
    subject_of,
)
from mlprod.testing._context import data_name, data_strategy
from mlprod.testing._properties import closest, run_property, tolerance_of
from mlprod.testing._report import BehaviourReport, CheckResult

__all__ = ["consistency", "minimum_functionality"]


def _cases(cases: Any, label: str) -> tuple[pd.DataFrame, list[Any]]:
    if isinstance(cases, pd.DataFrame):
        if label not in cases.columns:
            raise ConfigurationError(
                f"cases has no column {label!r} of expected outputs"
                f"{closest(label, cases.columns)};"
                " add it or pass label= naming it.",
                parameter="cases",
                value=label,
            )
        return cases.drop(columns=[label]).reset_index(drop=True), list(cases[label])
    try:
        pairs = list(cases)
        rows = [dict(features) for features, _ in pairs]
        expected = [want for _, want in pairs]
    except (TypeError, ValueError):
        raise ConfigurationError(
            "cases must be a DataFrame with an expected-output column, or (features, expected) "
            "pairs such as [({'income': 90.0}, 1), ...].",
            parameter="cases",
            value=type(cases).__name__,
        ) from None
    if not rows:
        raise ConfigurationError("cases is empty.", parameter="cases", value=0)
    return pd.DataFrame(rows), expected


def minimum_functionality(
    model: Any, cases: Any, *, label: str = "expected", tolerance: float = 0.0
) -> BehaviourReport:
    """Labelled must-pass cases: each row's output equals its expected value.

    Parameters
    ----------
    model:
        Any object with ``predict``.
    cases:
        A DataFrame with a ``label`` column of expected outputs, or
        ``(features_mapping, expected)`` pairs. ``expected`` may be a callable
        ``output -> bool`` for a condition rather than a value.
    label:
        The column of expected outputs when ``cases`` is a frame.
    tolerance:
        For numeric outputs, the largest allowed absolute difference.

    Raises
    ------
    mlprod.ConfigurationError
        ``model`` has no ``predict`` or ``cases`` has no expected outputs.

    Examples
    --------
    >>> import mlprod.testing as mt
    >>> class Threshold:
    ...     def predict(self, X):
    ...         return (X["income"] > 50).astype(int).to_numpy()
    >>> cases = [({"income": 90.0}, 1), ({"income": 10.0}, 0)]
    >>> mt.minimum_functionality(Threshold(), cases).ok
    True
    """
    check_model(model)
    tol = tolerance_of(tolerance)
    frame, expected = _cases(cases, label)
    try:
        out = as_array(model.predict(frame))
    except Exception as exc:
        result = CheckResult(
            "minimum_functionality",
            "failed",
            f"predict raised {describe_error(exc)} on the cases"
            + ("" if is_clear_error(exc) else " (a crash)"),
            len(frame),
            frame.head(1),
        )
        return BehaviourReport(subject_of(model), (result,))
    wrong: list[int] = []
    for i, want in enumerate(expected):
        got = out[i]
        if callable(want):
            ok = bool(want(got))
        elif isinstance(got, int | float | np.number) and isinstance(want, int | float | np.number):
            ok = abs(float(got) - float(want)) <= tol
        else:
            ok = bool(got == want)
        if not ok:
            wrong.append(i)
    if not wrong:
        result = CheckResult(
            "minimum_functionality",
            "passed",
            f"all {len(frame)} case(s) gave the expected output",
            len(frame),
        )
    else:
        first = wrong[0]
        want = expected[first]
        shown = "the condition" if callable(want) else repr(want)
        result = CheckResult(
            "minimum_functionality",
            "failed",
            f"{len(wrong)} of {len(frame)} case(s) failed; the first (case {first}) gave "
            f"{out[first]!r}, expected {shown}",
            len(frame),
            frame.iloc[[first]].reset_index(drop=True),
        )
    return BehaviourReport(subject_of(model), (result,))


def consistency(
    model_a: Any,
    model_b: Any,
    data: Any,
    *,
    tolerance: float = 0.0,
    max_examples: int | None = None,
    database: Any = None,
) -> BehaviourReport:
    """Two models (old and retrained, or a model and its re-serialised copy) agree on ``data``.

    Parameters
    ----------
    model_a, model_b:
        Objects with ``predict``.
    data:
        A DataFrame (rows drawn like it) or a strategy of frames, e.g. the
        slice where the two must agree.
    tolerance:
        The largest allowed absolute difference of numeric outputs.
    max_examples, database:
        As for :func:`check_predictor`.

    Raises
    ------
    mlprod.ConfigurationError
        Either model has no ``predict`` or ``data`` is neither a frame nor a strategy.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class Old:
    ...     def predict(self, X):
    ...         return X["x"].to_numpy() * 2.0
    >>> class New:
    ...     def predict(self, X):
    ...         return X["x"].to_numpy() * 2.0 + 1e-12
    >>> X = pd.DataFrame({"x": [0.0, 1.0]})
    >>> mt.consistency(Old(), New(), X, tolerance=1e-9, max_examples=10, database=False).ok
    True
    """
    check_model(model_a, "model_a")
    check_model(model_b, "model_b")
    tol = tolerance_of(tolerance)

    def fails(frame: pd.DataFrame) -> str | None:
        try:
            a = as_array(model_a.predict(frame))
        except Exception as exc:
            return f"model_a raised {describe_error(exc)}"
        try:
            b = as_array(model_b.predict(frame))
        except Exception as exc:
            return f"model_b raised {describe_error(exc)}"
        found = differ(a, b, tol)
        return None if found is None else f"the models disagree: {found}"

    subject = f"{subject_of(model_a)} vs {subject_of(model_b)}"
    return run_property(
        "consistency",
        subject,
        data_strategy(data),
        fails,
        passed=f"the models agree within {tol:g}",
        key_parts=(subject, data_name(data)),
        max_examples=max_examples,
        database=database,
    )
