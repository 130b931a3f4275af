"""One hierarchy of errors, rooted at :class:`MlprodError`.

Every error carries the facts behind it as attributes (so code can act on them)
and a message that says what went wrong, why, and how to fix it (so a person
can). Catch :class:`MlprodError` to catch anything mlprod raises on purpose.

The whole tree, with each error's builtin base, so a plain ``except ValueError``
or ``except LookupError`` says what it already catches (an error without a
base of its own is an ``Exception`` through ``MlprodError``)::

    MlprodError (Exception)
    ├── ConfigurationError (ValueError)
    │   │   bad arguments or configuration
    │   ├── InvalidInput
    │   │   data passed to a function cannot be used as given
    │   ├── TooCostly
    │   │   a run whose estimated cost exceeds its limit; nothing ran
    │   └── UnstorableColumn
    │       a column the dataset store cannot round-trip exactly (names the column)
    ├── SchemaError (ValueError)
    │   data failed validation; carries the report
    ├── MissingDependency (ImportError)
    │   an optional dependency is not installed; names the extra
    ├── NotFound (LookupError)
    │   no such dataset, model, version or alias; suggests the closest
    ├── BudgetExceeded (TimeoutError)
    │   a latency or cost budget ran out; says which quantity and unit
    ├── StorageError (OSError)
    │   a stored file could not be written or read (full disk, permissions)
    ├── DatabaseUnavailable (ConnectionError)
    │   the registry's database cannot be reached
    ├── IntegrityError
    │   stored bytes or records no longer match their digest
    ├── SerializationError
    │   │   an object could not be serialised or deserialised
    │   ├── EncodingError (TypeError)
    │   │   a value has no single canonical JSON form
    │   └── UntrustedFormat
    │       a registry's policy refused a model format before reading it
    ├── GateFailed
    │   a promotion gate refused to move an alias
    ├── Conflict
    │   other writers kept changing what the call depended on
    └── Unavailable
        a guarded model cannot answer now and no fallback did

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

import dataclasses
import datetime as _dt
import difflib
import enum
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "BudgetExceeded",
    "ConfigurationError",
    "Conflict",
    "DatabaseUnavailable",
    "EncodingError",
    "GateFailed",
    "IntegrityError",
    "InvalidInput",
    "MissingDependency",
    "MlprodError",
    "NotFound",
    "SchemaError",
    "SerializationError",
    "StorageError",
    "TooCostly",
    "Unavailable",
    "UnstorableColumn",
    "UntrustedFormat",
]


class MlprodError(Exception):
    """Root of every error mlprod raises on purpose.

    Subclasses keep their structured facts as attributes; ``str(exc)`` is the
    human message.
    """

    __module__ = "mlprod"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the error's type, message and public attributes as JSON-ready data."""
        facts = {
            key: _plain(value)
            for key, value in vars(self).items()
            if not key.startswith("_") and key not in {"message", "args"}
        }
        return {"type": type(self).__name__, "message": self.message, **facts}


def _plain(value: Any) -> Any:
    """JSON-ready facts, without the canonical encoder (which sits above errors).

    Plain JSON types pass; mappings, sequences and sets recurse; objects with
    ``to_dict()`` (reports, verdicts), dataclasses, datetimes, enums and
    numpy scalars convert; anything else becomes its ``repr``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        try:
            return _plain(to_dict())
        except TypeError:
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _plain(item())
        except (TypeError, ValueError):
            pass
    return repr(value)


class ConfigurationError(MlprodError, ValueError):
    """An argument, option or configuration file is invalid.

    Attributes
    ----------
    parameter:
        The name of the offending argument or setting, when there is one.
    value:
        The value that was given.
    """

    __module__ = "mlprod"

    def __init__(self, message: str, *, parameter: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


class InvalidInput(ConfigurationError):
    """Data passed to a function cannot be used as given (lengths, labels, NaN, ranges).

    Attributes
    ----------
    parameter:
        The argument that holds the problem (``"y_score"``).
    found:
        What was found there, in a few words (``"3 values outside [0, 1]"``).

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.InvalidInput("bad", parameter="y_true", found="0 rows")
    >>> isinstance(err, ValueError), err.parameter
    (True, 'y_true')
    """

    def __init__(self, message: str, *, parameter: str, found: str) -> None:
        super().__init__(message, parameter=parameter, value=None)
        self.found = found


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

    __module__ = "mlprod"

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

    __module__ = "mlprod"

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

    __module__ = "mlprod"

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

    __module__ = "mlprod"

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

    __module__ = "mlprod"

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
    limit:
        The budget that applied, in ``unit``.
    spent:
        How much of it had been used when it ran out, in ``unit``.
    unit:
        ``"ms"`` for a latency budget or deadline; for a cost budget, the
        cost unit per window, e.g. ``"cost per 3600 s"``.
    budget_ms, elapsed_ms:
        ``limit`` and ``spent`` of a time budget (``None`` for a cost budget,
        whose amounts are not milliseconds).

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.BudgetExceeded("spent", limit=5.0, spent=5.2, unit="cost per 60 s")
    >>> err.limit, err.unit, err.budget_ms
    (5.0, 'cost per 60 s', None)
    >>> mp.BudgetExceeded("late", budget_ms=50.0, elapsed_ms=61.0).unit
    'ms'
    """

    __module__ = "mlprod"

    def __init__(
        self,
        message: str,
        *,
        budget_ms: float | None = None,
        elapsed_ms: float | None = None,
        limit: float | None = None,
        spent: float | None = None,
        unit: str | None = None,
    ) -> None:
        super().__init__(message)
        time_budget = unit in (None, "ms")
        self.budget_ms = budget_ms if budget_ms is not None or not time_budget else limit
        self.elapsed_ms = elapsed_ms if elapsed_ms is not None or not time_budget else spent
        self.limit = limit if limit is not None else self.budget_ms
        self.spent = spent if spent is not None else self.elapsed_ms
        self.unit = unit if unit is not None else "ms"


