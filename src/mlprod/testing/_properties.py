"""Behaviour properties: invariance and directional expectation.

Each draws frames from a strategy (rows like a DataFrame, or the strategy
you pass), searches for a violation and shrinks it to the smallest input
that still violates the property, the way CheckList's tests read for NLP.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from mlprod._internal.lazy import optional_import
from mlprod.errors import ConfigurationError
from mlprod.testing._calls import (
    as_array,
    check_model,
    describe_error,
    differ,
    score,
    subject_of,
)
from mlprod.testing._context import data_name, data_strategy
from mlprod.testing._report import BehaviourReport, CheckResult
from mlprod.testing._search import database_key, search, search_settings

__all__ = ["closest", "directional", "invariance", "run_property", "tolerance_of"]


def tolerance_of(value: float) -> float:
    try:
        tol = float(value)
    except (TypeError, ValueError):
        tol = -1.0
    if not tol >= 0:
        raise ConfigurationError(
            f"tolerance must be a number >= 0, got {value!r}.", parameter="tolerance", value=value
        )
    return tol


def run_property(
    name: str,
    subject: str,
    strategy: Any,
    fails: Callable[[Any], str | None],
    *,
    passed: str,
    key_parts: tuple[Any, ...],
    max_examples: int | None,
    database: Any,
    shown: Callable[[Any], pd.DataFrame] = lambda example: example,
) -> BehaviourReport:
    settings = search_settings(max_examples, database)
    outcome = search(strategy, fails, key=database_key(name, *key_parts), settings=settings)
    if outcome.problem is None:
        result = CheckResult(name, "passed", passed, outcome.examples)
    else:
        result = CheckResult(
            name, "failed", outcome.problem, outcome.examples, shown(outcome.example)
        )
    return BehaviourReport(subject, (result,))


def invariance(
    model: Any,
    data: Any,
    perturb: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    tolerance: float = 0.0,
    name: str | None = None,
    max_examples: int | None = None,
    database: Any = None,
) -> BehaviourReport:
    """The output does not move (beyond ``tolerance``) when ``perturb`` changes the input.

    Parameters
    ----------
    model:
        Any object with ``predict``.
    data:
        A DataFrame (frames are drawn like it) or a strategy of frames.
    perturb:
        ``frame -> frame`` of the same shape: a change that must not matter
        (rename an irrelevant category, add noise to an unused column).
    tolerance:
        The largest allowed absolute change of a numeric output (labels must
        be equal).
    name:
        The check's name in the report (``"invariance(<perturb>)"`` by default).
    max_examples, database:
        As for :func:`check_predictor`.

    Raises
    ------
    mlprod.ConfigurationError
        ``model`` has no ``predict``, ``data`` is neither a frame nor a
        strategy, or ``perturb`` raises or changes the frame's shape.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class ByIncome:
    ...     def predict(self, X):
    ...         return X["income"].to_numpy() * 0.1
    >>> X = pd.DataFrame({"income": [10.0, 90.0], "city": ["a", "b"]})
    >>> rename = lambda df: df.assign(city=df["city"].replace({"a": "z"}))
    >>> mt.invariance(ByIncome(), X, rename, max_examples=10, database=False).ok
    True
    """
    check_model(model)
    if not callable(perturb):
        raise ConfigurationError(
            f"perturb must be a callable frame -> frame, got {type(perturb).__name__}.",
            parameter="perturb",
            value=type(perturb).__name__,
        )
    tol = tolerance_of(tolerance)
    label = name or f"invariance({getattr(perturb, '__name__', 'perturb')})"

    def perturbed(frame: pd.DataFrame) -> pd.DataFrame:
        try:
            changed = perturb(frame.copy())
        except Exception as exc:
            raise ConfigurationError(
                f"perturb raised {describe_error(exc)} on a drawn frame of {len(frame)} row(s); "
                "it must accept any frame the data strategy draws.",
                parameter="perturb",
                value=getattr(perturb, "__name__", repr(perturb)),
            ) from exc
        if not isinstance(changed, pd.DataFrame) or changed.shape != frame.shape:
            shape = getattr(changed, "shape", type(changed).__name__)
            raise ConfigurationError(
                f"perturb must return a frame of the same shape {frame.shape}, got {shape}; "
                "change values, not rows or columns.",
                parameter="perturb",
                value=getattr(perturb, "__name__", repr(perturb)),
            )
        return changed

    def fails(frame: pd.DataFrame) -> str | None:
        changed = perturbed(frame)
        try:
            before = as_array(model.predict(frame))
            after = as_array(model.predict(changed))
        except Exception as exc:
            return f"predict raised {describe_error(exc)}"
        found = differ(before, after, tol)
        return None if found is None else f"the perturbation moved the output: {found}"

    return run_property(
        label,
        subject_of(model),
        data_strategy(data),
        fails,
        passed=f"output unchanged within {tol:g} under the perturbation",
        key_parts=(subject_of(model), data_name(data), label),
        max_examples=max_examples,
        database=database,
    )


def closest(name: Any, options: Iterable[Any]) -> str:
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=3)
    return f" (closest: {close})" if close else ""


def directional(
    model: Any,
    data: Any,
    feature: str,
    *,
    increasing: bool = True,
    where: Callable[[pd.DataFrame], Any] | None = None,
    tolerance: float = 1e-9,
    max_examples: int | None = None,
    database: Any = None,
) -> BehaviourReport:
    """Raising ``feature`` never lowers (or, ``increasing=False``, never raises) the score.

    The score is the last class's probability for classifiers with
    ``predict_proba``, else ``predict``. Rows are drawn, ``feature`` is raised
    by a drawn positive step, and both versions are scored; a violation
    shrinks to the smallest row and step.

    Parameters
    ----------
    model:
        Any object with ``predict`` (numeric) or ``predict_proba``.
    data:
        A DataFrame (rows are drawn like it) or a strategy of frames.
    feature:
        A numeric column.
    increasing:
        The expected direction.
    where:
        ``frame -> boolean mask``: test only rows in this slice
        (``lambda df: df["region"] == "north"``).
    tolerance:
        Changes this small against the direction are noise, not violations.
    max_examples, database:
        As for :func:`check_predictor`.

    Raises
    ------
    mlprod.ConfigurationError
        ``model`` has no ``predict``, ``feature`` is not a numeric column of
        ``data`` (with the closest names), or ``where`` is not callable.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class Risky:  # falls with income only for the north
    ...     def predict(self, X):
    ...         sign = (X["region"] == "north").map({True: -1.0, False: 1.0})
    ...         return (X["income"] * sign).to_numpy()
    >>> X = pd.DataFrame({"income": [0.0, 100.0], "region": ["north", "south"]})
    >>> report = mt.directional(Risky(), X, "income", max_examples=50, database=False)
    >>> report.ok, report.checks[0].counterexample["region"].tolist()
    (False, ['north'])
    """
    check_model(model)
    if where is not None and not callable(where):
        raise ConfigurationError(
            f"where must be a callable frame -> boolean mask, got {type(where).__name__}.",
            parameter="where",
            value=type(where).__name__,
        )
    tol = tolerance_of(tolerance)
    scale = 1.0
    integral = False
    if isinstance(data, pd.DataFrame):
        if feature not in data.columns:
            raise ConfigurationError(
                f"feature {feature!r} is not a column of data{closest(feature, data.columns)}; "
                f"columns are {list(data.columns)}.",
                parameter="feature",
                value=feature,
            )
        column = data[feature]
        if column.dtype.kind not in "iuf":
            raise ConfigurationError(
                f"feature {feature!r} has dtype {column.dtype}; a directional check needs a "
                "numeric column.",
                parameter="feature",
                value=feature,
            )
        integral = column.dtype.kind in "iu"
        span = float(column.max() - column.min()) if column.notna().any() else 0.0
        scale = span if span > 0 else 1.0
    st = optional_import("hypothesis.strategies", feature="mlprod.testing", extra="testing")
    steps = (
        st.integers(1, max(int(scale), 1))
        if integral
        else st.floats(0.0, scale, exclude_min=True, allow_nan=False)
    )
    word = "increasing" if increasing else "decreasing"
    tested = [0]  # drawn examples with at least one row in the slice

    def raised(example: tuple[pd.DataFrame, float]) -> pd.DataFrame:
        frame, step = example
        if feature not in frame.columns:
            raise ConfigurationError(
                f"feature {feature!r} is not in the drawn frames{closest(feature, frame.columns)}.",
                parameter="feature",
                value=feature,
            )
        out = frame.copy()
        out[feature] = frame[feature] + step
        return out

    def fails(example: tuple[pd.DataFrame, float]) -> str | None:
        frame, step = example
        if where is not None:
            mask = np.asarray(where(frame), dtype=bool)
            if mask.shape != (len(frame),):
                raise ConfigurationError(
                    f"where must return one boolean per row, got shape {mask.shape}.",
                    parameter="where",
                    value=getattr(where, "__name__", repr(where)),
                )
            frame = frame[mask].reset_index(drop=True)
            if len(frame) == 0:
                return None
        tested[0] += 1
        higher = raised((frame, step))
        try:
            a, b = score(model, frame), score(model, higher)
        except ConfigurationError:
            raise
        except Exception as exc:
            return f"predict raised {describe_error(exc)}"
        change = (b - a) if increasing else (a - b)
        worst = int(np.argmin(change))
        if change[worst] < -tol:
            return (
                f"raising {feature!r} by {step:g} moved the score from {a[worst]:.6g} to "
                f"{b[worst]:.6g} (expected {word})"
            )
        return None

    def shown(example: tuple[pd.DataFrame, float]) -> pd.DataFrame:
        frame, _ = example
        if where is not None:
            frame = frame[np.asarray(where(frame), dtype=bool)].reset_index(drop=True)
        return frame

    slice_text = " within the slice" if where is not None else ""
    report = run_property(
        f"directional({feature})",
        subject_of(model),
        st.tuples(data_strategy(data), steps),
        fails,
        passed=f"score {word} in {feature!r}{slice_text} on every row and step drawn",
        key_parts=(subject_of(model), data_name(data), feature, increasing),
        max_examples=max_examples,
        database=database,
        shown=shown,
    )
    result = report.checks[0]
    if result.status == "passed" and tested[0] == 0:
        # an empty slice tests nothing: say so rather than pass
        skipped = CheckResult(
            result.name,
            "skipped",
            f"no drawn row fell in the where= slice ({result.examples} examples drawn); "
            "widen the slice or pass data that reaches it",
            result.examples,
        )
        return BehaviourReport(report.subject, (skipped,))
    return report
