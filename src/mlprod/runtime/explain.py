"""Explanations on the audit trail: which calls to explain, and what their record says.

A guard given ``explainer=`` (anything satisfying
:class:`~mlprod.protocols.Explainer`) explains a sample of the calls its
primary answers, every ``explain_every``-th call or a seeded random
fraction ``explain_rate``, and writes each row's top contributions into that
call's audit record. An unsampled call costs one counter step (or one random
draw); a sampled call costs the explainer's own work, run in the calling
thread after the answer is ready. A failing explainer never fails the
prediction: the record notes the error and the guard counts it.

The runtime sees only the protocol; it never imports the reports package.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import numpy as np

from mlprod._internal.canonical import to_jsonable
from mlprod.errors import ConfigurationError
from mlprod.protocols import Explainer
from mlprod.runtime.policy import n_rows

__all__ = ["ExplainSampler"]


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            f"{name} must be a positive integer, got {value!r}",
            parameter=name,
            value=value,
        )


class ExplainSampler:
    """Decides which calls get explained, and builds the ``explanation`` of their record.

    Parameters
    ----------
    explainer:
        An :class:`~mlprod.protocols.Explainer`: ``feature_names`` and
        ``explain_rows(X) -> (n_rows, n_features)`` contributions.
    every:
        Explain every ``every``-th call answered by the primary (1 = all).
    rate:
        Or explain each such call with this probability (0 < rate <= 1).
    top:
        Contributions kept per row, largest in absolute value first.
    seed:
        Seeds the draws of ``rate``, so a run is reproducible.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprod.runtime.explain import ExplainSampler
    >>> class Linear:
    ...     feature_names = ("age", "income")
    ...     def explain_rows(self, X):
    ...         return np.asarray(X, dtype=float) * [0.1, -2.0]
    >>> sampler = ExplainSampler(Linear(), every=2, top=1)
    >>> [sampler.sample() for _ in range(4)]
    [False, True, False, True]
    >>> sampler.explain([[10, 1.5]])["rows"]
    [[{'feature': 'income', 'value': 1.5, 'contribution': -3.0}]]
    """

    __slots__ = ("_counter", "_rng", "every", "explainer", "rate", "seed", "top")

    def __init__(
        self,
        explainer: Explainer,
        *,
        every: int | None = None,
        rate: float | None = None,
        top: int = 5,
        seed: int | None = 0,
    ) -> None:
        if not callable(getattr(explainer, "explain_rows", None)) or not hasattr(
            explainer, "feature_names"
        ):
            raise ConfigurationError(
                f"explainer must have feature_names and explain_rows(X) (the Explainer "
                f"protocol, e.g. what mp.explainer(model, background) returns), got "
                f"{type(explainer).__name__}",
                parameter="explainer",
                value=repr(explainer),
            )
        if (every is None) == (rate is None):
            raise ConfigurationError(
                "say how often to explain: explain_every=N (every N-th call the primary "
                "answers) or explain_rate=p (a seeded random fraction), not both and not "
                "neither",
                parameter="explain_every",
                value=(every, rate),
            )
        if every is not None:
            _positive_int("explain_every", every)
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not math.isfinite(rate)
            or not 0 < rate <= 1
        ):
            raise ConfigurationError(
                f"explain_rate must be a fraction in (0, 1], got {rate!r}",
                parameter="explain_rate",
                value=rate,
            )
        _positive_int("explain_top", top)
        self.explainer = explainer
        self.every = every
        self.rate = None if rate is None else float(rate)
        self.top = top
        self.seed = seed
        self._counter = itertools.count(1)
        self._rng = random.Random(seed)

    def sample(self) -> bool:
        """Whether this call is explained: one counter step, or one random draw."""
        if self.every is not None:
            return next(self._counter) % self.every == 0
        return self._rng.random() < self.rate  # type: ignore[operator]

    def explain(self, X: Any) -> dict[str, Any]:
        """The ``explanation`` part of an audit record: each row's top contributions.

        Raises whatever the explainer raises, or ``ValueError`` when its
        answer does not have one row of contributions per input row and one
        column per feature name.
        """
        names = tuple(str(n) for n in self.explainer.feature_names)
        contributions = np.asarray(self.explainer.explain_rows(X), dtype=np.float64)
        rows = n_rows(X)
        if rows is None or contributions.shape != (rows, len(names)):
            raise ValueError(
                f"the explainer returned contributions of shape {contributions.shape} for "
                f"{rows} input rows and {len(names)} features; expected ({rows}, {len(names)})"
            )
        values = _feature_values(X, names)
        k = min(self.top, len(names))
        # Largest |contribution| first; NaN sorts last, a stable sort keeps column order on ties.
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
        explained = [
            [
                {
                    "feature": names[j],
                    "value": _plain(values[i, j]),
                    "contribution": _plain(contributions[i, j]),
                }
                for j in order[i].tolist()
            ]
            for i in range(rows)
        ]
        return {"explainer": type(self.explainer).__name__, "top": k, "rows": explained}

    def to_dict(self) -> dict[str, Any]:
        """The sampling settings as plain data."""
        return {
            "explainer": type(self.explainer).__name__,
            "every": self.every,
            "rate": self.rate,
            "top": self.top,
            "seed": self.seed,
        }


def _feature_values(X: Any, names: tuple[str, ...]) -> np.ndarray[Any, Any]:
    """The input as an ``(n_rows, n_features)`` object array, by name when it has columns."""
    columns = getattr(X, "columns", None)
    if columns is not None:
        by_name = {str(c): c for c in columns}
        if all(n in by_name for n in names):
            X = X[[by_name[n] for n in names]]
        values = X.to_numpy(dtype=object)
    else:
        values = np.asarray(X, dtype=object)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise ValueError(
            f"the input has shape {values.shape}, which does not give one value per "
            f"feature name ({len(names)} of them)"
        )
    return np.asarray(values)


def _plain(value: Any) -> Any:
    """A JSON-safe value for the record (NaN and infinity as ``None``)."""
    out = to_jsonable(value, strict=False)
    if isinstance(out, float) and not math.isfinite(out):
        return None
    return out
