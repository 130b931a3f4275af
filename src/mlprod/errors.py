"""One hierarchy of errors, rooted at :class:`MlprodError`.

Every error carries the facts behind it as attributes (so code can act on them)
and a message that says what went wrong, why, and how to fix it (so a person
can). Catch :class:`MlprodError` to catch anything mlprod raises on purpose.

Examples
--------
>>> import mlprod as mp
>>> try:
...     raise mp.NotFound("model", "chrn", candidates=["churn"])
... except mp.MlprodError as exc:
...     print(exc.closest)
['churn']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "BudgetExceeded",
    "ConfigurationError",
    "Conflict",
    "GateFailed",
    "IntegrityError",
    "MissingDependency",
    "MlprodError",
    "NotFound",
    "SchemaError",
    "SerializationError",
    "TooCostly",
    "Unavailable",
]


class MlprodError(Exception):
    """Root of every error mlprod raises on purpose.

    Subclasses keep their structured facts as attributes; ``str(exc)`` is the
    human message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the error's type, message and public attributes as JSON-ready data."""
        from mlprod._internal.canonical import to_jsonable

        facts = {
            key: to_jsonable(value, strict=False)
            for key, value in vars(self).items()
            if not key.startswith("_") and key not in {"message", "args"}
        }
        return {"type": type(self).__name__, "message": self.message, **facts}


class ConfigurationError(MlprodError, ValueError):
    """An argument, option or configuration file is invalid.

    Attributes
    ----------
    parameter:
        The name of the offending argument or setting, when there is one.
    value:
        The value that was given.
    """

    def __init__(self, message: str, *, parameter: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


class MissingDependency(MlprodError, ImportError):
    """An optional dependency is needed for this feature but not installed.

    Attributes
    ----------
    package:
        The importable name that was missing (``"fairlearn"``).
    extra:
        The mlprod extra that installs it (``"reports"``).
    feature:
        What the user was trying to do.
    """

    def __init__(self, package: str, *, extra: str, feature: str | None = None) -> None:
        what = feature or "this feature"
        super().__init__(
            f"{what} needs {package}, which is not installed: pip install 'mlprod[{extra}]'"
        )
        self.package = package
        self.extra = extra
        self.feature = feature
        self.name = package


class SchemaError(MlprodError, ValueError):
    """Data did not satisfy a schema.

    Attributes
    ----------
    report:
        The full :class:`~mlprod.ValidationReport` (every failure, not only the first).
    """

    def __init__(self, message: str, *, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class IntegrityError(MlprodError):
    """Stored bytes or records no longer match the digest recorded for them.

    Attributes
    ----------
    path:
        The file, artifact or log that failed the check.
    expected, actual:
        The recorded and the recomputed digests, when they are known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


class NotFound(MlprodError, LookupError):
    """A named thing (model, version, alias, dataset) does not exist.

    Attributes
    ----------
    kind:
        What was looked up (``"model"``, ``"alias"``, ...).
    key:
        The name or identifier asked for.
    closest:
        Existing names closest to ``key``, best first, to catch typos.
    """

    def __init__(
        self,
        kind: str,
        key: Any,
        *,
        candidates: Iterable[str] = (),
        hint: str | None = None,
    ) -> None:
        pool = [str(c) for c in candidates]
        self.kind = kind
        self.key = key
        self.closest = difflib.get_close_matches(str(key), pool, n=3, cutoff=0.5)
        message = f"No {kind} {key!r}."
        if self.closest:
            message += " Did you mean " + ", ".join(repr(c) for c in self.closest) + "?"
        elif pool:
            shown = ", ".join(repr(c) for c in sorted(pool)[:10])
            message += f" Existing: {shown}" + (" ..." if len(pool) > 10 else "") + "."
        if hint:
            message += f" {hint}"
        super().__init__(message)


class GateFailed(MlprodError):
    """A promotion gate refused to move an alias.

    Attributes
    ----------
    verdicts:
        Every gate's verdict with its evidence, failing and passing alike.
    """

    def __init__(self, message: str, *, verdicts: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.verdicts = list(verdicts)

    @property
    def failed(self) -> list[Any]:
        """The verdicts that did not pass."""
        return [v for v in self.verdicts if not getattr(v, "passed", False)]


class BudgetExceeded(MlprodError, TimeoutError):
    """A deadline or cost budget ran out before the work finished.

    Attributes
    ----------
    budget_ms:
        The budget that applied, in milliseconds (or cost units for a cost budget).
    elapsed_ms:
        How much had been used when the budget ran out.
    """

    def __init__(
        self, message: str, *, budget_ms: float | None = None, elapsed_ms: float | None = None
    ) -> None:
        super().__init__(message)
        self.budget_ms = budget_ms
        self.elapsed_ms = elapsed_ms


class SerializationError(MlprodError):
    """An object could not be serialised or deserialised.

    Attributes
    ----------
    obj_type:
        The type name of the object that failed.
    serializer:
        The serializer in use.
    """

    def __init__(
        self, message: str, *, obj_type: str | None = None, serializer: str | None = None
    ) -> None:
        super().__init__(message)
        self.obj_type = obj_type
        self.serializer = serializer


class Unavailable(MlprodError):
    """A guarded model cannot take the call now, and no fallback answered.

    Raised when a circuit breaker is open or every slot of a guard's bounded
    executor is busy (``outcome`` is ``"breaker_open"`` or ``"shed"``).

    Attributes
    ----------
    outcome:
        Why the call was turned away: ``"breaker_open"`` or ``"shed"``.
    name:
        The guard or breaker that turned it away.
    retry_after_s:
        Seconds until the breaker lets a probe through, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        outcome: str,
        name: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.name = name
        self.retry_after_s = retry_after_s


class Conflict(MlprodError):
    """Another writer changed what this call depended on, again and again; nothing was written.

    Optimistic writes (an alias move whose gates ran against one holder while
    another process moved the alias) retry a few times, then give up with
    this error rather than act on a state they did not judge. Retrying the
    same call is safe.

    Attributes
    ----------
    kind:
        What was contended (``"alias"``).
    key:
        Which one (``"churn@production"``).
    attempts:
        How many times the call tried before giving up.

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.Conflict("busy", kind="alias", key="churn@production", attempts=10)
    >>> err.attempts
    10
    """

    def __init__(self, message: str, *, kind: str, key: str, attempts: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key
        self.attempts = attempts


class TooCostly(ConfigurationError):
    """A run was refused because its estimated cost exceeds the limit; nothing ran.

    Raised by :func:`mlprod.explain` when a permutation explanation of many
    rows, with no bound given, is estimated to take longer than
    ``max_seconds``. The message says how to bound it.

    Attributes
    ----------
    estimated_seconds:
        The estimate (model evaluations × measured seconds per evaluation).
    limit_seconds:
        The limit it exceeded.
    parameter:
        The argument that bounds the cost (``"max_rows"``).
    suggestion:
        A value of that argument that fits the limit.

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.TooCostly("slow", estimated_seconds=900.0, limit_seconds=120.0,
    ...                    parameter="max_rows", suggestion=250)
    >>> isinstance(err, mp.ConfigurationError), err.suggestion
    (True, 250)
    """

    def __init__(
        self,
        message: str,
        *,
        estimated_seconds: float,
        limit_seconds: float,
        parameter: str,
        suggestion: Any = None,
    ) -> None:
        super().__init__(message, parameter=parameter, value=suggestion)
        self.estimated_seconds = estimated_seconds
        self.limit_seconds = limit_seconds
        self.suggestion = suggestion