class SerializationError(MlprodError):
    """An object could not be serialised or deserialised.

    Attributes
    ----------
    obj_type:
        The type name of the object that failed.
    serializer:
        The serializer in use.
    """

    __module__ = "mlprod"

    def __init__(
        self, message: str, *, obj_type: str | None = None, serializer: str | None = None
    ) -> None:
        super().__init__(message)
        self.obj_type = obj_type
        self.serializer = serializer


class EncodingError(SerializationError, TypeError):
    """A value has no single canonical JSON form (e.g. keys ``1`` and ``"1"`` in one mapping).

    A ``TypeError`` like the standard library's "not JSON serializable", so
    code that falls back on unencodable values keeps working.

    Attributes
    ----------
    keys:
        The mapping keys that collide, as their ``repr``.
    path:
        Where in the value the unencodable part sits, as the keys and list
        indexes that lead to it (``("inputs", "c", 0)``); empty when the
        value itself is the problem or keys collide.
    """

    def __init__(
        self,
        message: str,
        *,
        keys: Sequence[str] = (),
        obj_type: str | None = None,
        path: Sequence[Any] = (),
    ) -> None:
        super().__init__(message, obj_type=obj_type, serializer="canonical-json")
        self.keys = tuple(keys)
        self.path = tuple(path)


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

    __module__ = "mlprod"

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

    __module__ = "mlprod"

    def __init__(self, message: str, *, kind: str, key: str, attempts: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key
        self.attempts = attempts


class UntrustedFormat(SerializationError):
    """A registry's policy refused a model format before reading any of its bytes.

    Raised by a :class:`~mlprod.ModelRegistry` opened with
    ``trusted_serializers=`` (or ``safe=True``) when a version was written, or
    is asked to be read, with a serializer outside that set: a pickle would run
    whatever code its writer chose.

    Attributes
    ----------
    serializer:
        The serializer that was refused (``"joblib"``).
    trusted:
        The serializers the registry accepts, sorted.
    ref:
        The version concerned (``"churn:3"``), when there is one.

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.UntrustedFormat("no", serializer="joblib", trusted=["skops"], ref="churn:1")
    >>> err.trusted, isinstance(err, mp.SerializationError)
    (('skops',), True)
    """

    def __init__(
        self, message: str, *, serializer: str, trusted: Iterable[str], ref: str | None = None
    ) -> None:
        super().__init__(message, serializer=serializer)
        self.trusted = tuple(sorted(trusted))
        self.ref = ref


class StorageError(MlprodError, OSError):
    """Writing or reading stored files failed (a full disk, a file size limit, no permission).

    Nothing was committed: a failed write leaves the previous state intact.
    Catching ``OSError`` catches it too.

    Attributes
    ----------
    path:
        The file, folder or URL the operation was on.
    operation:
        What was being done (``"write artifact"``).
    reason:
        The operating system's (or the storage service's) own message.

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.StorageError("full", path="/reg/artifacts", operation="write artifact",
    ...                       reason="No space left on device")
    >>> isinstance(err, OSError), err.operation
    (True, 'write artifact')
    """

    def __init__(self, message: str, *, path: str, operation: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.operation = operation
        self.reason = reason


class DatabaseUnavailable(MlprodError, ConnectionError):
    """The registry's database cannot be reached (server down, wrong host or port, refused login).

    Attributes
    ----------
    url:
        The database URL, password hidden.
    reason:
        The driver's message.

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.DatabaseUnavailable("down", url="postgresql://u:***@db/reg", reason="refused")
    >>> isinstance(err, ConnectionError), err.url
    (True, 'postgresql://u:***@db/reg')
    """

    def __init__(self, message: str, *, url: str, reason: str) -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason


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


class UnstorableColumn(ConfigurationError):
    """A column of a frame cannot be stored so that it loads back exactly.

    Raised by :meth:`~mlprod.DatasetStore.commit` before anything is written.

    Attributes
    ----------
    column:
        The offending column's name (as given).
    reason:
        Why it cannot be stored (``"complex numbers"``, ``"name is NaN"``, ...).

    Examples
    --------
    >>> import mlprod as mp
    >>> err = mp.UnstorableColumn("no", column="z", reason="complex numbers")
    >>> isinstance(err, ValueError), err.column, err.reason
    (True, 'z', 'complex numbers')
    """

    def __init__(self, message: str, *, column: Any, reason: str) -> None:
        super().__init__(message, parameter="df", value=repr(column))
        self.column = column
        self.reason = reason


# Every error reports its public path (mlprod.NotFound), however it was added.
for _name in __all__:
    globals()[_name].__module__ = "mlprod"
del _name
