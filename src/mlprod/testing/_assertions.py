"""pytest-friendly helpers: ``assert_*`` raise AssertionError showing the counterexample."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from mlprod.errors import ConfigurationError
from mlprod.testing._agreement import consistency, minimum_functionality
from mlprod.testing._predictor import check_predictor
from mlprod.testing._properties import directional, invariance
from mlprod.testing._report import BehaviourReport
from mlprod.testing._search import report_dir, searching

__all__ = [
    "assert_consistency",
    "assert_directional",
    "assert_invariance",
    "assert_minimum_functionality",
    "assert_predictor",
    "behaviour",
]

F = TypeVar("F", bound=Callable[..., Any])


def assert_predictor(model: Any, X_sample: Any, **options: Any) -> BehaviourReport:
    """:func:`check_predictor`, raising ``AssertionError`` with each minimal counterexample.

    Returns the report when every check passed (or was skipped).

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class OneRowCrash:
    ...     def predict(self, X):
    ...         spread = X["x"].iloc[1] - X["x"].iloc[0]  # needs two rows
    ...         return X["x"].to_numpy() * 0 + spread
    >>> try:
    ...     mt.assert_predictor(OneRowCrash(), pd.DataFrame({"x": [1.0, 2.0]}),
    ...                         checks=["one_row"], max_examples=10, database=False)
    ... except AssertionError as exc:
    ...     print(str(exc).splitlines()[0])
    1 of 1 behaviour check(s) failed on OneRowCrash:
    """
    return check_predictor(model, X_sample, **options).assert_ok()


def assert_invariance(model: Any, data: Any, perturb: Any, **options: Any) -> BehaviourReport:
    """:func:`invariance`, raising ``AssertionError`` showing the counterexample frame.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class Zero:
    ...     def predict(self, X):
    ...         return [0] * len(X)
    >>> X = pd.DataFrame({"x": [1.0, 2.0]})
    >>> mt.assert_invariance(Zero(), X, lambda df: df * 2, max_examples=5, database=False).ok
    True
    """
    return invariance(model, data, perturb, **options).assert_ok()


def assert_directional(model: Any, data: Any, feature: str, **options: Any) -> BehaviourReport:
    """:func:`directional`, raising ``AssertionError`` showing the counterexample frame.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class Falls:
    ...     def predict(self, X):
    ...         return -X["x"].to_numpy()
    >>> try:
    ...     mt.assert_directional(Falls(), pd.DataFrame({"x": [0.0, 1.0]}), "x",
    ...                           max_examples=10, database=False)
    ... except AssertionError as exc:
    ...     print("minimal counterexample" in str(exc))
    True
    """
    return directional(model, data, feature, **options).assert_ok()


def assert_minimum_functionality(model: Any, cases: Any, **options: Any) -> BehaviourReport:
    """:func:`minimum_functionality`, raising ``AssertionError`` showing the failing case.

    Examples
    --------
    >>> import mlprod.testing as mt
    >>> class Yes:
    ...     def predict(self, X):
    ...         return [1] * len(X)
    >>> mt.assert_minimum_functionality(Yes(), [({"x": 1.0}, 1)]).ok
    True
    """
    return minimum_functionality(model, cases, **options).assert_ok()


def assert_consistency(model_a: Any, model_b: Any, data: Any, **options: Any) -> BehaviourReport:
    """:func:`consistency`, raising ``AssertionError`` showing where the models disagree.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class Same:
    ...     def predict(self, X):
    ...         return X["x"].to_numpy()
    >>> X = pd.DataFrame({"x": [1.0, 2.0]})
    >>> mt.assert_consistency(Same(), Same(), X, max_examples=5, database=False).ok
    True
    """
    return consistency(model_a, model_b, data, **options).assert_ok()


def _reports(result: Any, name: str) -> BehaviourReport | None:
    if result is None:
        return None
    if isinstance(result, BehaviourReport):
        return result
    if isinstance(result, Iterable) and not isinstance(result, str | bytes):
        return BehaviourReport.combine(list(result), subject=name)
    raise ConfigurationError(
        f"A @behaviour test must return a BehaviourReport, several, or None; {name} returned "
        f"{type(result).__name__}.",
        parameter="return",
        value=type(result).__name__,
    )


def behaviour(
    func: F | None = None,
    *,
    max_examples: int | None = None,
    database: Any = None,
    report: str | Path | None = None,
) -> Any:
    """Decorate a test that returns behaviour reports: it fails when any check fails.

    The test runs with the given search settings (they apply to every check
    it calls that does not set its own); the reports it returns are combined,
    written as HTML and JSON under ``report`` (a directory, or the plugin's
    ``--mlprod-report-dir``) when given, and asserted. Fixture arguments
    pass through, so it stacks with pytest.

    Parameters
    ----------
    max_examples:
        Inputs drawn per check inside the test.
    database:
        Where failing inputs are saved and replayed (see :func:`check_predictor`).
    report:
        A directory to write ``<test name>.html`` and ``.json`` into.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class Doubler:
    ...     def predict(self, X):
    ...         return X["x"].to_numpy() * 2
    >>> @mt.behaviour(max_examples=5, database=False)
    ... def test_doubler():
    ...     X = pd.DataFrame({"x": [1.0, 2.0]})
    ...     return mt.check_predictor(Doubler(), X, checks=["one_row", "determinism"])
    >>> test_doubler()
    """

    def decorate(fn: F) -> F:
        name = getattr(fn, "__name__", "test")

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            with searching(max_examples=max_examples, database=database):
                result = fn(*args, **kwargs)
            combined = _reports(result, name)
            if combined is None:
                return
            target = report if report is not None else report_dir()
            if target is not None:
                folder = Path(target)
                folder.mkdir(parents=True, exist_ok=True)
                combined.to_html(folder / f"{name}.html")
                combined.to_json(folder / f"{name}.json")
            combined.assert_ok()

        wrapper.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    if func is not None:
        if not callable(func):
            raise ConfigurationError(
                "behaviour() takes keyword options: @mt.behaviour(max_examples=50).",
                parameter="func",
                value=type(func).__name__,
            )
        return decorate(func)
    return decorate
