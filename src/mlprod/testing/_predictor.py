"""``check_predictor``: the production behaviour every model should have."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlprod.errors import ConfigurationError
from mlprod.testing._calls import check_model, subject_of
from mlprod.testing._checks import CHECKS
from mlprod.testing._context import Context, call_or_crash
from mlprod.testing._report import BehaviourReport, CheckResult

__all__ = ["check_predictor"]


def _selected(checks: str | Iterable[str]) -> list[str]:
    if checks == "all":
        return list(CHECKS)
    if isinstance(checks, str):
        checks = [checks]
    names = list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown or not names:
        raise ConfigurationError(
            f"Unknown check(s) {unknown or names}: choose from {list(CHECKS)} or 'all'.",
            parameter="checks",
            value=unknown or names,
        )
    return names


def check_predictor(
    model: Any,
    X_sample: Any,
    *,
    checks: str | Iterable[str] = "all",
    allow_nan: bool | None = None,
    max_examples: int | None = None,
    database: Any = None,
    threads: int = 4,
    subject: str | None = None,
) -> BehaviourReport:
    """Check that a model behaves in production, and report what was covered.

    Each check draws inputs like ``X_sample`` (:func:`rows_like`), searches
    for a failure and shrinks it to the smallest failing input:

    * ``output_shape``: one output per row, with the sample's shape and dtype;
    * ``one_row``: every single row works (a crash is a failure);
    * ``empty``: zero rows give an empty result or a clear ``ValueError``;
    * ``column_order``: frames with permuted columns give the same output or
      are refused clearly (frame models only);
    * ``dtypes``: int columns as float, text as object / ``str`` /
      categorical give the same output or a clear refusal;
    * ``determinism``: repeated calls on one input agree;
    * ``threads``: concurrent calls from several threads agree with
      sequential ones;
    * ``round_trip``: pickle and joblib copies give identical outputs;
    * ``predict_proba``: rows are probabilities summing to 1 and agree with
      ``predict`` (skipped without ``predict_proba``);
    * ``nan_inf``: NaN or ±inf give an error, or, when handling them is the
      documented behaviour, finite well-shaped outputs.

    Parameters
    ----------
    model:
        Any object with ``predict`` (a fitted estimator, a pipeline, yours).
    X_sample:
        A few rows of real inputs (DataFrame, or a 2-D array for array models).
    checks:
        ``"all"`` or the names of the checks to run.
    allow_nan:
        Whether the model documents handling NaN; ``None`` reads
        scikit-learn's ``allow_nan`` tag (``False`` for other models).
    max_examples:
        Inputs drawn per check; defaults to hypothesis' loaded profile (the
        pytest plugin's ``--mlprod-profile`` sets it).
    database:
        Where failing inputs are saved and replayed first on the next run: a
        directory, a hypothesis database, ``False`` for none, or ``None`` for
        hypothesis' configured one.
    threads:
        How many threads call the model at once in the ``threads`` check.
    subject:
        The name shown in the report (the model's type by default).

    Returns
    -------
    BehaviourReport
        Every check, passed / failed / skipped with why.

    Raises
    ------
    mlprod.ConfigurationError
        ``model`` has no ``predict``, ``X_sample`` is not a non-empty frame
        or array, or ``checks`` names an unknown check.

    Examples
    --------
    >>> import pandas as pd, mlprod.testing as mt
    >>> class Doubler:
    ...     def predict(self, X):
    ...         return X["x"].to_numpy() * 2.0
    >>> report = mt.check_predictor(Doubler(), pd.DataFrame({"x": [1.0, 2.0, 3.0]}),
    ...                             max_examples=10, database=False)
    >>> report.ok, report["nan_inf"].status
    (False, 'failed')
    >>> report["nan_inf"].counterexample  # the smallest input: a NaN gave a number
        x
    0 NaN
    """
    check_model(model)
    names = _selected(checks)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 2:
        raise ConfigurationError(
            f"threads must be an integer >= 2, got {threads!r}.", parameter="threads", value=threads
        )
    name = subject or subject_of(model)
    ctx = Context.build(model, X_sample, subject=name, max_examples=max_examples, database=database)
    reference, error, _ = call_or_crash(lambda: ctx.predict(ctx.sample))
    if error:
        head = CheckResult(
            "sample",
            "failed",
            f"predict raised {error} on X_sample itself; no other check can run",
            1,
            ctx.sample.head(1),
        )
        rest = tuple(CheckResult(n, "skipped", "the model cannot predict X_sample") for n in names)
        return BehaviourReport(name, (head, *rest))
    results = []
    for check in names:
        results.append(
            CHECKS[check](ctx, reference=reference, allow_nan=allow_nan, workers=threads)
        )
    return BehaviourReport(name, tuple(results))
